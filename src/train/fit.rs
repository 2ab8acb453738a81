//! Fitting one task: the penalty chosen by cross-validation, a binary head's calibration
//! and thresholds read off its out-of-fold scores, and the refit on all the task's rows.

use std::collections::BTreeMap;

use super::cv::{cross_validate, fit_params, sample_weights, CrossValidation};
use super::tasks::Task;
use super::{calibration, metrics, nb, Calibration, Progress, TrainError, TrainParams};
use crate::domain::{HeadName, Stance, Target};
use crate::model::logistic::{self, select_rows, Csr};
use crate::model::{HeadCard, StanceCard, Thresholds};

/// One task's refit: weights (feature-major, one per output and feature) and intercepts.
pub(super) struct FittedHead {
    pub(super) weights: Vec<f64>,
    pub(super) intercepts: Vec<f64>,
}

/// Every task row's out-of-fold probability at the chosen penalty, before calibration:
/// `(record id, score)` ([`super::Trained::out_of_fold`]).
pub(super) type OutOfFold = Vec<(String, f64)>;

/// A binary head, over the task's own columns when `p.task_columns` asks ([`fit_head_on`]).
pub(super) fn fit_head(
    p: &TrainParams,
    x: &Csr,
    name: &HeadName,
    task: &Task,
    progress: &dyn Progress,
) -> Result<(HeadCard, FittedHead, OutOfFold), TrainError> {
    if !p.task_columns {
        return fit_head_on(p, x, name, task, progress);
    }
    let own = TaskColumns::of(x, task);
    let (card, fitted, oof) = fit_head_on(p, &own.x, name, &own.task, progress)?;
    Ok((card, own.expand(fitted, x.cols()), oof))
}

/// A stance target, over the task's own columns when `p.task_columns` asks
/// ([`fit_stance_on`]).
pub(super) fn fit_stance(
    p: &TrainParams,
    x: &Csr,
    target: &Target,
    task: &Task,
    progress: &dyn Progress,
) -> Result<(StanceCard, FittedHead), TrainError> {
    if !p.task_columns {
        return fit_stance_on(p, x, target, task, progress);
    }
    let own = TaskColumns::of(x, task);
    let (card, fitted) = fit_stance_on(p, &own.x, target, &own.task, progress)?;
    Ok((card, own.expand(fitted, x.cols())))
}

/// A task's rows of the feature matrix, over only the columns they use
/// ([`TrainParams::task_columns`]), and the way back to the full columns.
struct TaskColumns<'a> {
    x: Csr,
    /// The task, its rows renumbered to the rows of `x`.
    task: Task<'a>,
    /// Full column of each column of `x`, ascending.
    columns: Vec<usize>,
}

impl<'a> TaskColumns<'a> {
    fn of(x: &Csr, task: &Task<'a>) -> Self {
        let rows = select_rows(x, &task.rows);
        let mut used = vec![false; x.cols()];
        rows.indices().iter().for_each(|&c| used[c as usize] = true);
        let columns: Vec<usize> = (0..x.cols()).filter(|&c| used[c]).collect();
        // Ascending renumbering keeps every row's indices sorted.
        let mut new_index = vec![0u32; x.cols()];
        for (j, &c) in columns.iter().enumerate() {
            new_index[c] = j as u32;
        }
        let indices = (rows.indices().iter())
            .map(|&c| new_index[c as usize])
            .collect();
        let indptr = rows.indptr().raw_storage().to_vec();
        let shape = (rows.rows(), columns.len());
        let x = Csr::new(shape, indptr, indices, rows.data().to_vec());
        let task = task.renumbered();
        TaskColumns { x, task, columns }
    }

    /// The fit's weights (feature-major) spread back over `n_cols` full columns.
    fn expand(&self, fitted: FittedHead, n_cols: usize) -> FittedHead {
        let k = fitted.intercepts.len();
        let mut weights = vec![0.0; n_cols * k];
        for (j, &c) in self.columns.iter().enumerate() {
            weights[c * k..(c + 1) * k].copy_from_slice(&fitted.weights[j * k..(j + 1) * k]);
        }
        FittedHead {
            weights,
            intercepts: fitted.intercepts,
        }
    }
}

