//! The training report: the model card's metrics plus the n-grams that weigh most for
//! each class, as JSON (`<name>.report.json`) and Markdown (`<name>.report.md`), and the
//! summary table that `train` prints.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::domain::Stance;
use crate::model::{
    BinaryMetrics, Model, ModelCard, RealDataEvaluation, RealDataRow, StanceMetrics,
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NgramWeight {
    pub ngram: String,
    pub kind: crate::features::NgramKind,
    pub weight: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub card: ModelCard,
    /// `head → {"positive": [...], "negative": [...]}`; `stance:<target> → {class: [...]}`.
    pub top_ngrams: BTreeMap<String, BTreeMap<String, Vec<NgramWeight>>>,
    /// The unintended-bias check of the toxicity head, when the templates were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bias: Option<super::bias::BiasReport>,
    /// The cross-corpus and French tables, when measured for this model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realdata: Option<RealDataEvaluation>,
}

const TOP: usize = 15;

fn top(model: &Model, output: usize, sign: f32) -> Vec<NgramWeight> {
    let mut w: Vec<(usize, f32)> = (0..model.vectorizer.n_features())
        .map(|f| (f, model.weight(f, output)))
        .filter(|(_, w)| w * sign > 0.0)
        .collect();
    w.sort_by(|a, b| (b.1 * sign).total_cmp(&(a.1 * sign)).then(a.0.cmp(&b.0)));
    w.into_iter()
        .take(TOP)
        .map(|(f, weight)| {
            let (kind, ngram) = model.vectorizer.feature_name(f);
            NgramWeight {
                ngram: ngram.to_owned(),
                kind,
                weight,
            }
        })
        .collect()
}

fn r3(x: f64) -> String {
    format!("{x:.3}")
}

impl Report {
    pub fn new(model: &Model) -> Self {
        let mut top_ngrams = BTreeMap::new();
        for (i, h) in model.card.heads.iter().enumerate() {
            let mut m = BTreeMap::new();
            m.insert("positive".to_owned(), top(model, i, 1.0));
            m.insert("negative".to_owned(), top(model, i, -1.0));
            top_ngrams.insert(h.name.to_string(), m);
        }
        let nh = model.card.heads.len();
        for (t, s) in model.card.stance.iter().enumerate() {
            let mut m = BTreeMap::new();
            for c in Stance::ALL {
                m.insert(
                    c.as_str().to_owned(),
                    top(model, nh + 3 * t + c.index(), 1.0),
                );
            }
            top_ngrams.insert(format!("stance:{}", s.target), m);
        }
        Report {
            card: model.card.clone(),
            top_ngrams,
            bias: None,
            realdata: None,
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("report serialises");
        s.push('\n');
        s
    }

    /// The plain-text table `train` prints: one line per binary head and per stance target
    /// (cross-validated and held-out quality), then the penalties at an end of the grid and
    /// the calibration maps.
    pub fn summary(&self) -> String {
        let card = &self.card;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<16} {:>5} {:>5} {:>6} {:>5} {:>6} {:>8} {:>6} {:>9} {:>7}",
            "head",
            "pos",
            "neg",
            "alpha",
            "flag",
            "reject",
            "cv_auc",
            "cv_f1",
            "held_auc",
            "held_f1"
        );
        for h in &card.heads {
            let (ha, hf) = h.heldout.as_ref().map_or(("-".into(), "-".into()), |m| {
                (format!("{:.3}", m.roc_auc), format!("{:.3}", m.f1))
            });
            let _ = writeln!(
                out,
                "{:<16} {:>5} {:>5} {:>6} {:>5.2} {:>6.2} {:>8.3} {:>6.3} {:>9} {:>7}",
                h.name.as_str(),
                h.positives,
                h.negatives,
                h.alpha,
                h.thresholds.flag,
                h.thresholds.reject,
                h.cv.roc_auc,
                h.cv.f1,
                ha,
                hf
            );
        }
        for s in &card.stance {
            let held = s
                .heldout
                .as_ref()
                .map_or("-".into(), |m| format!("{:.3}", m.f_avg));
            let _ = writeln!(
                out,
                "stance:{:<9} n={:<4} alpha={:<5} cv_macro_f1={:.3} cv_f_avg={:.3} held_f_avg={}",
                s.target.as_str(),
                s.counts.values().sum::<usize>(),
                s.alpha,
                s.cv.macro_f1,
                s.cv.f_avg,
                held
            );
        }
        for (name, alpha, edge) in card.penalties_at_grid_edge() {
            let _ = writeln!(
                out,
                "note: {name} chose alpha {alpha}, {edge}; a wider --alphas may fit better"
            );
        }
        for h in &card.heads {
            if let Some(p) = h.calibration {
                let _ = writeln!(
                    out,
                    "calibration: {} p = σ({:.3}·z {:+.3})",
                    h.name.as_str(),
                    p.a,
                    p.b
                );
            }
        }
        out
    }

    pub fn to_markdown(&self) -> String {
        let c = &self.card;
        let mut md = String::new();
        overview_markdown(c, &mut md);
        heads_markdown(c, &mut md);
        stance_markdown(c, &mut md);
        notes_markdown(c, &mut md);
        if let Some(r) = &self.realdata {
            md.push_str(&realdata_markdown(r));
        }
        top_ngrams_markdown(&self.top_ngrams, &mut md);
        if let Some(b) = &self.bias {
            let _ = writeln!(
                md,
                "\n## Unintended bias\n\nNeutral and hostile template sentences over identity terms (`training/bias/`, never trained on). FPR: share of a term's neutral sentences flagged; FNR: share of its hostile ones missed; FPED: Σ over terms of |FPR − FPR of all identity terms|. The 15 terms with the highest FPR:\n\n{}",
                b.to_markdown(15)
            );
        }
        md
    }
}

