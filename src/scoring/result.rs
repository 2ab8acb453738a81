//! What scoring gives back: the scores, the stance, the decision and the explanation.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{head_name, Pass, EXPLAIN_TOP};
use crate::domain::{Decision, Lang, Stance};
use crate::model::{Analysis, Model};

/// A word that pushed a flagged head up: the model's own type, shown as is.
pub type ExplanationItem = crate::model::Contribution;
/// An n-gram inside an explained word.
pub type NgramWeight = crate::model::NgramShare;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StanceResult {
    pub target: String,
    #[schema(value_type = String)]
    pub label: Stance,
    /// `favor`, `against`, `none` → probability.
    pub probabilities: BTreeMap<String, f32>,
}

// A scored comment, as `/v1/score` answers it (the schema keeps its name, undescribed).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ScoreResponse)]
pub struct Scored {
    pub model_id: String,
    /// `fr` or `en`.
    #[schema(value_type = String)]
    pub lang: Lang,
    /// Whether `lang` was detected from the text (true) or given by the request.
    pub lang_detected: bool,
    /// Binary head → probability.
    pub scores: BTreeMap<String, f32>,
    pub stance: Option<StanceResult>,
    /// `allow`, `flag` or `reject`.
    #[schema(value_type = String)]
    pub decision: Decision,
    /// Heads at or over their flag threshold.
    pub flagged: Vec<String>,
    /// For each flagged head, the words that pushed it up, where they are, and their n-grams.
    pub explanation: BTreeMap<String, Vec<ExplanationItem>>,
}

/// The scores and stance of a comment, without a decision (the `score` command line).
#[derive(Debug, Clone, Serialize)]
pub struct Scores {
    pub lang: Lang,
    /// Binary head → probability.
    pub scores: BTreeMap<String, f32>,
    pub stance: Option<StanceResult>,
}

impl Scores {
    pub(super) fn new(model: &Model, pass: &Pass, target: Option<usize>) -> Self {
        let scores = (pass.probs.iter().enumerate())
            .map(|(i, &p)| (head_name(model, i), p))
            .collect();
        Scores {
            lang: pass.analysis.lang,
            scores,
            stance: target.map(|t| stance(model, &pass.analysis, t)),
        }
    }
}

fn stance(model: &Model, a: &Analysis, t: usize) -> StanceResult {
    let s = model.stance(a, t);
    StanceResult {
        target: model.card.stance[t].target.to_string(),
        label: s.label(),
        probabilities: Stance::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), s.probabilities[c.index()]))
            .collect(),
    }
}

/// The words that pushed each flagged head up (nothing is computed when none is flagged).
pub(super) fn explain(
    model: &Model,
    text: &str,
    a: &Analysis,
    flagged: &[usize],
) -> BTreeMap<String, Vec<ExplanationItem>> {
    if flagged.is_empty() {
        return BTreeMap::new();
    }
    let attribution = model.attribution(a);
    flagged
        .iter()
        .map(|&i| {
            let items = model.explain(text, a, &attribution, i, EXPLAIN_TOP);
            (head_name(model, i), items)
        })
        .collect()
}
