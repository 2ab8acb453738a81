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

pub mod bias;
/// Platt scaling of binary heads (`--calibration`).
pub mod calibration;
pub mod cli;
mod data;
pub mod metrics;
/// Naive-Bayes column scaling of binary heads (`--nb-exponent`).
pub mod nb;
mod report;
/// The training-set manifest: files and their weights (`training/sources.toml`).
pub mod sources;

pub use calibration::Calibration;
pub use data::{data_hash, sha256_hex, sourced_data_hash, weighted_data_hash, TrainingData};
pub use nb::NbScaling;
pub use report::{NgramWeight, Report};

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::corpus::Record;
use crate::domain::{HeadName, Stance, Target};
use crate::features::{SparseRow, Vectorizer, VectorizerParams};
use crate::model::logistic::{self, csr_from_rows, select_rows, Csr, LogisticParams};
use crate::model::{
    HeadCard, Model, ModelCard, SourceCard, StanceCard, Thresholds, TrainingSummary, FORMAT_VERSION,
};

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
    pub out_of_fold: BTreeMap<String, Vec<(String, f64)>>,
}

/// Stable pseudo-random key of an id (fold assignment).
fn id_key(seed: u64, id: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(id.as_bytes());
    h.finalize().into()
}

/// Stratified folds: per class, items ordered by their seeded key, dealt round-robin.
fn assign_folds(seed: u64, ids: &[&str], classes: &[usize], folds: usize) -> Vec<usize> {
    let mut fold = vec![0; ids.len()];
    let n_classes = classes.iter().max().map_or(0, |m| m + 1);
    for c in 0..n_classes {
        let mut members: Vec<usize> = (0..ids.len()).filter(|&i| classes[i] == c).collect();
        members.sort_by_key(|&i| id_key(seed, ids[i]));
        for (j, &i) in members.iter().enumerate() {
            fold[i] = j % folds;
        }
    }
    fold
}

fn class_weights(classes: &[usize], k: usize, how: ClassWeight) -> Option<Vec<f64>> {
    match how {
        ClassWeight::None => None,
        ClassWeight::Balanced => {
            let mut counts = vec![0usize; k];
            classes.iter().for_each(|&c| counts[c] += 1);
            let n = classes.len() as f64;
            Some(
                classes
                    .iter()
                    .map(|&c| n / (k as f64 * counts[c] as f64))
                    .collect(),
            )
        }
    }
}

/// Solver settings of one fit on rows whose source weights sum to `items` (see
/// [`TrainParams::gradient_tolerance`]: the loss is a weighted sum, so its gradient scales
/// with the total weight, not the row count).
fn fit_params(
    p: &TrainParams,
    alpha: f64,
    items: f64,
) -> Result<logistic::ValidLogisticParams, logistic::FitError> {
    LogisticParams::default()
        .alpha(alpha)
        .max_iterations(p.max_iterations)
        .gradient_tolerance(p.gradient_tolerance * items.max(1.0))
        .check()
}

/// Per-row weights of a fit: the class weights of `classes` times the source weights of
/// the task rows `which`. `None` when both are all 1, so unweighted data trains bit for bit
/// as it did before source weights existed.
fn sample_weights(
    p: &TrainParams,
    task: &Task,
    which: &[usize],
    classes: &[usize],
) -> Option<Vec<f64>> {
    let n_classes = if task.k == 1 { 2 } else { task.k };
    let by_class = class_weights(classes, n_classes, p.class_weight);
    if !task.is_weighted() {
        return by_class;
    }
    let by_source = which.iter().map(|&i| task.weights[i]);
    Some(match by_class {
        None => by_source.collect(),
        Some(c) => c.iter().zip(by_source).map(|(c, s)| c * s).collect(),
    })
}

/// One labeled problem: rows of the feature matrix and their classes.
struct Task<'a> {
    rows: Vec<usize>,
    ids: Vec<&'a str>,
    classes: Vec<usize>,
    /// Source weight of each task row ([`TrainingData::weights`]).
    weights: Vec<f64>,
    /// Whether each task row is a reference item ([`TrainingData::reference`]).
    reference: Vec<bool>,
    /// 1 for binary, 3 for stance.
    k: usize,
}

