//! The learning curve (issue 24): how fast a site's moderators teach the model.
//!
//! A labeled corpus the base model never trained on plays the site. A hash of the id splits
//! it into the site's pool and the site's test set. Simulated moderators label `k` comments
//! of the pool, chosen (a) at random or (b) by the teach order run on the model of the
//! previous step, and each step retrains through the service's own path
//! (`learning::retrain::retrain`: base data plus the site's labels, the champion's penalties,
//! a share of the labels held out to judge). The ROC-AUC on the site's test set of the
//! challenger at each `k`, and the paired-bootstrap intervals, go to `OUT.curve.json`;
//! `bench/learning_curve/plot.py` draws and tabulates them. Run by
//! `bench/learning_curve/run.sh`, not by `cargo bench` alone (it needs its arguments).

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use serde_json::json;

use vigie::corpus::{read_jsonl, Record};
use vigie::learning::retrain::{
    retrain, site_labels_learned, split_site, RetrainParams, ValidRetrainParams,
};
use vigie::learning::{teach_order, Candidate, TeachParams};
use vigie::model::Model;
use vigie::train::metrics::{paired_bootstrap_auc, roc_auc, PairedAuc};
use vigie::train::sources::{load_base, Base, BaseFiles};

#[derive(Parser)]
struct Args {
    /// Name of the site corpus (the output's name).
    #[arg(long)]
    corpus: String,
    /// Training manifest of the base (the default one without the site corpus).
    #[arg(long)]
    manifest: PathBuf,
    /// The model trained on that manifest: the champion at k = 0.
    #[arg(long)]
    champion: PathBuf,
    /// The site's labeled comments (canonical JSONL).
    #[arg(long)]
    site: PathBuf,
    /// Keep only the site's comments in this language.
    #[arg(long)]
    lang: Option<String>,
    /// The head the test set measures (the site's items without it are left out).
    #[arg(long)]
    head: String,
    /// Site labels at each step.
    #[arg(long, value_delimiter = ',', default_value = "50,100,200,500,1000")]
    ks: Vec<usize>,
    /// Share of the site held out as its test set.
    #[arg(long, default_value_t = 0.3)]
    test_share: f64,
    /// Weight of each site label in the loss (`RetrainParams::site_weight`).
    #[arg(long)]
    site_weight: Option<f64>,
    /// Share of the teach order's picks drawn at random (`TeachParams::random_share`).
    #[arg(long)]
    random_share: Option<f64>,
    /// Similarity above which the teach order passes a comment over
    /// (`TeachParams::max_similarity`).
    #[arg(long)]
    max_similarity: Option<f32>,
    /// Site labels a model must have learned from before the teach order's uncertainty
    /// leads (`TeachParams::warm_up`).
    #[arg(long)]
    warm_up: Option<usize>,
    /// Project folder (seeds, held-out file).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Heads the teach order takes turns over (default: every head the site labels).
    #[arg(long, value_delimiter = ',')]
    teach_heads: Vec<String>,
    /// Random draws: the random strategy runs this many times, each draw labeling the pool
    /// in another hash order. Two random draws of 50 labels can differ by more than the test
    /// set's paired interval, so the teach order is read against their spread too.
    #[arg(long, default_value_t = 1)]
    random_draws: u32,
    /// Run one strategy only (`random` or `teach`) and print its curve, writing no file:
    /// for trying settings.
    #[arg(long)]
    only: Option<String>,
    /// Output file (JSON).
    #[arg(long)]
    out: PathBuf,
    /// `cargo bench` passes `--bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The site: a pool to label from and a test set, in a fixed order.
struct Site {
    pool: Vec<Record>,
    test: Vec<Record>,
    test_labels: Vec<bool>,
}

fn read_site(a: &Args) -> anyhow::Result<Site> {
    let head = a.head.as_str();
    let records: Vec<Record> = read_jsonl(&a.site)?
        .into_iter()
        .filter(|r| {
            a.lang
                .as_deref()
                .is_none_or(|l| r.lang.is_some_and(|x| l.parse() == Ok(x)))
        })
        .filter(|r| r.labels.binary.keys().any(|h| h.as_str() == head))
        .collect();
    let split = split_site(&records, a.test_share, 7);
    let test_labels = (split.heldout.iter())
        .map(|r| label(r, head).expect("filtered on the head"))
        .collect();
    Ok(Site {
        pool: split.train,
        test: split.heldout,
        test_labels,
    })
}

fn label(r: &Record, head: &str) -> Option<bool> {
    let mut it = r.labels.binary.iter();
    it.find(|(h, _)| h.as_str() == head).map(|(_, &v)| v == 1)
}

/// P(head) of each test comment.
fn test_scores(model: &Model, head: &str, test: &[Record]) -> Vec<f64> {
    let h = model.head_index(head).expect("the model has the head");
    test.iter()
        .map(|r| f64::from(model.head_probabilities(&model.analyze(&r.text, None))[h]))
        .collect()
}

/// The heads the site labels (or those of `only`), as the model's indices: the teach order
/// takes turns over them.
fn site_heads(model: &Model, pool: &[Record], only: &[String]) -> Vec<usize> {
    let mut heads: Vec<usize> = (pool.iter())
        .flat_map(|r| r.labels.binary.keys())
        .filter(|h| only.is_empty() || only.iter().any(|o| o == h.as_str()))
        .filter_map(|h| model.head_index(h.as_str()))
        .collect();
    heads.sort_unstable();
    heads.dedup();
    heads
}

/// The next `n` comments of `pool` not yet labeled, in the teach order of `model`.
fn teach_next(
    model: &Model,
    pool: &[Record],
    labeled: &[bool],
    n: usize,
    teach: &TeachParams,
    only: &[String],
) -> Vec<usize> {
    let heads = site_heads(model, pool, only);
    let open: Vec<usize> = (0..pool.len()).filter(|&i| !labeled[i]).collect();
    let analyses: Vec<_> = (open.iter())
        .map(|&i| model.analyze(&pool[i].text, None))
        .collect();
    let probabilities: Vec<Vec<f32>> = (analyses.iter())
        .map(|a| {
            let p = model.head_probabilities(a);
            heads.iter().map(|&h| p[h]).collect()
        })
        .collect();
    let candidates: Vec<Candidate> = (open.iter().enumerate())
        .map(|(j, &i)| Candidate {
            key: &pool[i].id,
            row: &analyses[j].row,
            probabilities: &probabilities[j],
        })
        .collect();
    let params = TeachParams {
        thresholds: heads
            .iter()
            .map(|&h| model.card.heads[h].thresholds.flag)
            .collect(),
        learned: site_labels_learned(model),
        ..teach.clone()
    };
    let order = teach_order(&candidates, n, &params);
    order.into_iter().map(|j| open[j]).collect()
}

/// The pool in a fixed random order (the strategy a site gets by labeling what comes), one
/// order per draw.
fn random_order(pool: &[Record], draw: u32) -> Vec<usize> {
    let key = |i: usize| match draw {
        0 => format!("random:{}", pool[i].id),
        d => format!("random:{d}:{}", pool[i].id),
    };
    let mut order: Vec<usize> = (0..pool.len()).collect();
    order.sort_by_key(|&i| vigie::util::sha256_hex(key(i).as_bytes()));
    order
}

/// How the simulated moderators pick the comments they label.
#[derive(Clone, Copy)]
enum Strategy {
    Random { draw: u32 },
    Teach,
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Strategy::Random { draw: 0 } => write!(f, "random"),
            Strategy::Random { draw } => write!(f, "random draw {draw}"),
            Strategy::Teach => write!(f, "teach"),
        }
    }
}

