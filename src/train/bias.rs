//! Unintended-bias check (Dixon et al. 2018): sentence templates filled with identity
//! terms, scored by a head; the false-positive rate of the neutral sentences per term shows
//! which identities the model has learned to treat as toxic in themselves.
//!
//! The templates (`training/bias/templates.tsv`) are evaluation data only; the mitigation
//! is training data of its own (`training/bias/augment.jsonl`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::domain::Lang;
use crate::model::Model;

/// One identity (or control) term with the forms the templates need; `None` where the term
/// has no such form (the templates that need it are skipped).
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub lang: Lang,
    pub group: String,
    pub category: String,
    pub sg_m: Option<String>,
    pub sg_f: Option<String>,
    pub pl: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub lang: Lang,
    pub hostile: bool,
    pub text: String,
}

/// A filled template.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub term: usize,
    pub hostile: bool,
    pub text: String,
}

/// Rows of a `#`-commented TSV with a header line, as maps from column to cell.
fn tsv_rows(path: &Path) -> Result<Vec<BTreeMap<String, String>>, String> {
    let content = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = content
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| format!("{}: no header line", path.display()))?
        .1
        .split('\t')
        .collect();
    lines
        .map(|(i, l)| {
            let cells: Vec<&str> = l.split('\t').collect();
            if cells.len() != header.len() {
                return Err(format!(
                    "{}:{}: {} cells, the header has {}",
                    path.display(),
                    i + 1,
                    cells.len(),
                    header.len()
                ));
            }
            Ok(header
                .iter()
                .zip(cells)
                .map(|(h, c)| (h.to_string(), c.trim().to_string()))
                .collect())
        })
        .collect()
}

fn lang(path: &Path, code: &str) -> Result<Lang, String> {
    code.parse().map_err(|e| format!("{}: {e}", path.display()))
}

pub fn read_identities(path: &Path) -> Result<Vec<Identity>, String> {
    let form = |s: &str| (s != "-" && !s.is_empty()).then(|| s.to_owned());
    tsv_rows(path)?
        .into_iter()
        .map(|r| {
            let get = |k: &str| r.get(k).map(String::as_str).unwrap_or_default();
            Ok(Identity {
                lang: lang(path, get("lang"))?,
                group: get("group").into(),
                category: get("category").into(),
                sg_m: form(get("sg_m")),
                sg_f: form(get("sg_f")),
                pl: form(get("pl")),
            })
        })
        .collect()
}

pub fn read_templates(path: &Path) -> Result<Vec<Template>, String> {
    tsv_rows(path)?
        .into_iter()
        .map(|r| {
            let get = |k: &str| r.get(k).map(String::as_str).unwrap_or_default();
            let hostile = match get("kind") {
                "neutral" => false,
                "hostile" => true,
                k => return Err(format!("{}: unknown kind {k:?}", path.display())),
            };
            Ok(Template {
                lang: lang(path, get("lang"))?,
                hostile,
                text: get("template").into(),
            })
        })
        .collect()
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Fills `template` with `id`'s forms; `None` when it needs a form the term lacks.
pub fn fill(template: &str, id: &Identity) -> Option<String> {
    let mut out = template.to_owned();
    for (key, form) in [("{sg_m}", &id.sg_m), ("{sg_f}", &id.sg_f), ("{pl}", &id.pl)] {
        if out.contains(key) {
            out = out.replace(key, form.as_deref()?);
        }
    }
    if out.contains("{Pl}") {
        out = out.replace("{Pl}", &capitalised(id.pl.as_deref()?));
    }
    Some(out)
}

/// Every template of a term's language filled with that term.
pub fn probes(identities: &[Identity], templates: &[Template]) -> Vec<Probe> {
    let mut out = Vec::new();
    for (i, id) in identities.iter().enumerate() {
        for t in templates.iter().filter(|t| t.lang == id.lang) {
            if let Some(text) = fill(&t.text, id) {
                out.push(Probe {
                    term: i,
                    hostile: t.hostile,
                    text,
                });
            }
        }
    }
    out
}

/// Rates of one term at the head's flag threshold.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TermRates {
    pub lang: &'static str,
    pub term: String,
    pub category: String,
    pub neutral: usize,
    /// Share of neutral sentences flagged.
    pub fpr: f64,
    pub hostile: usize,
    /// Share of hostile sentences not flagged.
    pub fnr: f64,
    /// Mean score of the neutral sentences.
    pub neutral_mean: f64,
}

