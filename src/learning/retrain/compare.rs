//! Champion against challenger on the held-out site labels: per head (and per stance class
//! toward a target, against the other two), both models' ROC-AUC and the paired-bootstrap
//! interval of the difference; then the verdict.

use std::collections::BTreeSet;
use std::fmt;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{RetrainParams, SiteSplit};
use crate::corpus::Record;
use crate::domain::{HeadName, Stance, Target};
use crate::model::{Analysis, Model};
use crate::train::metrics::paired_bootstrap_auc;

/// What a retraining found, and what it decided: stored with the challenger, returned by
/// the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Comparison {
    /// Model id of the serving model.
    pub champion: String,
    /// Model id of the model trained.
    pub challenger: String,
    /// Site labels given, those the challenger trained on, those both models are judged on.
    pub site_labels: usize,
    pub trained_on: usize,
    pub held_out: usize,
    /// Held-out positives and negatives a head needs to be judged.
    pub min_per_class: usize,
    pub resamples: usize,
    pub judged: Vec<Judged>,
    pub not_judged: Vec<NotJudged>,
    pub verdict: Verdict,
}

/// A head with enough held-out labels: both models' ROC-AUC, the challenger's minus the
/// champion's, and its 95 % paired-bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Judged {
    /// A binary head, or `stance:<target>:<class>` (that class against the other two).
    pub head: String,
    pub positives: usize,
    pub negatives: usize,
    pub champion_auc: f64,
    pub challenger_auc: f64,
    pub difference: f64,
    pub low: f64,
    pub high: f64,
}

/// A head the held-out labels speak of that was not judged, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotJudged {
    pub head: String,
    pub positives: usize,
    pub negatives: usize,
    pub reason: NotJudgedReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotJudgedReason {
    /// Fewer than `min_per_class` positives or negatives.
    TooFewLabels,
    /// The champion has no such head: the challenger's is new, with nothing to compare.
    /// Only a binary head: a new stance target's labels all train (`new_targets_train`),
    /// so none of them is held out.
    NewHead,
    /// The challenger has no such head (the verdict then keeps the champion).
    NotInChallenger,
}

/// Promote the challenger, or keep the champion and say why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Verdict {
    Promote,
    KeepChampion { reasons: Vec<KeepReason> },
}

/// Why the champion stays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum KeepReason {
    /// The challenger is worse on `head`: the whole interval of its AUC minus the
    /// champion's lies below zero.
    Worse {
        head: String,
        difference: f64,
        low: f64,
        high: f64,
    },
    /// The champion serves a head or stance target the challenger lacks.
    LostHead { head: String },
    /// No head had enough held-out labels and the challenger has no new head: nothing to
    /// go on.
    NothingJudged,
}

impl Verdict {
    pub fn promotes(&self) -> bool {
        *self == Verdict::Promote
    }
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepReason::Worse {
                head,
                difference,
                low,
                high,
            } => write!(
                f,
                "the challenger is worse on {head}: ROC-AUC {difference:+.3} \
                 (95 % interval {low:+.3} to {high:+.3})"
            ),
            KeepReason::LostHead { head } => write!(f, "the challenger has no {head} head"),
            KeepReason::NothingJudged => {
                write!(f, "no head has enough held-out site labels to judge")
            }
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Promote => write!(f, "promote: the challenger is worse on no judged head"),
            Verdict::KeepChampion { reasons } => {
                let why: Vec<String> = reasons.iter().map(ToString::to_string).collect();
                write!(f, "keep the champion: {}", why.join("; "))
            }
        }
    }
}

/// One thing to judge: a binary head, or one stance class toward a target against the
/// other two (favor and against, the classes SemEval's F_avg averages).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Question {
    Head(HeadName),
    Stance(Target, Stance),
}

impl Question {
    fn name(&self) -> String {
        match self {
            Question::Head(h) => h.to_string(),
            Question::Stance(t, s) => format!("stance:{t}:{}", s.as_str()),
        }
    }

    /// The record's label for this question, if it has one.
    fn label(&self, r: &Record) -> Option<bool> {
        match self {
            Question::Head(h) => r.labels.binary.get(h).map(|&v| v == 1),
            Question::Stance(t, s) => (r.target.as_ref() == Some(t))
                .then_some(r.labels.stance)
                .flatten()
                .map(|g| g == *s),
        }
    }

    /// Whether `model` answers this question.
    fn answered_by(&self, model: &Model) -> bool {
        match self {
            Question::Head(h) => model.head_index(h.as_str()).is_some(),
            Question::Stance(t, _) => model.target_index(t.as_str()).is_some(),
        }
    }