/// Title, data, sources and the held-out file.
fn overview_markdown(c: &ModelCard, md: &mut String) {
    let _ = writeln!(md, "# Model report: `{}`\n", c.model_id);
    let _ = writeln!(
        md,
        "Data hash `{}`; {} training items ({}); {} features; {}-fold cross-validation over alpha ∈ {:?}; class weight {}.\n",
        c.data_hash,
        c.training.items,
        c.training.by_lang.iter().map(|(l, n)| format!("{l}: {n}")).collect::<Vec<_>>().join(", "),
        c.n_features,
        c.training.folds,
        c.training.alphas,
        c.training.class_weight,
    );
    let _ = writeln!(md, "Sources:\n");
    for s in &c.training.sources {
        let _ = writeln!(
            md,
            "- `{}`: {} items, sha256 `{}`",
            s.name,
            s.items,
            &s.sha256[..16]
        );
    }
    if let Some(h) = &c.training.heldout {
        let _ = writeln!(
            md,
            "- held out (not trained on): `{}`: {} items, sha256 `{}`",
            h.name,
            h.items,
            &h.sha256[..16]
        );
    }
    if c.training
        .sources
        .iter()
        .any(|s| s.name.contains(super::data::NOT_A_REFERENCE))
    {
        let _ = writeln!(
            md,
            "\nPenalties, calibration, thresholds and the CV columns are read off the out-of-fold scores of the reference items only (sources whose labels follow `training/GUIDELINES.md`).",
        );
    }
}

/// The binary heads' table.
fn heads_markdown(c: &ModelCard, md: &mut String) {
    let _ = writeln!(md, "\n## Binary heads\n");
    let _ = writeln!(md, "| head | pos | neg | alpha | flag | reject | CV ROC-AUC | CV AP | CV F1 | CV macro-F1 | CV Brier | held-out ROC-AUC | held-out F1 | held-out macro-F1 |");
    let _ = writeln!(
        md,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    let ho = |m: &Option<BinaryMetrics>, f: fn(&BinaryMetrics) -> f64| {
        m.as_ref().map_or("–".into(), |m| r3(f(m)))
    };
    for h in &c.heads {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} | {} | {} |",
            h.name,
            h.positives,
            h.negatives,
            h.alpha,
            h.thresholds.flag,
            h.thresholds.reject,
            r3(h.cv.roc_auc),
            r3(h.cv.average_precision),
            r3(h.cv.f1),
            r3(h.cv.macro_f1),
            r3(h.cv.brier),
            ho(&h.heldout, |m| m.roc_auc),
            ho(&h.heldout, |m| m.f1),
            ho(&h.heldout, |m| m.macro_f1),
        );
    }
}

