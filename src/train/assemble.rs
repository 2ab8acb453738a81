//! Assembly: the fitted tasks become one model, its weight matrix and its card.

use std::collections::BTreeMap;

use super::fit::FittedHead;
use super::{sha256_hex, TrainError, TrainParams, TrainingData};
use crate::domain::Target;
use crate::features::Vectorizer;
use crate::model::{
    HeadCard, Model, ModelCard, SourceCard, StanceCard, TrainingSummary, FORMAT_VERSION,
};

/// The model of the fitted binary heads and stance targets (in that order of outputs),
/// its card naming the data, the settings and the held-out file.
pub(super) fn assemble(
    p: &TrainParams,
    data: &TrainingData,
    vectorizer: Vectorizer,
    heads: Vec<(HeadCard, FittedHead)>,
    stance: Vec<(StanceCard, FittedHead)>,
    heldout: Option<&SourceCard>,
) -> Result<Model, TrainError> {
    let (head_cards, head_fits): (Vec<_>, Vec<_>) = heads.into_iter().unzip();
    let (stance_cards, stance_fits): (Vec<_>, Vec<_>) = stance.into_iter().unzip();
    let d = vectorizer.n_features();
    let (weights, intercepts) = weight_matrix(d, head_fits.iter().chain(&stance_fits));
    let default_target = default_target(p, &stance_cards)?;
    let data_hash = data.hash();
    let mut by_lang = BTreeMap::new();
    for r in &data.records {
        let l = r.lang.map_or("unknown", |l| l.code());
        *by_lang.entry(l.to_owned()).or_insert(0) += 1;
    }
    let card = ModelCard {
        format_version: FORMAT_VERSION,
        model_id: model_id(p, &data_hash),
        data_hash,
        name: p.name.clone(),
        heads: head_cards,
        stance: stance_cards,
        default_target,
        vectorizer: p.vectorizer.clone(),
        n_features: d,
        training: TrainingSummary {
            items: data.records.len(),
            by_lang,
            sources: data.sources.clone(),
            heldout: heldout.cloned(),
            folds: p.folds,
            alphas: p.alphas.clone(),
            class_weight: format!("{:?}", p.class_weight).to_lowercase(),
            seed: p.seed,
        },
    };
    Model::new(card, vectorizer, weights, intercepts).map_err(|e| TrainError::Params(e.to_string()))
}

/// The feature-major `f32` weight matrix of `d` features and the intercepts: each fit's
/// outputs take the next columns.
fn weight_matrix<'a>(
    d: usize,
    fits: impl Iterator<Item = &'a FittedHead> + Clone,
) -> (Vec<f32>, Vec<f32>) {
    let outputs: usize = fits.clone().map(|f| f.intercepts.len()).sum();
    let mut weights = vec![0f32; d * outputs];
    let mut intercepts = Vec::with_capacity(outputs);
    let mut col = 0;
    for fit in fits {
        let k = fit.intercepts.len();
        for f in 0..d {
            for j in 0..k {
                weights[f * outputs + col + j] = fit.weights[f * k + j] as f32;
            }
        }
        intercepts.extend(fit.intercepts.iter().map(|&b| b as f32));
        col += k;
    }
    (weights, intercepts)
}

/// The settings' default target, which must have a stance model; otherwise the target with
/// the most items (ties: the first by name).
fn default_target(p: &TrainParams, stance: &[StanceCard]) -> Result<Option<Target>, TrainError> {
    Ok(match &p.default_target {
        Some(t) if stance.iter().any(|s| &s.target == t) => Some(t.clone()),
        Some(t) => {
            return Err(TrainError::Params(format!(
                "default target {t} has no stance model"
            )))
        }
        None => stance
            .iter()
            .max_by_key(|s| {
                (
                    s.counts.values().sum::<usize>(),
                    std::cmp::Reverse(s.target.clone()),
                )
            })
            .map(|s| s.target.clone()),
    })
}

/// `<name>-<12 hex digits>`: a digest of the file format, the crate version, the data and
/// the settings, so the same training gives the same id.
fn model_id(p: &TrainParams, data_hash: &str) -> String {
    let settings = serde_json::to_string(p).expect("settings serialise");
    let digest = sha256_hex(
        format!(
            "{FORMAT_VERSION}\n{}\n{data_hash}\n{settings}",
            env!("CARGO_PKG_VERSION")
        )
        .as_bytes(),
    );
    format!("{}-{}", p.name, &digest[..12])
}
