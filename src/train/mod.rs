//! Training: params → checked params → fitted model, as linfa does.
//!
//! For every binary head and every stance target: k-fold cross-validation (stratified,
//! folds assigned by a seeded hash of the item id, fits run in parallel) over a grid of L2
//! penalties; the penalty with the best out-of-fold ROC-AUC (stance: macro-F1) is kept,
//! thresholds are read off the out-of-fold scores (flag: best macro-F1; reject: the
//! precision target), and the head is refitted on all its labeled items, starting from the
//! mean of the folds' fits. Binary heads may first scale their columns by Naive-Bayes
//! ratios ([`nb`]), and may be calibrated by Platt scaling on their out-of-fold logits
//! ([`calibration`]; thresholds are then read off the calibrated scores). Everything is
//! deterministic: same data and settings, same bytes.
//!
//! [`ValidTrainParams::fit`] runs the stages in order: `features` (vocabulary and feature
//! matrix), task discovery (`tasks`), per task cross-validation (`cv`) and the fit of a
//! binary head or a stance target (`fit`), then `assemble` (weight matrix, card, model id)
//! and the held-out evaluation ([`evaluate()`]).

mod assemble;
pub mod bias;
/// Platt scaling of binary heads (`--calibration`).
pub mod calibration;
pub mod cli;
mod cv;
mod data;
mod evaluate;
mod fit;
pub mod metrics;
/// Naive-Bayes column scaling of binary heads (`--nb-exponent`).
pub mod nb;
mod pyrandom;
mod report;
/// The training-set manifest: files and their weights (`training/sources.toml`).
pub mod sources;
mod tasks;

pub use calibration::Calibration;
pub use data::{data_hash, sha256_hex, sourced_data_hash, weighted_data_hash, TrainingData};
pub use evaluate::{evaluate, Evaluation};
pub use nb::NbScaling;
pub use report::{NgramWeight, Report};

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::corpus::Record;
use crate::domain::{HeadName, Target};
use crate::features::{Lexicon, SparseRow, Vectorizer, VectorizerParams};
use crate::model::logistic::{self, csr_from_rows, Csr, LogisticParams};
use crate::model::{Model, SourceCard};

/// How to weigh classes in the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ClassWeight {
    /// Every item counts once: probabilities stay calibrated.
    None,
    /// Each class weighs as much as the other in total (n / (classes × n_class)).
    Balanced,
}

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainParams {
    pub name: String,
    pub vectorizer: VectorizerParams,
    pub folds: usize,
    pub alphas: Vec<f64>,
    pub class_weight: ClassWeight,
    pub max_iterations: u64,
    /// Per training item: a fit stops when the L2 norm of the gradient of the summed loss
    /// falls below `gradient_tolerance × items`, i.e. the gradient of the mean loss below
    /// `gradient_tolerance`: scikit-learn's lbfgs rule and number (there on the largest
    /// component, `tol=1e-4`). An absolute tolerance on a sum would never be met on large
    /// corpora: every fit would run to `max_iterations`. 1e-3 trains a third faster, but the
    /// less converged fits moved the chosen penalties and thresholds of the default model.
    pub gradient_tolerance: f64,
    /// Seeds the fold assignment.
    pub seed: u64,
    /// Heads and stance classes with fewer examples than this are skipped.
    pub min_examples: usize,
    pub default_target: Option<Target>,
    /// Precision the reject threshold must reach on out-of-fold scores.
    pub reject_precision: f64,
    /// Naive-Bayes scaling of the binary heads' columns; `None`: plain TF-IDF. Left out of
    /// the settings' JSON when off, so the model ids of plain trainings stay as they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nb_scaling: Option<NbScaling>,
    /// Calibration of the binary heads' probabilities. Left out of the settings' JSON when
    /// `None`, as `nb_scaling` is.
    #[serde(default, skip_serializing_if = "is_no_calibration")]
    pub calibration: Calibration,
    /// Lexicon whose categories are extra features (`None`: n-grams only). In the settings'
    /// JSON as its size and digest, left out when `None` as `nb_scaling` is.
    #[serde(
        default,
        skip_deserializing,
        skip_serializing_if = "Option::is_none",
        serialize_with = "lexicon_digest"
    )]
    pub lexicon: Option<Lexicon>,
    /// Stance targets that need another number of examples of each class than
    /// `min_examples`: a site's own targets need 30 (`service::targets`). Left out of the
    /// settings' JSON when empty, as `nb_scaling` is.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub target_min_examples: BTreeMap<Target, usize>,
    /// Penalties fixed per task instead of chosen by cross-validation over `alphas`. Left
    /// out of the settings' JSON when empty, as `nb_scaling` is.
    #[serde(default, skip_serializing_if = "FixedAlphas::is_empty")]
    pub fixed_alphas: FixedAlphas,
    /// Fit each task over only the feature columns its own rows use. A column no row of
    /// the task holds gets no gradient but the penalty's, so its weight stays 0 either way:
    /// the fit is the same up to rounding, and a head labeled by a few corpora solves a far
    /// smaller problem. Off by default: the summation order changes, and with it the bytes
    /// of the committed default model. A retraining turns it on. Left out of the settings'
    /// JSON when off, as `nb_scaling` is.
    #[serde(default, skip_serializing_if = "is_false")]
    pub task_columns: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