    /// The model's score for this question (which it answers).
    fn score(&self, model: &Model, a: &Analysis) -> f64 {
        match self {
            Question::Head(h) => {
                let i = model.head_index(h.as_str()).expect("answered");
                f64::from(model.head_probabilities(a)[i])
            }
            Question::Stance(t, s) => {
                let i = model.target_index(t.as_str()).expect("answered");
                f64::from(model.stance(a, i).probabilities[s.index()])
            }
        }
    }
}

/// Every question the held-out records carry labels for, sorted.
fn questions(heldout: &[Record]) -> BTreeSet<Question> {
    let mut found = BTreeSet::new();
    for r in heldout {
        found.extend(r.labels.binary.keys().cloned().map(Question::Head));
        if let (Some(t), Some(_)) = (&r.target, r.labels.stance) {
            for s in [Stance::Favor, Stance::Against] {
                found.insert(Question::Stance(t.clone(), s));
            }
        }
    }
    found
}

/// A model and its analyses of the held-out records.
struct Scored<'a> {
    model: &'a Model,
    analyses: Vec<Analysis>,
}

impl<'a> Scored<'a> {
    fn new(model: &'a Model, records: &[Record]) -> Self {
        let analyses = records
            .par_iter()
            .map(|r| model.analyze(&r.text, r.lang))
            .collect();
        Scored { model, analyses }
    }

    fn scores(&self, q: &Question, rows: &[usize]) -> Vec<f64> {
        let scores = rows.iter().map(|&i| q.score(self.model, &self.analyses[i]));
        scores.collect()
    }
}

/// Judges `challenger` against `champion` on the held-out side of `split`.
pub fn compare(
    champion: &Model,
    challenger: &Model,
    split: &SiteSplit,
    p: &RetrainParams,
) -> Comparison {
    let heldout = &split.heldout;
    let (old, new) = (
        Scored::new(champion, heldout),
        Scored::new(challenger, heldout),
    );
    let (mut judged, mut not_judged) = (Vec::new(), Vec::new());
    for q in questions(heldout) {
        match judge(&q, heldout, &old, &new, p) {
            Ok(j) => judged.push(j),
            Err(n) => not_judged.push(n),
        }
    }
    let lost = missing_in(challenger, champion);
    let gained = !missing_in(champion, challenger).is_empty();
    let verdict = verdict(&judged, lost, gained);
    Comparison {
        champion: champion.card.model_id.clone(),
        challenger: challenger.card.model_id.clone(),
        site_labels: split.train.len() + heldout.len(),
        trained_on: split.train.len(),
        held_out: heldout.len(),
        min_per_class: p.min_per_class,
        resamples: p.resamples,
        judged,
        not_judged,
        verdict,
    }
}

/// Both models' AUC on the records labeled for `q` and the bootstrap of their difference;
/// or why `q` is not judged.
fn judge(
    q: &Question,
    heldout: &[Record],
    old: &Scored,
    new: &Scored,
    p: &RetrainParams,
) -> Result<Judged, NotJudged> {
    let labeled: Vec<(usize, bool)> = (heldout.iter().enumerate())
        .filter_map(|(i, r)| q.label(r).map(|l| (i, l)))
        .collect();
    let (rows, labels): (Vec<usize>, Vec<bool>) = labeled.into_iter().unzip();
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    let not = |reason| NotJudged {
        head: q.name(),
        positives,
        negatives,
        reason,
    };
    if !q.answered_by(new.model) {
        return Err(not(NotJudgedReason::NotInChallenger));
    }
    if !q.answered_by(old.model) {
        return Err(not(NotJudgedReason::NewHead));
    }
    if positives.min(negatives) < p.min_per_class {
        return Err(not(NotJudgedReason::TooFewLabels));
    }
    let (a, b) = (old.scores(q, &rows), new.scores(q, &rows));
    let paired = paired_bootstrap_auc(&a, &b, &labels, p.resamples, p.seed)
        .ok_or_else(|| not(NotJudgedReason::TooFewLabels))?;
    Ok(Judged {
        head: q.name(),
        positives,
        negatives,
        champion_auc: paired.auc_a,
        challenger_auc: paired.auc_b,
        difference: paired.difference,
        low: paired.low,
        high: paired.high,
    })
}

/// The heads and stance targets of `of` that `model` lacks.
fn missing_in(model: &Model, of: &Model) -> Vec<String> {
    let heads = (of.card.heads.iter())
        .filter(|h| model.head_index(h.name.as_str()).is_none())
        .map(|h| h.name.to_string());
    let targets = (of.card.stance.iter())
        .filter(|s| model.target_index(s.target.as_str()).is_none())
        .map(|s| format!("stance:{}", s.target));
    heads.chain(targets).collect()
}