/// The stance targets' table.
fn stance_markdown(c: &ModelCard, md: &mut String) {
    let _ = writeln!(md, "\n## Stance\n");
    let _ = writeln!(md, "| target | favor | against | none | alpha | CV macro-F1 | CV F_avg | held-out macro-F1 | held-out F_avg |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
    let hs = |m: &Option<StanceMetrics>, f: fn(&StanceMetrics) -> f64| {
        m.as_ref().map_or("–".into(), |m| r3(f(m)))
    };
    for s in &c.stance {
        let n = |st: Stance| s.counts.get(&st).copied().unwrap_or(0);
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.target,
            n(Stance::Favor),
            n(Stance::Against),
            n(Stance::None),
            s.alpha,
            r3(s.cv.macro_f1),
            r3(s.cv.f_avg),
            hs(&s.heldout, |m| m.macro_f1),
            hs(&s.heldout, |m| m.f_avg),
        );
    }
}

/// Penalties at an end of the grid, calibrated heads.
fn notes_markdown(c: &ModelCard, md: &mut String) {
    let edges: Vec<String> = c
        .penalties_at_grid_edge()
        .iter()
        .map(|(name, alpha, edge)| format!("`{name}` ({alpha}, {edge})"))
        .collect();
    if !edges.is_empty() {
        let _ = writeln!(
            md,
            "\nPenalty at an end of the grid: {}. Cross-validation only tells that the best penalty is there or beyond; retrain with a wider `--alphas` to look further.",
            edges.join(", ")
        );
    }
    let calibrated: Vec<String> = c
        .heads
        .iter()
        .filter_map(|h| {
            h.calibration
                .map(|p| format!("`{}` (σ({:.3}·z {:+.3}))", h.name, p.a, p.b))
        })
        .collect();
    if !calibrated.is_empty() {
        let _ = writeln!(
            md,
            "\nCalibrated by Platt scaling on the out-of-fold logits z (folded into the weights; the CV metrics and thresholds above are on the calibrated scores): {}.",
            calibrated.join(", ")
        );
    }
}

/// The n-grams that weigh most, per head or target and class.
fn top_ngrams_markdown(
    top_ngrams: &BTreeMap<String, BTreeMap<String, Vec<NgramWeight>>>,
    md: &mut String,
) {
    let _ = writeln!(md, "\n## Top weighted n-grams\n\nCharacter n-grams are shown between `⟨⟩`, with `␣` for the word-boundary padding; lexicon categories as `[lexicon: …]`.\n");
    for (head, classes) in top_ngrams {
        for (class, grams) in classes {
            let list: Vec<String> = grams
                .iter()
                .map(|g| match g.kind {
                    crate::features::NgramKind::Word => {
                        format!("{} ({:+.2})", g.ngram, g.weight)
                    }
                    crate::features::NgramKind::Char => {
                        format!("⟨{}⟩ ({:+.2})", g.ngram.replace(' ', "␣"), g.weight)
                    }
                    crate::features::NgramKind::Lexicon => {
                        format!("[lexicon: {}] ({:+.2})", g.ngram, g.weight)
                    }
                })
                .collect();
            let _ = writeln!(md, "- **{head} / {class}**: {}", list.join(", "));
        }
    }
}

/// The two real-data tables of the report.
fn realdata_markdown(r: &RealDataEvaluation) -> String {
    let table = |rows: &[RealDataRow]| {
        let mut t = String::from("| corpus | head | items | positives | ROC-AUC | Brier |\n|---|---|---:|---:|---:|---:|\n");
        for row in rows {
            let _ = writeln!(
                t,
                "| {} | {} | {} | {} | {} | {} |",
                row.corpus,
                row.head,
                row.items,
                row.positives,
                r3(row.roc_auc),
                r3(row.brier)
            );
        }
        t
    };
    format!(
        "\n## Real text never trained on\n\nMeasured by `bench/realdata/run.sh`. **Cross-corpus**: each real training corpus scored by a model trained the same way on everything else (what a site whose comments resemble none of the training data can expect):\n\n{}\n**French**: RTP-LX French (`../shared/data/rtp-lx-fr`, evaluation only; gold toxicity = mean Toxicity ≥ 3, insult = Insult ≥ 2, identity_attack = IdentityAttack ≥ 2, threat = Violence ≥ 2), scored by this model:\n\n{}",
        table(&r.cross_corpus),
        table(&r.french)
    )
}