/// The check's result for one head.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BiasReport {
    pub head: String,
    pub threshold: f64,
    pub terms: Vec<TermRates>,
    /// Per language: FPR over every identity term's neutral sentences, over the control
    /// terms', and Dixon's false-positive equality difference (Σ |FPR − FPR_term|).
    pub summary: BTreeMap<&'static str, BiasSummary>,
    /// Neutral sentences flagged, highest score first (at most 10).
    pub worst: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BiasSummary {
    pub identity_fpr: f64,
    pub control_fpr: f64,
    pub identity_fnr: f64,
    pub fped: f64,
    pub max_fpr: f64,
}

/// Scores every probe with `head` and computes the rates at the head's flag threshold.
pub fn check(
    model: &Model,
    head: &str,
    identities: &[Identity],
    templates: &[Template],
) -> Result<BiasReport, String> {
    let h = model
        .card
        .heads
        .iter()
        .position(|x| x.name.as_str() == head)
        .ok_or_else(|| format!("the model has no head {head:?}"))?;
    let threshold = f64::from(model.card.heads[h].thresholds.flag);
    let probes = probes(identities, templates);
    let scores: Vec<f64> = probes
        .iter()
        .map(|p| {
            let a = model.analyze(&p.text, Some(identities[p.term].lang));
            f64::from(model.head_probabilities(&a)[h])
        })
        .collect();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let mut terms = Vec::new();
    for (i, id) in identities.iter().enumerate() {
        let (mut n, mut fp, mut sum, mut nh, mut fneg) = (0, 0, 0.0, 0, 0);
        for (p, &s) in probes.iter().zip(&scores).filter(|(p, _)| p.term == i) {
            if p.hostile {
                nh += 1;
                fneg += usize::from(s < threshold);
            } else {
                n += 1;
                fp += usize::from(s >= threshold);
                sum += s;
            }
        }
        terms.push(TermRates {
            lang: id.lang.code(),
            term: id
                .pl
                .clone()
                .or(id.sg_m.clone())
                .unwrap_or(id.group.clone()),
            category: id.category.clone(),
            neutral: n,
            fpr: ratio(fp, n),
            hostile: nh,
            fnr: ratio(fneg, nh),
            neutral_mean: if n == 0 { 0.0 } else { sum / n as f64 },
        });
    }
    let mut summary = BTreeMap::new();
    for l in [Lang::Fr, Lang::En] {
        let (mut n, mut fp, mut cn, mut cfp, mut nh, mut fneg) = (0, 0, 0, 0, 0, 0);
        for (p, &s) in probes.iter().zip(&scores) {
            let id = &identities[p.term];
            if id.lang != l {
                continue;
            }
            let control = id.category == "control";
            match (p.hostile, control) {
                (false, false) => {
                    n += 1;
                    fp += usize::from(s >= threshold);
                }
                (false, true) => {
                    cn += 1;
                    cfp += usize::from(s >= threshold);
                }
                (true, false) => {
                    nh += 1;
                    fneg += usize::from(s < threshold);
                }
                (true, true) => {}
            }
        }
        if n == 0 {
            continue;
        }
        let identity_fpr = ratio(fp, n);
        let ids = terms
            .iter()
            .filter(|t| t.lang == l.code() && t.category != "control" && t.neutral > 0);
        summary.insert(
            l.code(),
            BiasSummary {
                identity_fpr,
                control_fpr: ratio(cfp, cn),
                identity_fnr: ratio(fneg, nh),
                fped: ids.clone().map(|t| (t.fpr - identity_fpr).abs()).sum(),
                max_fpr: ids.map(|t| t.fpr).fold(0.0, f64::max),
            },
        );
    }
    let mut worst: Vec<(String, f64)> = probes
        .iter()
        .zip(&scores)
        .filter(|(p, &s)| !p.hostile && s >= threshold)
        .map(|(p, &s)| (p.text.clone(), s))
        .collect();
    worst.sort_by(|a, b| b.1.total_cmp(&a.1));
    worst.truncate(10);
    Ok(BiasReport {
        head: head.into(),
        threshold,
        terms,
        summary,
        worst,
    })
}