/// One strategy's run: the test scores of the challenger at each k, and its retrain time.
struct Step {
    scores: Vec<f64>,
    seconds: f64,
}

fn run_strategy(
    a: &Args,
    base: &Base,
    champion: &Model,
    site: &Site,
    strategy: Strategy,
    params: &ValidRetrainParams,
) -> anyhow::Result<Vec<Step>> {
    let draw = match strategy {
        Strategy::Random { draw } => draw,
        Strategy::Teach => 0,
    };
    let random = random_order(&site.pool, draw);
    let mut labeled = vec![false; site.pool.len()];
    let mut chosen: Vec<usize> = Vec::new();
    let mut model: Option<Model> = None;
    let mut steps = Vec::new();
    for &k in &a.ks {
        let k = k.min(site.pool.len());
        let need = k - chosen.len().min(k);
        let next = if let Strategy::Teach = strategy {
            teach_next(
                model.as_ref().unwrap_or(champion),
                &site.pool,
                &labeled,
                need,
                &teach_params(a),
                &a.teach_heads,
            )
        } else {
            random[chosen.len()..k].to_vec()
        };
        for i in next {
            labeled[i] = true;
            chosen.push(i);
        }
        let labels: Vec<Record> = chosen.iter().map(|&i| site.pool[i].clone()).collect();
        let t0 = Instant::now();
        let retrained = retrain(base, &labels, champion, params, &())?;
        let seconds = t0.elapsed().as_secs_f64();
        let scores = test_scores(&retrained.challenger, &a.head, &site.test);
        eprintln!(
            "{} {strategy} k={k}: AUC {:.4} ({seconds:.0} s)",
            a.corpus,
            roc_auc(&scores, &site.test_labels).unwrap_or(f64::NAN)
        );
        steps.push(Step { scores, seconds });
        model = Some(retrained.challenger);
    }
    Ok(steps)
}