impl<'a> Task<'a> {
    fn new(k: usize) -> Self {
        Task {
            rows: vec![],
            ids: vec![],
            classes: vec![],
            weights: vec![],
            reference: vec![],
            k,
        }
    }

    /// Adds row `i` of `data` with class `class`.
    fn push(&mut self, data: &'a TrainingData, i: usize, class: usize) {
        self.rows.push(i);
        self.ids.push(&data.records[i].id);
        self.classes.push(class);
        self.weights.push(data.weight(i));
        self.reference.push(data.is_reference(i));
    }

    /// The task rows whose out-of-fold scores choose the penalty, the calibration and the
    /// thresholds: the reference items, or every row when they lack one of the classes.
    fn selection_rows(&self) -> Vec<usize> {
        let rows: Vec<usize> = (0..self.rows.len())
            .filter(|&i| self.reference[i])
            .collect();
        let mut seen = vec![false; self.k.max(2)];
        rows.iter().for_each(|&i| seen[self.classes[i]] = true);
        if seen.iter().all(|&s| s) {
            rows
        } else {
            (0..self.rows.len()).collect()
        }
    }

    fn is_weighted(&self) -> bool {
        self.weights.iter().any(|&w| w != 1.0)
    }

    /// Sum of the source weights of the task rows `which`: the effective item count.
    fn total_weight(&self, which: &[usize]) -> f64 {
        if self.is_weighted() {
            which.iter().map(|&i| self.weights[i]).sum()
        } else {
            which.len() as f64
        }
    }

    /// The column scaling this task trains with: the settings' own, for binary tasks only
    /// (the log-count ratio is between two classes).
    fn nb_scaling(&self, p: &TrainParams) -> Option<NbScaling> {
        p.nb_scaling.filter(|_| self.k == 1)
    }
}

/// One cross-validation fit: alpha index, out-of-fold predictions (task row, scores), the fit.
type FoldScores = (usize, Vec<(usize, Vec<f64>)>, logistic::Fitted);

/// What cross-validation gives: out-of-fold scores of each alpha (`scores[a][i]` for task
/// row `i`) and, per alpha, the mean of the folds' fits, a warm start for the final fit
/// (as scikit-learn's `LogisticRegressionCV` starts its refit).
struct CrossValidation {
    scores: Vec<Vec<Vec<f64>>>,
    mean_fits: Vec<Option<logistic::Fitted>>,
}

/// Binary tasks with `p.nb_scaling` scale each fold's columns by ratios from that fold's
/// own training rows.
fn cross_validate(
    p: &TrainParams,
    x: &Csr,
    task: &Task,
    progress: &dyn Progress,
) -> Result<CrossValidation, TrainError> {
    let nb = task.nb_scaling(p);
    let fold = assign_folds(p.seed, &task.ids, &task.classes, p.folds);
    // Folds run in parallel; within a fold the alphas go from the strongest penalty to the
    // weakest, each fit starting from the previous one's solution (a warm start).
    let mut order: Vec<usize> = (0..p.alphas.len()).collect();
    order.sort_by(|&a, &b| p.alphas[b].total_cmp(&p.alphas[a]));
    let results: Vec<Result<Vec<FoldScores>, TrainError>> = (0..p.folds)
        .into_par_iter()
        .map(|f| {
            let train: Vec<usize> = (0..task.rows.len()).filter(|&i| fold[i] != f).collect();
            let test: Vec<usize> = (0..task.rows.len()).filter(|&i| fold[i] == f).collect();
            let mut xs = select_rows(x, &train.iter().map(|&i| task.rows[i]).collect::<Vec<_>>());
            let ys: Vec<usize> = train.iter().map(|&i| task.classes[i]).collect();
            let sw = sample_weights(p, task, &train, &ys);
            let items = task.total_weight(&train);
            let mut xt = select_rows(x, &test.iter().map(|&i| task.rows[i]).collect::<Vec<_>>());
            if let Some(nb) = nb {
                let scales = nb.column_scales(&xs, &ys);
                nb::scale_columns(&mut xs, &scales);
                nb::scale_columns(&mut xt, &scales);
            }
            let mut out: Vec<FoldScores> = Vec::with_capacity(order.len());
            for &a in &order {
                let params = fit_params(p, p.alphas[a], items)?;
                let previous = out.last().map(|(_, _, fit)| fit);
                let fitted =
                    logistic::fit_from(&params, &xs, &ys, task.k, sw.as_deref(), previous)?;
                let pred = fitted.predict(&xt);
                progress.fit_done();
                out.push((a, test.iter().copied().zip(pred).collect(), fitted));
            }
            Ok(out)
        })
        .collect();
    let mut scores = vec![vec![Vec::new(); task.rows.len()]; p.alphas.len()];
    let mut mean_fits: Vec<Option<logistic::Fitted>> = vec![None; p.alphas.len()];
    // Folds are summed in fold order: the same bits whatever the thread count.
    for r in results {
        for (a, preds, fit) in r? {
            for (i, s) in preds {
                scores[a][i] = s;
            }
            match &mut mean_fits[a] {
                None => mean_fits[a] = Some(fit),
                Some(sum) => {
                    sum.weights
                        .iter_mut()
                        .zip(&fit.weights)
                        .for_each(|(s, w)| *s += w);
                    sum.intercepts
                        .iter_mut()
                        .zip(&fit.intercepts)
                        .for_each(|(s, b)| *s += b);
                }
            }
        }
    }
    let folds = p.folds as f64;
    for fit in mean_fits.iter_mut().flatten() {
        fit.weights.iter_mut().for_each(|w| *w /= folds);
        fit.intercepts.iter_mut().for_each(|b| *b /= folds);
    }
    Ok(CrossValidation { scores, mean_fits })
}

fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for i in 1..v.len() {
        if v[i] > v[best] {
            best = i;
        }
    }
    best
}

/// Index of the best score; ties go to the larger alpha (the simpler model).
fn pick_alpha(alphas: &[f64], quality: &[f64]) -> usize {
    let mut best = 0;
    for i in 1..alphas.len() {
        let better = quality[i] > quality[best] + 1e-12
            || ((quality[i] - quality[best]).abs() <= 1e-12 && alphas[i] > alphas[best]);
        if better {
            best = i;
        }
    }
    best
}

struct FittedHead {
    weights: Vec<f64>,
    intercepts: Vec<f64>,
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
        let records = &data.records;
        if records.is_empty() {
            return Err(TrainError::NoData("no labeled records".into()));
        }
        progress.message("building the vocabulary");
        let mut docs: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
        let labeled: std::collections::HashSet<&str> = docs.iter().copied().collect();
        docs.extend(
            data.unlabeled
                .iter()
                .map(String::as_str)
                .filter(|t| !labeled.contains(t)),
        );
        let vectorizer = Vectorizer::fit(p.vectorizer.clone(), &docs);
        let rows: Vec<SparseRow> = records
            .par_iter()
            .map(|r| vectorizer.transform(&r.text))
            .collect();
        let x = csr_from_rows(vectorizer.n_features(), &rows);

        // Binary heads with enough of both classes.
        let mut head_names: BTreeMap<&HeadName, (usize, usize)> = BTreeMap::new();
        for r in records {
            for (h, &v) in &r.labels.binary {
                let e = head_names.entry(h).or_default();
                if v == 1 {
                    e.0 += 1
                } else {
                    e.1 += 1
                }
            }
        }
        let mut tasks: Vec<(HeadName, Task)> = Vec::new();
        for (h, (pos, neg)) in head_names {
            if pos < p.min_examples || neg < p.min_examples {
                progress.message(&format!(
                    "skipping head {h}: {pos} positives, {neg} negatives"
                ));
                continue;
            }
            let mut t = Task::new(1);
            for (i, r) in records.iter().enumerate() {
                if let Some(&v) = r.labels.binary.get(h) {
                    t.push(data, i, v as usize);
                }
            }
            tasks.push((h.clone(), t));
        }
        // Stance targets with enough of every class.
        let mut targets: BTreeMap<&Target, [usize; 3]> = BTreeMap::new();
        for r in records {
            if let (Some(t), Some(s)) = (&r.target, r.labels.stance) {
                targets.entry(t).or_default()[s.index()] += 1;
            }
        }
        let mut stance_tasks: Vec<(Target, Task)> = Vec::new();
        for (t, counts) in targets {
            if counts.iter().any(|&c| c < p.min_examples) {
                progress.message(&format!(
                    "skipping stance target {t}: class counts {counts:?}"
                ));
                continue;
            }
            let mut task = Task::new(3);
            for (i, r) in records.iter().enumerate() {
                if let (Some(rt), Some(s)) = (&r.target, r.labels.stance) {
                    if rt == t {
                        task.push(data, i, s.index());
                    }
                }
            }
            stance_tasks.push((t.clone(), task));
        }
        if tasks.is_empty() && stance_tasks.is_empty() {
            return Err(TrainError::NoData(format!(
                "no head has {} or more examples of each class",
                p.min_examples
            )));
        }
        let fits_per_task = (p.alphas.len() * p.folds + 1) as u64;
        progress.start(fits_per_task * (tasks.len() + stance_tasks.len()) as u64);

