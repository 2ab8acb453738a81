//! Safe retraining: a challenger trained on the base data plus the site's labels, judged
//! against the serving champion on site labels neither trained on, and promoted only if it is
//! worse on no head. No HTTP, no SQL: the service's retrain endpoint and the learning-curve
//! benchmark call [`retrain`].
//!
//! Stages, each a function: [`split_site`] (a hash of the id holds out a share of the
//! site's labels), `new_targets_train` (but a new stance target's labels all train),
//! `training_data` (the base data and the site's training part),
//! `challenger_params` (the base's settings, the champion's penalties), the fit through
//! [`crate::train::ValidTrainParams::fit`], then [`compare`] (ROC-AUC of both models and
//! the paired-bootstrap interval of the difference per head) and its [`Verdict`].
//!
//! The site's labels are *reference* items ([`crate::train::sources`]): they follow the
//! rules this site's moderators apply, which are the rules the site's model must follow, so
//! their out-of-fold scores take part in setting thresholds (beside the project's own
//! reference items, which keep the thresholds near the shipped ones while a site has few
//! labels).

mod compare;
mod split;

pub use compare::{compare, Comparison, Judged, KeepReason, NotJudged, NotJudgedReason, Verdict};
pub use split::{split_site, SiteSplit};

use crate::corpus::Record;
use crate::model::Model;
use crate::train::sources::Base;
use crate::train::{
    FixedAlphas, Progress, Report, TrainError, TrainParams, TrainingData, ValidTrainParams,
};

/// The name of the site's labels among a retrained model's training sources.
pub const SITE_SOURCE: &str = "site labels";

/// How many of the site's labels `model` trained on (0 for a model `train` made).
pub fn site_labels_learned(model: &Model) -> usize {
    let sources = &model.card.training.sources;
    (sources.iter().filter(|s| s.name == SITE_SOURCE))
        .map(|s| s.items)
        .sum()
}

/// Settings of a retraining.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrainParams {
    /// The challenger's training settings; the base's lexicon and (with `reuse_penalties`)
    /// the champion's penalties are put in. Default: `train`'s own.
    pub train: TrainParams,
    /// Share of the site's labels held out to judge both models, in [0, 1). At 0 every
    /// label trains and nothing is judged, so the verdict keeps the champion (a benchmark
    /// that judges on its own test set).
    pub heldout_share: f64,
    /// Weight of each site label in the loss (a manifest source's `weight`).
    pub site_weight: f64,
    /// Fix each head's and stance target's penalty at the champion's (one fit per fold
    /// instead of one per penalty and fold; a head the champion lacks still tries them all).
    pub reuse_penalties: bool,
    /// Held-out positives and negatives a head needs to be judged.
    pub min_per_class: usize,
    /// Bootstrap resamples of the paired interval.
    pub resamples: usize,
    /// Seeds the split and the bootstrap.
    pub seed: u64,
}

impl Default for RetrainParams {
    fn default() -> Self {
        RetrainParams {
            train: TrainParams::default(),
            heldout_share: 0.2,
            site_weight: 1.0,
            reuse_penalties: true,
            min_per_class: 10,
            resamples: 1000,
            seed: 42,
        }
    }
}

/// Checked settings: the only way to call [`retrain`].
#[derive(Debug, Clone)]
pub struct ValidRetrainParams(RetrainParams);