/// The teach order's settings: the defaults, or those the arguments give.
fn teach_params(a: &Args) -> TeachParams {
    let d = TeachParams::default();
    TeachParams {
        random_share: a.random_share.unwrap_or(d.random_share),
        max_similarity: a.max_similarity.unwrap_or(d.max_similarity),
        warm_up: a.warm_up.unwrap_or(d.warm_up),
        ..d
    }
}

fn paired(a: &[f64], b: &[f64], labels: &[bool]) -> PairedAuc {
    paired_bootstrap_auc(a, b, labels, 1000, 42).expect("the test set holds both classes")
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let site = read_site(&a)?;
    let champion = Model::load(&a.champion)?;
    let base = load_base(&BaseFiles {
        manifest: a.manifest.clone(),
        ..BaseFiles::in_dir(&a.root)
    })?;
    let d = RetrainParams::default();
    let params = RetrainParams {
        train: base.default_params(),
        site_weight: a.site_weight.unwrap_or(d.site_weight),
        ..d
    }
    .check()?;
    let base_scores = test_scores(&champion, &a.head, &site.test);
    let base_auc = roc_auc(&base_scores, &site.test_labels).expect("both classes");
    eprintln!("{} base AUC {base_auc:.4}", a.corpus);
    let run = |strategy| run_strategy(&a, &base, &champion, &site, strategy, &params);
    if let Some(only) = &a.only {
        anyhow::ensure!(
            only == "random" || only == "teach",
            "--only random or teach"
        );
        if only == "teach" {
            run(Strategy::Teach)?;
        }
        for draw in (0..a.random_draws).filter(|_| only == "random") {
            run(Strategy::Random { draw })?;
        }
        return Ok(());
    }
    let random = run(Strategy::Random { draw: 0 })?;
    let teach = run(Strategy::Teach)?;
    let labels = &site.test_labels;
    // Every draw's AUC at each k, draw 0 (the one paired with the teach order) first.
    let aucs = |steps: &[Step]| -> Vec<Option<f64>> {
        steps.iter().map(|s| roc_auc(&s.scores, labels)).collect()
    };
    let mut draws = vec![aucs(&random)];
    for draw in 1..a.random_draws {
        draws.push(aucs(&run(Strategy::Random { draw })?));
    }
    let side = |s: &Step| {
        json!({"auc": roc_auc(&s.scores, labels), "seconds": s.seconds,
               "gain": paired(&base_scores, &s.scores, labels)})
    };
    let points: Vec<_> = (a.ks.iter().zip(random.iter().zip(&teach)).enumerate())
        .map(|(i, (k, (r, t)))| {
            json!({"k": k, "random": side(r), "teach": side(t),
                   "teach_minus_random": paired(&r.scores, &t.scores, labels),
                   "random_draws": draws.iter().map(|d| d[i]).collect::<Vec<_>>()})
        })
        .collect();
    let out = json!({
        "corpus": a.corpus, "head": a.head, "pool": site.pool.len(), "test": site.test.len(),
        "test_positives": labels.iter().filter(|&&l| l).count(),
        "base_model": champion.card.model_id, "base_auc": base_auc, "points": points,
        "site_weight": params.params().site_weight, "teach": format!("{:?}", teach_params(&a)),
        "teach_heads": a.teach_heads,
    });
    std::fs::write(&a.out, serde_json::to_string_pretty(&out)? + "\n")?;
    Ok(())
}