/// Promote when no judged head is worse and no head was lost, and there is something to
/// go on: a judged head, or a head the champion lacks (a site's new stance target, whose
/// own labels are too few to judge it yet is what fitted it).
fn verdict(judged: &[Judged], lost: Vec<String>, gained: bool) -> Verdict {
    let mut reasons: Vec<KeepReason> = (judged.iter())
        .filter(|j| j.high < 0.0)
        .map(|j| KeepReason::Worse {
            head: j.head.clone(),
            difference: j.difference,
            low: j.low,
            high: j.high,
        })
        .collect();
    reasons.extend(lost.into_iter().map(|head| KeepReason::LostHead { head }));
    if judged.is_empty() && !gained {
        reasons.push(KeepReason::NothingJudged);
    }
    if reasons.is_empty() {
        Verdict::Promote
    } else {
        Verdict::KeepChampion { reasons }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(head: &str, low: f64, high: f64) -> Judged {
        Judged {
            head: head.into(),
            positives: 20,
            negatives: 40,
            champion_auc: 0.8,
            challenger_auc: 0.8 + (low + high) / 2.0,
            difference: (low + high) / 2.0,
            low,
            high,
        }
    }

    #[test]
    fn promotes_when_no_judged_head_is_worse() {
        let v = verdict(
            &[
                judged("toxicity", 0.01, 0.09),
                judged("insult", -0.05, 0.02),
            ],
            vec![],
            false,
        );
        assert!(v.promotes(), "{v}");
        // An interval that touches zero is a tie, not a loss.
        assert!(verdict(&[judged("toxicity", -0.1, 0.0)], vec![], false).promotes());
    }

    #[test]
    fn keeps_the_champion_and_names_every_worse_head() {
        let v = verdict(
            &[
                judged("toxicity", -0.09, -0.01),
                judged("insult", 0.01, 0.05),
                judged("threat", -0.2, -0.1),
            ],
            vec![],
            false,
        );
        let Verdict::KeepChampion { reasons } = &v else {
            panic!("{v}")
        };
        let worse: Vec<&str> = reasons
            .iter()
            .map(|r| match r {
                KeepReason::Worse { head, .. } => head.as_str(),
                other => panic!("{other}"),
            })
            .collect();
        assert_eq!(worse, ["toxicity", "threat"]);
        let text = v.to_string();
        assert!(text.contains("worse on toxicity: ROC-AUC -0.050"), "{text}");
        assert!(text.contains("(95 % interval -0.090 to -0.010)"), "{text}");
    }

    #[test]
    fn keeps_the_champion_without_evidence_or_with_a_lost_head() {
        let v = verdict(&[], vec![], false);
        assert_eq!(
            v,
            Verdict::KeepChampion {
                reasons: vec![KeepReason::NothingJudged]
            }
        );
        // A new stance target, too new to judge, is something to go on.
        assert!(verdict(&[], vec![], true).promotes());
        let v = verdict(
            &[judged("toxicity", 0.01, 0.09)],
            vec!["threat".into()],
            false,
        );
        assert!(!v.promotes());
        assert!(v.to_string().contains("no threat head"), "{v}");
    }

    #[test]
    fn the_verdict_serialises_with_its_reasons() {
        let v = verdict(&[judged("toxicity", -0.09, -0.01)], vec![], false);
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["decision"], "keep_champion");
        assert_eq!(json["reasons"][0]["reason"], "worse");
        assert_eq!(json["reasons"][0]["head"], "toxicity");
        assert_eq!(serde_json::from_value::<Verdict>(json).unwrap(), v);
        let promote = serde_json::to_value(Verdict::Promote).unwrap();
        assert_eq!(promote, serde_json::json!({"decision": "promote"}));
    }

    #[test]
    fn questions_are_the_labeled_heads_and_the_stance_classes() {
        let line =
            r#"{"id":"a","text":"x","labels":{"toxicity":1,"stance":"none"},"target":"nucleaire"}"#;
        let records = crate::corpus::read_jsonl_str(std::path::Path::new("t"), line).unwrap();
        let names: Vec<String> = questions(&records).iter().map(Question::name).collect();
        assert_eq!(
            names,
            [
                "toxicity",
                "stance:nucleaire:favor",
                "stance:nucleaire:against"
            ]
        );
        let qs: Vec<Question> = questions(&records).into_iter().collect();
        assert_eq!(qs[0].label(&records[0]), Some(true));
        assert_eq!(qs[1].label(&records[0]), Some(false));
    }
}
