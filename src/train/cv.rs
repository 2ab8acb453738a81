//! Cross-validation: stratified seeded folds, every alpha fitted in every fold (folds in
//! parallel, alphas warm-started within a fold), out-of-fold scores and the mean fit.

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::tasks::Task;
use super::{nb, ClassWeight, Progress, TrainError, TrainParams};
use crate::model::logistic::{self, select_rows, Csr, LogisticParams};

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
pub(super) fn fit_params(
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
pub(super) fn sample_weights(
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

/// One cross-validation fit: alpha index, out-of-fold predictions (task row, scores), the fit.
type FoldScores = (usize, Vec<(usize, Vec<f64>)>, logistic::Fitted);

/// What cross-validation gives: out-of-fold scores of each alpha (`scores[a][i]` for task
/// row `i`) and, per alpha, the mean of the folds' fits, a warm start for the final fit
/// (as scikit-learn's `LogisticRegressionCV` starts its refit).
pub(super) struct CrossValidation {
    pub(super) scores: Vec<Vec<Vec<f64>>>,
    pub(super) mean_fits: Vec<Option<logistic::Fitted>>,
}

/// Every alpha of `task.alphas` fitted in every fold of the task's rows (stratified, seeded).
pub(super) fn cross_validate(
    p: &TrainParams,
    x: &Csr,
    task: &Task,
    progress: &dyn Progress,
) -> Result<CrossValidation, TrainError> {
    let fold = assign_folds(p.seed, &task.ids, &task.classes, p.folds);
    // Folds run in parallel; within a fold the alphas go from the strongest penalty to the
    // weakest, each fit starting from the previous one's solution (a warm start).
    let alphas = &task.alphas;
    let mut order: Vec<usize> = (0..alphas.len()).collect();
    order.sort_by(|&a, &b| alphas[b].total_cmp(&alphas[a]));
    let results: Vec<Result<Vec<FoldScores>, TrainError>> = (0..p.folds)
        .into_par_iter()
        .map(|f| fit_fold(p, x, task, &fold, f, &order, progress))
        .collect();
    gather(p, task, results)
}

/// The fits of fold `f` (trained on the other folds' rows, scoring its own), alphas in
/// `order`. Binary tasks with `p.nb_scaling` scale the columns by ratios from the fold's
/// own training rows.
fn fit_fold(
    p: &TrainParams,
    x: &Csr,
    task: &Task,
    fold: &[usize],
    f: usize,
    order: &[usize],
    progress: &dyn Progress,
) -> Result<Vec<FoldScores>, TrainError> {
    let train: Vec<usize> = (0..task.rows.len()).filter(|&i| fold[i] != f).collect();
    let test: Vec<usize> = (0..task.rows.len()).filter(|&i| fold[i] == f).collect();
    let mut xs = select_rows(x, &train.iter().map(|&i| task.rows[i]).collect::<Vec<_>>());
    let ys: Vec<usize> = train.iter().map(|&i| task.classes[i]).collect();
    let sw = sample_weights(p, task, &train, &ys);
    let items = task.total_weight(&train);
    let mut xt = select_rows(x, &test.iter().map(|&i| task.rows[i]).collect::<Vec<_>>());
    if let Some(nb) = task.nb_scaling(p) {
        let scales = nb.column_scales(&xs, &ys);
        nb::scale_columns(&mut xs, &scales);
        nb::scale_columns(&mut xt, &scales);
    }
    let mut out: Vec<FoldScores> = Vec::with_capacity(order.len());
    for &a in order {
        let params = fit_params(p, task.alphas[a], items)?;
        let previous = out.last().map(|(_, _, fit)| fit);
        let fitted = logistic::fit_from(&params, &xs, &ys, task.k, sw.as_deref(), previous)?;
        let pred = fitted.predict(&xt);
        progress.fit_done();
        out.push((a, test.iter().copied().zip(pred).collect(), fitted));
    }
    Ok(out)
}

/// The folds' results, in fold order, as out-of-fold scores of the task's rows and the
/// mean fit of each alpha.
fn gather(
    p: &TrainParams,
    task: &Task,
    results: Vec<Result<Vec<FoldScores>, TrainError>>,
) -> Result<CrossValidation, TrainError> {
    let alphas = task.alphas.len();
    let mut scores = vec![vec![Vec::new(); task.rows.len()]; alphas];
    let mut mean_fits: Vec<Option<logistic::Fitted>> = vec![None; alphas];
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