#[derive(Debug, thiserror::Error)]
pub enum RetrainError {
    #[error("invalid retraining settings: {0}")]
    Params(String),
    #[error("site labels: {0}")]
    SiteLabels(String),
    #[error(transparent)]
    Train(#[from] TrainError),
}

impl RetrainParams {
    pub fn check(self) -> Result<ValidRetrainParams, RetrainError> {
        let bad = |m: &str| Err(RetrainError::Params(m.into()));
        if !(0.0..1.0).contains(&self.heldout_share) {
            return bad("heldout_share must lie in [0, 1)");
        }
        if !(self.site_weight.is_finite() && self.site_weight > 0.0) {
            return bad("site_weight must be a positive number");
        }
        if self.min_per_class == 0 || self.resamples == 0 {
            return bad("min_per_class and resamples must be at least 1");
        }
        self.train.clone().check()?;
        Ok(ValidRetrainParams(self))
    }
}

impl ValidRetrainParams {
    pub fn params(&self) -> &RetrainParams {
        &self.0
    }
}

/// A challenger, its training report and how it compared with the champion.
pub struct Retrained {
    pub challenger: Model,
    pub report: Report,
    pub comparison: Comparison,
}

/// Trains a challenger on `base` and the training part of `site`, and judges it against
/// `champion` on the held-out part. Same inputs, same challenger bytes and comparison.
pub fn retrain(
    base: &Base,
    site: &[Record],
    champion: &Model,
    params: &ValidRetrainParams,
    progress: &dyn Progress,
) -> Result<Retrained, RetrainError> {
    let p = params.params();
    check_site(site)?;
    let split = new_targets_train(split_site(site, p.heldout_share, p.seed), champion);
    let data = training_data(base, &split, p)?;
    let settings = challenger_params(base, champion, p)?;
    let heldout = base.heldout.as_ref().map(|(c, r)| (c, r.as_slice()));
    let trained = settings.fit(&data, heldout, progress)?;
    progress.message("comparing challenger and champion");
    let comparison = compare(champion, &trained.model, &split, p);
    Ok(Retrained {
        challenger: trained.model,
        report: trained.report,
        comparison,
    })
}

/// At least one site label, each id once.
fn check_site(site: &[Record]) -> Result<(), RetrainError> {
    if site.is_empty() {
        return Err(RetrainError::SiteLabels("none to train on".into()));
    }
    let mut seen = std::collections::HashSet::new();
    match site.iter().find(|r| !seen.insert(r.id.as_str())) {
        Some(dup) => Err(RetrainError::SiteLabels(format!(
            "id {:?} appears twice",
            dup.id
        ))),
        None => Ok(()),
    }
}

/// Held-out stance labels toward a target the champion lacks move to the training side:
/// nothing can judge them (the champion has no head to compare), and the labels a site
/// gives a new target (30 of each class) are what fits its head.
fn new_targets_train(split: SiteSplit, champion: &Model) -> SiteSplit {
    let new_target = |r: &Record| {
        let target = r.target.as_ref().filter(|_| r.labels.stance.is_some());
        target.is_some_and(|t| champion.target_index(t.as_str()).is_none())
    };
    let (new, heldout): (Vec<Record>, Vec<Record>) =
        split.heldout.into_iter().partition(|r| new_target(r));
    let mut train = split.train;
    train.extend(new);
    SiteSplit { train, heldout }
}

/// The base data, then the site's training part as one more source of reference items.
fn training_data(
    base: &Base,
    split: &SiteSplit,
    p: &RetrainParams,
) -> Result<TrainingData, RetrainError> {
    let mut data = base.data.clone();
    data.add_records(SITE_SOURCE, split.train.clone(), p.site_weight, true)
        .map_err(RetrainError::SiteLabels)?;
    Ok(data)
}

/// `p.train` with the base's lexicon, each task over its own columns and, when asked, the
/// champion's penalties.
fn challenger_params(
    base: &Base,
    champion: &Model,
    p: &RetrainParams,
) -> Result<ValidTrainParams, RetrainError> {
    // Task columns: the same fit up to rounding, and faster (see `TrainParams::task_columns`).
    let mut settings = TrainParams {
        lexicon: base.lexicon.clone(),
        task_columns: true,
        ..p.train.clone()
    };
    if p.reuse_penalties {
        settings.fixed_alphas = champion_penalties(champion);
    }
    Ok(settings.check()?)
}

/// The penalty each of the champion's heads and stance targets was fitted with.
pub fn champion_penalties(champion: &Model) -> FixedAlphas {
    let card = &champion.card;
    FixedAlphas {
        heads: card
            .heads
            .iter()
            .map(|h| (h.name.clone(), h.alpha))
            .collect(),
        stance: card
            .stance
            .iter()
            .map(|s| (s.target.clone(), s.alpha))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_settings() {
        let cases = [
            RetrainParams {
                heldout_share: -0.1,
                ..Default::default()
            },
            RetrainParams {
                heldout_share: 1.0,
                ..Default::default()
            },
            RetrainParams {
                site_weight: f64::NAN,
                ..Default::default()
            },
            RetrainParams {
                min_per_class: 0,
                ..Default::default()
            },
            RetrainParams {
                train: TrainParams {
                    folds: 1,
                    ..Default::default()
                },
                ..Default::default()
            },
        ];
        for p in cases {
            assert!(p.clone().check().is_err(), "{p:?}");
        }
        assert!(RetrainParams::default().check().is_ok());
    }

    #[test]
    fn site_labels_need_one_record_and_distinct_ids() {
        let line = |id: &str| format!("{{\"id\":\"{id}\",\"text\":\"x\"}}\n");
        let read = |s: String| crate::corpus::read_jsonl_str(std::path::Path::new("t"), &s);
        assert!(check_site(&[]).is_err());
        let mut twice = read(line("a") + &line("b")).unwrap();
        twice.push(twice[0].clone());
        let err = check_site(&twice).unwrap_err().to_string();
        assert!(err.contains("\"a\" appears twice"), "{err}");
        assert!(check_site(&twice[..2]).is_ok());
    }
}