/// The penalty of some heads and stance targets, fixed: their cross-validation fits that
/// one penalty in each fold (the out-of-fold scores still give the thresholds), instead of
/// every penalty of [`TrainParams::alphas`]. A retraining reuses its champion's penalties
/// (`vigie::learning::retrain`): one fit per fold instead of one per penalty and fold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FixedAlphas {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub heads: BTreeMap<HeadName, f64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stance: BTreeMap<Target, f64>,
}

impl FixedAlphas {
    pub fn is_empty(&self) -> bool {
        self.heads.is_empty() && self.stance.is_empty()
    }

    fn all_positive(&self) -> bool {
        let mut all = self.heads.values().chain(self.stance.values());
        all.all(|a| a.is_finite() && *a > 0.0)
    }
}

fn lexicon_digest<S: serde::Serializer>(l: &Option<Lexicon>, s: S) -> Result<S::Ok, S::Error> {
    match l {
        Some(l) => s.serialize_str(&format!("{} entries, sha256 {}", l.len(), l.digest())),
        None => s.serialize_none(),
    }
}

fn is_no_calibration(c: &Calibration) -> bool {
    *c == Calibration::None
}

impl Default for TrainParams {
    fn default() -> Self {
        Self {
            name: "default".into(),
            vectorizer: VectorizerParams::default(),
            folds: 5,
            alphas: vec![0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0],
            class_weight: ClassWeight::None,
            max_iterations: 200,
            gradient_tolerance: 1e-4,
            seed: 42,
            min_examples: 5,
            default_target: None,
            reject_precision: 0.9,
            nb_scaling: None,
            calibration: Calibration::None,
            lexicon: None,
            target_min_examples: BTreeMap::new(),
            fixed_alphas: FixedAlphas::default(),
            task_columns: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("invalid training settings: {0}")]
    Params(String),
    #[error("no training data: {0}")]
    NoData(String),
    #[error(transparent)]
    Fit(#[from] logistic::FitError),
}

/// Checked settings: the only way to call [`ValidTrainParams::fit`].
#[derive(Debug, Clone)]
pub struct ValidTrainParams(TrainParams);

impl TrainParams {
    pub fn check(self) -> Result<ValidTrainParams, TrainError> {
        let bad = |m: &str| Err(TrainError::Params(m.into()));
        if self.folds < 2 {
            return bad("folds must be at least 2");
        }
        if self.alphas.is_empty() || self.alphas.iter().any(|a| !a.is_finite() || *a <= 0.0) {
            return bad("alphas must be a non-empty list of positive numbers");
        }
        if !self.fixed_alphas.all_positive() {
            return bad("fixed alphas must be positive numbers");
        }
        let (w, c) = (self.vectorizer.word_ngrams, self.vectorizer.char_ngrams);
        if w.0 > w.1 || w.0 == 0 && w.1 > 0 || c.0 > c.1 || w.1 == 0 && c.1 == 0 {
            return bad("n-gram ranges must be ordered, start at 1 or more, and not both be empty");
        }
        if let Some(nb) = &self.nb_scaling {
            nb.check().map_err(TrainError::Params)?;
        }
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return bad("name must be ASCII letters, digits, '-' or '_'");
        }
        LogisticParams::default()
            .max_iterations(self.max_iterations)
            .gradient_tolerance(self.gradient_tolerance)
            .check()
            .map_err(|e| TrainError::Params(e.to_string()))?;
        Ok(ValidTrainParams(self))
    }
}

/// Called once per finished fit, for progress bars.
pub trait Progress: Sync {
    fn start(&self, _total_fits: u64) {}
    fn fit_done(&self) {}
    fn message(&self, _msg: &str) {}
}

impl Progress for () {}

/// A fitted model and its report.
pub struct Trained {
    pub model: Model,
    pub report: Report,
    /// Out-of-fold probability of every labeled item for each binary head, at the penalty
    /// chosen, before calibration: `head → [(record id, score)]`. What `train --oof` writes,
    /// to compare two training sets on the same items (`bench/realdata/incorpus.sh`).
    pub out_of_fold: BTreeMap<String, fit::OutOfFold>,
}

impl ValidTrainParams {
    pub fn params(&self) -> &TrainParams {
        &self.0
    }