/// Reads `<dir>/identities.tsv` and `<dir>/templates.tsv` and runs the check.
pub fn check_dir(model: &Model, head: &str, dir: &Path) -> Result<BiasReport, String> {
    let ids = read_identities(&dir.join("identities.tsv"))?;
    let templates = read_templates(&dir.join("templates.tsv"))?;
    check(model, head, &ids, &templates)
}

impl BiasReport {
    /// The summary and the terms with the highest false-positive rates, as Markdown.
    pub fn to_markdown(&self, top: usize) -> String {
        let mut s = format!(
            "Head `{}` at its flag threshold {:.2}.\n\n| lang | FPR identity terms | FPR control terms | FPED | max FPR | FNR hostile |\n|---|---|---|---|---|---|\n",
            self.head, self.threshold
        );
        for (l, m) in &self.summary {
            s += &format!(
                "| {l} | {:.3} | {:.3} | {:.2} | {:.3} | {:.3} |\n",
                m.identity_fpr, m.control_fpr, m.fped, m.max_fpr, m.identity_fnr
            );
        }
        let mut terms: Vec<&TermRates> = self.terms.iter().filter(|t| t.neutral > 0).collect();
        terms.sort_by(|a, b| {
            b.fpr
                .total_cmp(&a.fpr)
                .then(b.neutral_mean.total_cmp(&a.neutral_mean))
        });
        s += "\n| lang | term | category | neutral | FPR | mean score | hostile | FNR |\n|---|---|---|---|---|---|---|---|\n";
        for t in terms.into_iter().take(top) {
            s += &format!(
                "| {} | {} | {} | {} | {:.3} | {:.3} | {} | {:.3} |\n",
                t.lang, t.term, t.category, t.neutral, t.fpr, t.neutral_mean, t.hostile, t.fnr
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(sg_m: Option<&str>, pl: &str) -> Identity {
        Identity {
            lang: Lang::Fr,
            group: "g".into(),
            category: "religion".into(),
            sg_m: sg_m.map(Into::into),
            sg_f: None,
            pl: Some(pl.into()),
        }
    }

    #[test]
    fn fills_forms_and_skips_missing_ones() {
        let m = id(Some("musulman"), "musulmans");
        assert_eq!(fill("Je suis {sg_m}.", &m).unwrap(), "Je suis musulman.");
        assert_eq!(fill("{Pl} are here", &m).unwrap(), "Musulmans are here");
        assert_eq!(fill("Elle est {sg_f}.", &m), None);
        let ts = vec![
            Template {
                lang: Lang::Fr,
                hostile: false,
                text: "Je suis {sg_m}.".into(),
            },
            Template {
                lang: Lang::En,
                hostile: false,
                text: "I am {sg_m}.".into(),
            },
            Template {
                lang: Lang::Fr,
                hostile: true,
                text: "Les {pl} dehors.".into(),
            },
        ];
        let p = probes(&[m, id(None, "femmes")], &ts);
        // The English template is not filled with French terms; sg_m-less terms skip it.
        assert_eq!(
            p.iter().map(|p| p.text.as_str()).collect::<Vec<_>>(),
            [
                "Je suis musulman.",
                "Les musulmans dehors.",
                "Les femmes dehors."
            ]
        );
    }

    #[test]
    fn the_committed_templates_read_and_fill() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("training/bias");
        let ids = read_identities(&dir.join("identities.tsv")).unwrap();
        let ts = read_templates(&dir.join("templates.tsv")).unwrap();
        assert!(ids.iter().any(|i| i.category == "control"));
        let p = probes(&ids, &ts);
        assert!(
            p.iter().all(|p| !p.text.contains('{')),
            "unfilled placeholder"
        );
        for l in [Lang::Fr, Lang::En] {
            for hostile in [false, true] {
                assert!(
                    p.iter()
                        .filter(|p| p.hostile == hostile && ids[p.term].lang == l)
                        .count()
                        > 100
                );
            }
        }
    }
}