/// A binary head: the penalty with the best out-of-fold ROC-AUC, Platt calibration when
/// asked (folded into the refit's weights), thresholds read off the (calibrated)
/// out-of-fold scores of the selection rows, then the refit.
fn fit_head_on(
    p: &TrainParams,
    x: &Csr,
    name: &HeadName,
    task: &Task,
    progress: &dyn Progress,
) -> Result<(HeadCard, FittedHead, OutOfFold), TrainError> {
    progress.message(&format!("head {name}"));
    let cv = cross_validate(p, x, task, progress)?;
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
    let best = pick_alpha(&task.alphas, &aucs);
    let every_row = task.ids.iter().zip(&cv.scores[best]);
    let out_of_fold = every_row.map(|(id, s)| (id.to_string(), s[0])).collect();
    let calibrated = (p.calibration == Calibration::Platt)
        .then(|| calibration::calibrate(&flat[best], &labels))
        .flatten();
    let (platt, oof) = match calibrated {
        Some((c, scores)) => (Some(c), scores),
        None => (None, flat[best].clone()),
    };
    let (flag, thresholds) = thresholds(p, &oof, &labels);
    let mut fitted = refit(p, x, task, &cv, best, progress)?;
    // σ(a·(w·x + c) + b): the map is folded into the weights and the intercept.
    if let Some(c) = &platt {
        fitted.weights.iter_mut().for_each(|w| *w *= c.a);
        fitted.intercepts[0] = c.a * fitted.intercepts[0] + c.b;
    }
    let counts = task.class_counts();
    let card = HeadCard {
        name: name.clone(),
        alpha: task.alphas[best],
        thresholds,
        positives: counts[1],
        negatives: counts[0],
        calibration: platt,
        cv: metrics::binary_metrics(&oof, &labels, flag),
        heldout: None,
    };
    Ok((card, fitted, out_of_fold))
}

/// Flag at the best macro-F1 of the out-of-fold scores (also returned unrounded), reject
/// where precision reaches `p.reject_precision`, never below the flag.
fn thresholds(p: &TrainParams, oof: &[f64], labels: &[bool]) -> (f64, Thresholds) {
    let flag = metrics::best_macro_f1_threshold(oof, labels);
    let reject = metrics::precision_threshold(oof, labels, flag.max(0.5), p.reject_precision);
    let thresholds = Thresholds {
        flag: flag as f32,
        reject: reject.max(flag) as f32,
    };
    (flag, thresholds)
}

/// A stance target: the penalty with the best out-of-fold macro-F1 of the argmax class,
/// then the refit.
fn fit_stance_on(
    p: &TrainParams,
    x: &Csr,
    target: &Target,
    task: &Task,
    progress: &dyn Progress,
) -> Result<(StanceCard, FittedHead), TrainError> {
    progress.message(&format!("stance toward {target}"));
    let cv = cross_validate(p, x, task, progress)?;
    let sel = task.selection_rows();
    let gold: Vec<Stance> = sel.iter().map(|&i| Stance::ALL[task.classes[i]]).collect();
    let per_alpha: Vec<_> = cv
        .scores
        .iter()
        .map(|a| {
            let pred: Vec<Stance> = sel.iter().map(|&i| Stance::ALL[argmax(&a[i])]).collect();
            metrics::stance_metrics(&pred, &gold)
        })
        .collect();
    let quality: Vec<f64> = per_alpha.iter().map(|m| m.macro_f1).collect();
    let best = pick_alpha(&task.alphas, &quality);
    let fitted = refit(p, x, task, &cv, best, progress)?;
    let mut counts = BTreeMap::new();
    for &c in &task.classes {
        *counts.entry(Stance::ALL[c]).or_insert(0) += 1;
    }
    let card = StanceCard {
        target: target.clone(),
        alpha: task.alphas[best],
        counts,
        cv: per_alpha[best].clone(),
        heldout: None,
    };
    Ok((card, fitted))
}

/// The fit on all the task's rows at alpha number `best`, warm-started from the mean of
/// the folds' fits at that alpha. Binary heads with `p.nb_scaling` scale the columns by
/// ratios from all the rows, and the weights by the same scales afterwards: the model
/// scores unscaled TF-IDF rows.
fn refit(
    p: &TrainParams,
    x: &Csr,
    task: &Task,
    cv: &CrossValidation,
    best: usize,
    progress: &dyn Progress,
) -> Result<FittedHead, TrainError> {
    let mut xs = select_rows(x, &task.rows);
    let scales = task
        .nb_scaling(p)
        .map(|nb| nb.column_scales(&xs, &task.classes));
    if let Some(s) = &scales {
        nb::scale_columns(&mut xs, s);
    }
    let all: Vec<usize> = (0..task.rows.len()).collect();
    let sw = sample_weights(p, task, &all, &task.classes);
    let params = fit_params(p, task.alphas[best], task.total_weight(&all))?;
    let start = cv.mean_fits[best].as_ref();
    let mut f = logistic::fit_from(&params, &xs, &task.classes, task.k, sw.as_deref(), start)?;
    progress.fit_done();
    if let Some(s) = &scales {
        f.weights.iter_mut().zip(s).for_each(|(w, s)| *w *= s);
    }
    Ok(FittedHead {
        weights: f.weights,
        intercepts: f.intercepts,
    })
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