        let final_fit = |task: &Task,
                         alpha: f64,
                         start: Option<&logistic::Fitted>|
         -> Result<FittedHead, TrainError> {
            let mut xs = select_rows(&x, &task.rows);
            let scales = task
                .nb_scaling(p)
                .map(|nb| nb.column_scales(&xs, &task.classes));
            if let Some(s) = &scales {
                nb::scale_columns(&mut xs, s);
            }
            let all: Vec<usize> = (0..task.rows.len()).collect();
            let sw = sample_weights(p, task, &all, &task.classes);
            let params = fit_params(p, alpha, task.total_weight(&all))?;
            let mut f =
                logistic::fit_from(&params, &xs, &task.classes, task.k, sw.as_deref(), start)?;
            progress.fit_done();
            // Folded into the weights: the model scores unscaled TF-IDF rows.
            if let Some(s) = &scales {
                f.weights.iter_mut().zip(s).for_each(|(w, s)| *w *= s);
            }
            Ok(FittedHead {
                weights: f.weights,
                intercepts: f.intercepts,
            })
        };

        let mut head_cards = Vec::new();
        let mut head_fits = Vec::new();
        let mut out_of_fold = BTreeMap::new();
        for (name, task) in &tasks {
            progress.message(&format!("head {name}"));
            let cv = cross_validate(p, &x, task, progress)?;
            let sel = task.selection_rows();
            let labels: Vec<bool> = sel.iter().map(|&i| task.classes[i] == 1).collect();
            let flat: Vec<Vec<f64>> = cv
                .scores
                .iter()
                .map(|a| sel.iter().map(|&i| a[i][0]).collect())
                .collect();
            let aucs: Vec<f64> = flat
                .iter()
                .map(|s| metrics::roc_auc(s, &labels).unwrap_or(0.0))
                .collect();
            let best = pick_alpha(&p.alphas, &aucs);
            let every_row = task.ids.iter().zip(&cv.scores[best]);
            out_of_fold.insert(
                name.to_string(),
                every_row.map(|(id, s)| (id.to_string(), s[0])).collect(),
            );
            let calibrated = (p.calibration == Calibration::Platt)
                .then(|| calibration::calibrate(&flat[best], &labels))
                .flatten();
            let (platt, oof) = match calibrated {
                Some((c, scores)) => (Some(c), scores),
                None => (None, flat[best].clone()),
            };
            let flag = metrics::best_macro_f1_threshold(&oof, &labels);
            let reject =
                metrics::precision_threshold(&oof, &labels, flag.max(0.5), p.reject_precision);
            let thresholds = Thresholds {
                flag: flag as f32,
                reject: reject.max(flag) as f32,
            };
            let mut fitted = final_fit(task, p.alphas[best], cv.mean_fits[best].as_ref())?;
            // σ(a·(w·x + c) + b): the map is folded into the weights and the intercept.
            if let Some(c) = &platt {
                fitted.weights.iter_mut().for_each(|w| *w *= c.a);
                fitted.intercepts[0] = c.a * fitted.intercepts[0] + c.b;
            }
            head_cards.push(HeadCard {
                name: name.clone(),
                alpha: p.alphas[best],
                thresholds,
                positives: task.classes.iter().filter(|&&c| c == 1).count(),
                negatives: task.classes.iter().filter(|&&c| c == 0).count(),
                calibration: platt,
                cv: metrics::binary_metrics(&oof, &labels, flag),
                heldout: None,
            });
            head_fits.push(fitted);
        }
        let mut stance_cards = Vec::new();
        let mut stance_fits = Vec::new();
        for (target, task) in &stance_tasks {
            progress.message(&format!("stance toward {target}"));
            let cv = cross_validate(p, &x, task, progress)?;
            let sel = task.selection_rows();
            let gold: Vec<Stance> = sel.iter().map(|&i| Stance::ALL[task.classes[i]]).collect();
            let per_alpha: Vec<_> = cv
                .scores
                .iter()
                .map(|a| {
                    let pred: Vec<Stance> =
                        sel.iter().map(|&i| Stance::ALL[argmax(&a[i])]).collect();
                    metrics::stance_metrics(&pred, &gold)
                })
                .collect();
            let quality: Vec<f64> = per_alpha.iter().map(|m| m.macro_f1).collect();
            let best = pick_alpha(&p.alphas, &quality);
            let fitted = final_fit(task, p.alphas[best], cv.mean_fits[best].as_ref())?;
            let mut counts = BTreeMap::new();
            for &c in &task.classes {
                *counts.entry(Stance::ALL[c]).or_insert(0) += 1;
            }
            stance_cards.push(StanceCard {
                target: target.clone(),
                alpha: p.alphas[best],
                counts,
                cv: per_alpha[best].clone(),
                heldout: None,
            });
            stance_fits.push(fitted);
        }

