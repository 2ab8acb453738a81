//! Task discovery: the labeled problems a training set holds, one per binary head and one
//! per stance target, each with enough examples of every class.

use std::collections::BTreeMap;

use super::{NbScaling, Progress, TrainError, TrainParams, TrainingData};
use crate::corpus::Record;
use crate::domain::{HeadName, Target};

/// One labeled problem: rows of the feature matrix and their classes.
pub(super) struct Task<'a> {
    pub(super) rows: Vec<usize>,
    pub(super) ids: Vec<&'a str>,
    pub(super) classes: Vec<usize>,
    /// Source weight of each task row ([`TrainingData::weights`]).
    pub(super) weights: Vec<f64>,
    /// Whether each task row is a reference item ([`TrainingData::reference`]).
    pub(super) reference: Vec<bool>,
    /// 1 for binary, 3 for stance.
    pub(super) k: usize,
    /// Penalties cross-validation tries: [`TrainParams::alphas`], or the task's fixed one.
    pub(super) alphas: Vec<f64>,
}

impl<'a> Task<'a> {
    pub(super) fn new(k: usize) -> Self {
        Task {
            rows: vec![],
            ids: vec![],
            classes: vec![],
            weights: vec![],
            reference: vec![],
            k,
            alphas: vec![],
        }
    }

    /// The same task over a matrix of its own rows, in order (row `i` is task row `i`).
    pub(super) fn renumbered(&self) -> Task<'a> {
        Task {
            rows: (0..self.rows.len()).collect(),
            ids: self.ids.clone(),
            classes: self.classes.clone(),
            weights: self.weights.clone(),
            reference: self.reference.clone(),
            k: self.k,
            alphas: self.alphas.clone(),
        }
    }

    /// Adds row `i` of `data` with class `class`.
    pub(super) fn push(&mut self, data: &'a TrainingData, i: usize, class: usize) {
        self.rows.push(i);
        self.ids.push(&data.records[i].id);
        self.classes.push(class);
        self.weights.push(data.weight(i));
        self.reference.push(data.is_reference(i));
    }

    /// The task rows whose out-of-fold scores choose the penalty, the calibration and the
    /// thresholds: the reference items, or every row when they lack one of the classes.
    pub(super) fn selection_rows(&self) -> Vec<usize> {
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

    pub(super) fn is_weighted(&self) -> bool {
        self.weights.iter().any(|&w| w != 1.0)
    }

    /// Sum of the source weights of the task rows `which`: the effective item count.
    pub(super) fn total_weight(&self, which: &[usize]) -> f64 {
        if self.is_weighted() {
            which.iter().map(|&i| self.weights[i]).sum()
        } else {
            which.len() as f64
        }
    }

    /// How many task rows each class has (binary: negatives, positives).
    pub(super) fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.k.max(2)];
        self.classes.iter().for_each(|&c| counts[c] += 1);
        counts
    }

    /// The column scaling this task trains with: the settings' own, for binary tasks only
    /// (the log-count ratio is between two classes).
    pub(super) fn nb_scaling(&self, p: &TrainParams) -> Option<NbScaling> {
        p.nb_scaling.filter(|_| self.k == 1)
    }
}

/// The tasks to fit: binary heads by name, then stance targets by name.
pub(super) struct Tasks<'a> {
    pub(super) heads: Vec<(HeadName, Task<'a>)>,
    pub(super) stance: Vec<(Target, Task<'a>)>,
}

impl Tasks<'_> {
    /// Fits to run: cross-validation over every alpha in every fold, and the refit.
    pub(super) fn fits(&self, p: &TrainParams) -> u64 {
        let heads = self.heads.iter().map(|(_, t)| t);
        let tasks = heads.chain(self.stance.iter().map(|(_, t)| t));
        tasks.map(|t| (t.alphas.len() * p.folds + 1) as u64).sum()
    }
}

/// Every binary head and every stance target with at least `p.min_examples` items of each
/// class; the others are named to `progress` and skipped.
pub(super) fn discover<'a>(
    p: &TrainParams,
    data: &'a TrainingData,
    progress: &dyn Progress,
) -> Result<Tasks<'a>, TrainError> {
    let mut heads = tasks_of(
        data,
        1,
        |r| r.labels.binary.iter().map(|(h, &v)| (h, v as usize)),
        |h, c| format!("skipping head {h}: {} positives, {} negatives", c[1], c[0]),
        |_| p.min_examples,
        progress,
    );
    let mut stance = tasks_of(
        data,
        3,
        |r| r.target.as_ref().zip(r.labels.stance.map(|s| s.index())),
        |t, c| format!("skipping stance target {t}: class counts {c:?}"),
        |t| {
            p.target_min_examples
                .get(t)
                .copied()
                .unwrap_or(p.min_examples)
        },
        progress,
    );
    let alphas = |fixed: Option<&f64>| fixed.map_or_else(|| p.alphas.clone(), |&a| vec![a]);
    for (head, task) in &mut heads {
        task.alphas = alphas(p.fixed_alphas.heads.get(head));
    }
    for (target, task) in &mut stance {
        task.alphas = alphas(p.fixed_alphas.stance.get(target));
    }
    if heads.is_empty() && stance.is_empty() {
        return Err(TrainError::NoData(format!(
            "no head has {} or more examples of each class",
            p.min_examples
        )));
    }
    Ok(Tasks { heads, stance })
}

/// One task of `k` outputs per key that `labels` gives a record (with its class), the
/// records in order, keys sorted; a key with fewer than `min_examples(key)` of a class is
/// skipped with the message `skipped(key, class_counts)`.
fn tasks_of<'a, K, I>(
    data: &'a TrainingData,
    k: usize,
    labels: impl Fn(&'a Record) -> I,
    skipped: impl Fn(&K, &[usize]) -> String,
    min_examples: impl Fn(&K) -> usize,
    progress: &dyn Progress,
) -> Vec<(K, Task<'a>)>
where
    K: Ord + Clone + 'a,
    I: IntoIterator<Item = (&'a K, usize)>,
{
    let mut found: BTreeMap<&K, Task> = BTreeMap::new();
    for (i, r) in data.records.iter().enumerate() {
        for (key, class) in labels(r) {
            found
                .entry(key)
                .or_insert_with(|| Task::new(k))
                .push(data, i, class);
        }
    }
    found
        .into_iter()
        .filter_map(|(key, task)| {
            let counts = task.class_counts();
            if counts.iter().any(|&c| c < min_examples(key)) {
                progress.message(&skipped(key, &counts));
                return None;
            }
            Some((key.clone(), task))
        })
        .collect()
}
