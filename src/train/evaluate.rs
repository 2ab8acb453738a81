//! Measuring a model on labeled records: the held-out columns of the card, `eval`.

use rayon::prelude::*;

use super::metrics;
use crate::corpus::Record;
use crate::domain::Stance;
use crate::model::Model;

/// Metrics of a model on labeled records, per head (`None` where a class is missing).
pub struct Evaluation {
    pub heads: Vec<Option<crate::model::BinaryMetrics>>,
    pub stance: Vec<Option<crate::model::StanceMetrics>>,
    /// Per head: (scores, labels) of the labeled records, for threshold tables.
    pub scored: Vec<(Vec<f64>, Vec<bool>)>,
}

/// Scores `records` with `model` and measures every head at the model's flag thresholds.
pub fn evaluate(model: &Model, records: &[Record]) -> Evaluation {
    let analyses: Vec<_> = records
        .par_iter()
        .map(|r| {
            let a = model.analyze(&r.text, r.lang);
            let probs = model.head_probabilities(&a);
            let stance: Vec<Stance> = (0..model.card.stance.len())
                .map(|t| model.stance(&a, t).label())
                .collect();
            (probs, stance)
        })
        .collect();
    let mut heads = Vec::new();
    let mut scored = Vec::new();
    for (i, h) in model.card.heads.iter().enumerate() {
        let (mut s, mut l) = (Vec::new(), Vec::new());
        for (r, (probs, _)) in records.iter().zip(&analyses) {
            if let Some(&v) = r.labels.binary.get(&h.name) {
                s.push(probs[i] as f64);
                l.push(v == 1);
            }
        }
        let has_both = l.iter().any(|&x| x) && l.iter().any(|&x| !x);
        heads.push(has_both.then(|| metrics::binary_metrics(&s, &l, h.thresholds.flag as f64)));
        scored.push((s, l));
    }
    let mut stance = Vec::new();
    for (t, card) in model.card.stance.iter().enumerate() {
        let (mut pred, mut gold) = (Vec::new(), Vec::new());
        for (r, (_, st)) in records.iter().zip(&analyses) {
            if let (Some(rt), Some(g)) = (&r.target, r.labels.stance) {
                if *rt == card.target {
                    pred.push(st[t]);
                    gold.push(g);
                }
            }
        }
        stance.push((!gold.is_empty()).then(|| metrics::stance_metrics(&pred, &gold)));
    }
    Evaluation {
        heads,
        stance,
        scored,
    }
}