        // Assemble the feature-major weight matrix.
        let d = vectorizer.n_features();
        let outputs = head_fits.len() + 3 * stance_fits.len();
        let mut weights = vec![0f32; d * outputs];
        let mut intercepts = Vec::with_capacity(outputs);
        let mut col = 0;
        for fit in head_fits.iter().chain(&stance_fits) {
            let k = fit.intercepts.len();
            for f in 0..d {
                for j in 0..k {
                    weights[f * outputs + col + j] = fit.weights[f * k + j] as f32;
                }
            }
            intercepts.extend(fit.intercepts.iter().map(|&b| b as f32));
            col += k;
        }

        let default_target = match &p.default_target {
            Some(t) if stance_cards.iter().any(|s| &s.target == t) => Some(t.clone()),
            Some(t) => {
                return Err(TrainError::Params(format!(
                    "default target {t} has no stance model"
                )))
            }
            None => stance_cards
                .iter()
                .max_by_key(|s| {
                    (
                        s.counts.values().sum::<usize>(),
                        std::cmp::Reverse(s.target.clone()),
                    )
                })
                .map(|s| s.target.clone()),
        };
        let data_hash = data.hash();
        let settings = serde_json::to_string(p).expect("settings serialise");
        let model_id = format!(
            "{}-{}",
            p.name,
            &sha256_hex(
                format!(
                    "{FORMAT_VERSION}\n{}\n{data_hash}\n{settings}",
                    env!("CARGO_PKG_VERSION")
                )
                .as_bytes()
            )[..12]
        );
        let mut by_lang = BTreeMap::new();
        for r in records {
            let l = r.lang.map_or("unknown", |l| l.code());
            *by_lang.entry(l.to_owned()).or_insert(0) += 1;
        }
        let card = ModelCard {
            format_version: FORMAT_VERSION,
            model_id,
            data_hash,
            name: p.name.clone(),
            heads: head_cards,
            stance: stance_cards,
            default_target,
            vectorizer: p.vectorizer.clone(),
            n_features: d,
            training: TrainingSummary {
                items: records.len(),
                by_lang,
                sources: data.sources.clone(),
                heldout: heldout.map(|(s, _)| s.clone()),
                folds: p.folds,
                alphas: p.alphas.clone(),
                class_weight: format!("{:?}", p.class_weight).to_lowercase(),
                seed: p.seed,
            },
        };
        let mut model = Model::new(card, vectorizer, weights, intercepts)
            .map_err(|e| TrainError::Params(e.to_string()))?;
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