    /// Fits every head with enough labels. `heldout` records are scored for the report only.
    pub fn fit(
        &self,
        data: &TrainingData,
        heldout: Option<(&SourceCard, &[Record])>,
        progress: &dyn Progress,
    ) -> Result<Trained, TrainError> {
        let p = &self.0;
        if data.records.is_empty() {
            return Err(TrainError::NoData("no labeled records".into()));
        }
        let (vectorizer, x) = features(p, data, progress);
        let tasks = tasks::discover(p, data, progress)?;
        progress.start(tasks.fits(p));
        let mut heads = Vec::with_capacity(tasks.heads.len());
        let mut out_of_fold = BTreeMap::new();
        for (name, task) in &tasks.heads {
            let (card, fitted, oof) = fit::fit_head(p, &x, name, task, progress)?;
            heads.push((card, fitted));
            out_of_fold.insert(name.to_string(), oof);
        }
        let stance = (tasks.stance.iter())
            .map(|(target, task)| fit::fit_stance(p, &x, target, task, progress))
            .collect::<Result<Vec<_>, _>>()?;
        let source = heldout.map(|(s, _)| s);
        let mut model = assemble::assemble(p, data, vectorizer, heads, stance, source)?;
        if let Some((_, held)) = heldout {
            let ev = evaluate(&model, held);
            for (h, m) in model.card.heads.iter_mut().zip(ev.heads) {
                h.heldout = m;
            }
            for (s, m) in model.card.stance.iter_mut().zip(ev.stance) {
                s.heldout = m;
            }
        }
        let report = Report::new(&model);
        Ok(Trained {
            model,
            report,
            out_of_fold,
        })
    }
}

/// The vocabulary and IDF, learned from the labeled texts and the unlabeled ones not among
/// them, and the feature matrix of the labeled records (one row each, in order).
fn features(p: &TrainParams, data: &TrainingData, progress: &dyn Progress) -> (Vectorizer, Csr) {
    progress.message("building the vocabulary");
    let records = &data.records;
    let mut docs: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
    let labeled: std::collections::HashSet<&str> = docs.iter().copied().collect();
    docs.extend(
        data.unlabeled
            .iter()
            .map(String::as_str)
            .filter(|t| !labeled.contains(t)),
    );
    let vectorizer = Vectorizer::fit(p.vectorizer.clone(), &docs)
        .with_lexicon(p.lexicon.clone().unwrap_or_default());
    let rows: Vec<SparseRow> = records
        .par_iter()
        .map(|r| vectorizer.transform(&r.text))
        .collect();
    let x = csr_from_rows(vectorizer.n_features(), &rows);
    (vectorizer, x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::read_jsonl_str;

    /// 12 toxic and 12 civil one-line records.
    fn data(weights: Vec<f64>) -> TrainingData {
        let mut lines = String::new();
        for i in 0..12 {
            lines.push_str(&format!(
                "{{\"id\":\"t{i}\",\"text\":\"espèce d'idiot numéro {i}\",\"labels\":{{\"toxicity\":1}}}}\n\
                 {{\"id\":\"c{i}\",\"text\":\"merci pour l'article {i}\",\"labels\":{{\"toxicity\":0}}}}\n"
            ));
        }
        TrainingData {
            records: read_jsonl_str(std::path::Path::new("t.jsonl"), &lines).unwrap(),
            weights,
            ..Default::default()
        }
    }

    fn fit(data: &TrainingData) -> Trained {
        TrainParams {
            folds: 2,
            alphas: vec![0.3, 3.0],
            ..Default::default()
        }
        .check()
        .unwrap()
        .fit(data, None, &())
        .unwrap()
    }

    #[test]
    fn unit_source_weights_train_the_same_bytes_and_other_weights_another_model() {
        let plain = fit(&data(vec![]));
        assert_eq!(
            plain.model.to_bytes(),
            fit(&data(vec![1.0; 24])).model.to_bytes()
        );
        let mut w = vec![1.0; 24];
        w[..12].iter_mut().for_each(|w| *w = 0.2);
        let weighted = fit(&data(w));
        assert_ne!(weighted.model.card.model_id, plain.model.card.model_id);
        assert_ne!(weighted.model.to_bytes(), plain.model.to_bytes());
    }

    #[test]
    fn task_columns_fit_the_same_model_up_to_rounding() {
        let mut d = data(vec![]);
        // A second head, labeled on the first six items of each class only: its task uses
        // fewer columns than the matrix has.
        let mut lines = String::new();
        for i in 0..6 {
            lines.push_str(&format!(
                "{{\"id\":\"i{i}\",\"text\":\"quel crétin ce numéro {i}\",\"labels\":{{\"insult\":1}}}}\n\
                 {{\"id\":\"n{i}\",\"text\":\"belle analyse du vote {i}\",\"labels\":{{\"insult\":0}}}}\n"
            ));
        }
        d.records
            .extend(read_jsonl_str(std::path::Path::new("i.jsonl"), &lines).unwrap());
        let fit_with = |task_columns: bool| {
            TrainParams {
                folds: 2,
                alphas: vec![0.3, 3.0],
                task_columns,
                ..Default::default()
            }
            .check()
            .unwrap()
            .fit(&d, None, &())
            .unwrap()
            .model
        };
        let (full, own) = (fit_with(false), fit_with(true));
        assert_eq!(full.card.heads.len(), 2);
        for text in [
            "quel crétin",
            "merci pour le vote",
            "espèce d'idiot",
            "rien",
        ] {
            let p = full.head_probabilities(&full.analyze(text, None));
            let q = own.head_probabilities(&own.analyze(text, None));
            for (a, b) in p.iter().zip(&q) {
                assert!((a - b).abs() < 1e-4, "{text}: {p:?} vs {q:?}");
            }
        }
        for (a, b) in full.card.heads.iter().zip(&own.card.heads) {
            assert_eq!((a.alpha, a.positives), (b.alpha, b.positives));
        }
        assert_ne!(
            full.card.model_id, own.card.model_id,
            "the setting is in the id"
        );
    }

    #[test]
    fn the_summary_has_a_row_per_head_under_its_header() {
        let summary = fit(&data(vec![])).report.summary();
        let lines: Vec<&str> = summary.lines().collect();
        assert!(lines[0].starts_with("head "), "{summary}");
        assert!(lines[0].ends_with("held_f1"), "{summary}");
        assert!(lines[1].starts_with("toxicity "), "{summary}");
        assert!(
            lines[1].ends_with(" -       -"),
            "no held-out file: {summary}"
        );
    }

    #[test]
    fn weighted_data_hash_names_only_weights_other_than_one() {
        let d = data(vec![]);
        let h = data_hash(&d.records);
        assert_eq!(weighted_data_hash(&d.records, &[1.0; 24]), h);
        assert_ne!(weighted_data_hash(&d.records, &[0.5]), h);
    }

    #[test]
    fn thresholds_and_cv_metrics_read_only_reference_items() {
        let mut d = data(vec![]);
        // Records 0, 2, 4, 6 (four toxic ones) come from a source that labels by other rules.
        d.reference = (0..24).map(|i| i % 2 == 1 || i >= 8).collect();
        let head = &fit(&d).model.card.heads[0];
        assert_eq!(head.cv.n, 20, "the CV metrics count the reference items");
        assert_eq!(head.cv.positives, 8);
        assert_eq!(
            (head.positives, head.negatives),
            (12, 12),
            "all items train"
        );
        // Without any positive reference item there is nothing to read: every row is read.
        d.reference = (0..24).map(|i| i % 2 == 1).collect();
        assert_eq!(fit(&d).model.card.heads[0].cv.n, 24);
    }

    #[test]
    fn out_of_fold_scores_cover_every_labeled_item_once() {
        let trained = fit(&data(vec![]));
        let oof = &trained.out_of_fold["toxicity"];
        assert_eq!(oof.len(), 24);
        let ids: std::collections::BTreeSet<&str> = oof.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids.len(), 24);
        assert!(oof.iter().all(|(_, s)| (0.0..=1.0).contains(s)));
        // Out of fold: the toxic items (t…) rank above the civil ones on the whole.
        let mean = |p: &str| {
            let v: Vec<f64> = oof
                .iter()
                .filter(|(id, _)| id.starts_with(p))
                .map(|(_, s)| *s)
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        assert!(mean("t") > mean("c"));
    }
}
