//! Classification metrics for cross-validation, the report and `eval`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::Stance;
use crate::model::{BinaryMetrics, StanceMetrics};

/// Area under the ROC curve (ties count one half). `None` when a class is missing.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let pos = labels.iter().filter(|&&l| l).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    // Mann-Whitney U from average ranks.
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j + 1) as f64 / 2.0; // ranks are 1-based
        for &o in &order[i..j] {
            if labels[o] {
                rank_sum_pos += avg_rank;
            }
        }
        i = j;
    }
    let u = rank_sum_pos - (pos * (pos + 1)) as f64 / 2.0;
    Some(u / (pos * neg) as f64)
}

/// Two scorers' ROC-AUC on the same items, B's minus A's, and the 95 % percentile interval
/// of that difference over bootstrap resamples of the items (each resample scores both).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PairedAuc {
    pub auc_a: f64,
    pub auc_b: f64,
    /// `auc_b - auc_a` on all the items.
    pub difference: f64,
    pub low: f64,
    pub high: f64,
    /// Resamples that held both classes: the others have no AUC and are skipped.
    pub resamples: usize,
}

impl PairedAuc {
    /// B is better: the whole interval lies above zero.
    pub fn b_better(&self) -> bool {
        self.low > 0.0
    }

    /// B is worse: the whole interval lies below zero.
    pub fn b_worse(&self) -> bool {
        self.high < 0.0
    }
}

/// The paired bootstrap of `bench/realdata/paired.py`, draw for draw: `resamples` times, `n`
/// items drawn with replacement by `random.Random(seed).randrange(n)`, both scorers' AUC on
/// them; the interval is the sorted differences at `int(0.025 m)` and `int(0.975 m) - 1` of
/// the `m` resamples with both classes. (`paired.py` seeds once for all heads: this equals
/// its first head.) `None` when a class is missing or no resample holds both.
pub fn paired_bootstrap_auc(
    a: &[f64],
    b: &[f64],
    labels: &[bool],
    resamples: usize,
    seed: u64,
) -> Option<PairedAuc> {
    let (auc_a, auc_b) = (roc_auc(a, labels)?, roc_auc(b, labels)?);
    let mut rng = super::pyrandom::PyRandom::new(seed);
    let n = labels.len();
    let mut diffs = Vec::with_capacity(resamples);
    let (mut ra, mut rb, mut rl) = (vec![0.0; n], vec![0.0; n], vec![false; n]);
    for _ in 0..resamples {
        for j in 0..n {
            let k = rng.randrange(n);
            (ra[j], rb[j], rl[j]) = (a[k], b[k], labels[k]);
        }
        if let (Some(da), Some(db)) = (roc_auc(&ra, &rl), roc_auc(&rb, &rl)) {
            diffs.push(db - da);
        }
    }
    if diffs.is_empty() {
        return None;
    }
    // A stable sort that holds -0 and 0 equal, as Python's.
    diffs.sort_by(|x, y| x.partial_cmp(y).expect("AUCs are finite"));
    let m = diffs.len() as f64;
    // Python reads index -1 (the last) when m is 1.
    let high_at = ((0.975 * m) as usize).saturating_sub(1);
    let (low, high) = (diffs[(0.025 * m) as usize], diffs[high_at]);
    Some(PairedAuc {
        auc_a,
        auc_b,
        difference: auc_b - auc_a,
        low,
        high,
        resamples: diffs.len(),
    })
}

/// Average precision (area under the precision-recall curve, step-wise, as scikit-learn).
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let pos = labels.iter().filter(|&&l| l).count();
    if pos == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp, mut ap, mut prev_recall) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            if labels[order[j]] {
                tp += 1;
            } else {
                fp += 1;
            }
            j += 1;
        }
        let recall = tp as f64 / pos as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
        i = j;
    }
    Some(ap)
}

/// (true positives, false positives, false negatives, true negatives) when predicting
/// `score >= threshold`.
fn confusion(scores: &[f64], labels: &[bool], threshold: f64) -> (usize, usize, usize, usize) {
    let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
    for (&s, &l) in scores.iter().zip(labels) {
        match (s >= threshold, l) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => tn += 1,
        }
    }
    (tp, fp, fn_, tn)
}

/// Precision, recall and F1 of one class from its hits, wrong claims and misses.
fn class_prf(hit: usize, wrong: usize, missed: usize) -> (f64, f64, f64) {
    let ratio = |a: usize, b: usize| {
        if a + b == 0 {
            0.0
        } else {
            a as f64 / (a + b) as f64
        }
    };
    let (p, r) = (ratio(hit, wrong), ratio(hit, missed));
    (p, r, f1(p, r))
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// Precision, recall and F1 of the positive class when predicting `score >= threshold`.
pub fn precision_recall_f1(scores: &[f64], labels: &[bool], threshold: f64) -> (f64, f64, f64) {
    let (tp, fp, fn_, _) = confusion(scores, labels, threshold);
    class_prf(tp, fp, fn_)
}

/// Macro-F1 (mean of the F1 of both classes) when predicting `score >= threshold`.
pub fn macro_f1(scores: &[f64], labels: &[bool], threshold: f64) -> f64 {
    let (tp, fp, fn_, tn) = confusion(scores, labels, threshold);
    // The negative class's hits are the true negatives, its wrong claims the misses.
    (class_prf(tp, fp, fn_).2 + class_prf(tn, fn_, fp).2) / 2.0
}

/// Thresholds tried when choosing one: 0.05, 0.06, …, 0.95.
pub fn threshold_grid() -> impl Iterator<Item = f64> {
    (5..=95).map(|i| i as f64 / 100.0)
}

/// The grid threshold where `metric` is highest (ties: the higher threshold).
fn best_on_grid(metric: impl Fn(f64) -> f64) -> f64 {
    let mut best = (f64::NEG_INFINITY, 0.5);
    for t in threshold_grid() {
        let m = metric(t);
        if m >= best.0 {
            best = (m, t);
        }
    }
    best.1
}

/// The grid threshold with the best F1 (ties: the higher threshold).
pub fn best_f1_threshold(scores: &[f64], labels: &[bool]) -> f64 {
    best_on_grid(|t| precision_recall_f1(scores, labels, t).2)
}

/// The grid threshold with the best macro-F1 (ties: the higher threshold). Unlike the
/// positive class's F1, it does not drift to "flag everything" when positives are the
/// majority (as in corpora collected for hostility).
pub fn best_macro_f1_threshold(scores: &[f64], labels: &[bool]) -> f64 {
    best_on_grid(|t| macro_f1(scores, labels, t))
}

/// The lowest grid threshold at or above `from` whose precision reaches `precision` with
/// at least three predicted positives; 0.99 when there is none.
pub fn precision_threshold(scores: &[f64], labels: &[bool], from: f64, precision: f64) -> f64 {
    for t in threshold_grid().filter(|&t| t >= from) {
        let predicted = scores.iter().filter(|&&s| s >= t).count();
        if predicted >= 3 && precision_recall_f1(scores, labels, t).0 >= precision {
            return t;
        }
    }
    0.99
}

pub fn brier(scores: &[f64], labels: &[bool]) -> f64 {
    if scores.is_empty() {
        return 0.0;
    }
    scores
        .iter()
        .zip(labels)
        .map(|(&s, &l)| (s - f64::from(u8::from(l))).powi(2))
        .sum::<f64>()
        / scores.len() as f64
}

/// All binary metrics at `threshold`; AUC and AP are 0 when a class is missing.
pub fn binary_metrics(scores: &[f64], labels: &[bool], threshold: f64) -> BinaryMetrics {
    let (precision, recall, f1_pos) = precision_recall_f1(scores, labels, threshold);
    BinaryMetrics {
        n: labels.len(),
        positives: labels.iter().filter(|&&l| l).count(),
        roc_auc: roc_auc(scores, labels).unwrap_or(0.0),
        average_precision: average_precision(scores, labels).unwrap_or(0.0),
        threshold,
        precision,
        recall,
        f1: f1_pos,
        macro_f1: macro_f1(scores, labels, threshold),
        brier: brier(scores, labels),
    }
}

/// Per-class F1, macro-F1 over the three classes, and F_avg over favor and against.
pub fn stance_metrics(predicted: &[Stance], gold: &[Stance]) -> StanceMetrics {
    let mut f1s = BTreeMap::new();
    for c in Stance::ALL {
        let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
        for (&p, &g) in predicted.iter().zip(gold) {
            match (p == c, g == c) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                _ => {}
            }
        }
        f1s.insert(c, class_prf(tp, fp, fn_).2);
    }
    let correct = predicted.iter().zip(gold).filter(|(p, g)| p == g).count();
    StanceMetrics {
        n: gold.len(),
        accuracy: if gold.is_empty() {
            0.0
        } else {
            correct as f64 / gold.len() as f64
        },
        macro_f1: f1s.values().sum::<f64>() / 3.0,
        f_avg: (f1s[&Stance::Favor] + f1s[&Stance::Against]) / 2.0,
        f1: f1s,
    }
}

/// Reliability table: for ten equal-width score bins, (mean score, observed positive rate, count).
pub fn reliability(scores: &[f64], labels: &[bool]) -> Vec<(f64, f64, usize)> {
    let mut bins = vec![(0.0, 0.0, 0usize); 10];
    for (&s, &l) in scores.iter().zip(labels) {
        let b = ((s * 10.0) as usize).min(9);
        bins[b].0 += s;
        bins[b].1 += f64::from(u8::from(l));
        bins[b].2 += 1;
    }
    bins.into_iter()
        .map(|(s, p, n)| {
            if n == 0 {
                (0.0, 0.0, 0)
            } else {
                (s / n as f64, p / n as f64, n)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_of_known_rankings() {
        let l = [true, true, false, false];
        assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &l), Some(1.0));
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &l), Some(0.0));
        assert_eq!(roc_auc(&[0.5, 0.5, 0.5, 0.5], &l), Some(0.5));
        // One positive above one negative, below the other: 3 of 4 pairs right.
        assert_eq!(roc_auc(&[0.9, 0.4, 0.5, 0.1], &l), Some(0.75));
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
    }

    /// 30 items, every third positive; B separates them better than A.
    fn two_scorers() -> (Vec<f64>, Vec<f64>, Vec<bool>) {
        let labels: Vec<bool> = (0..30).map(|i| i % 3 == 0).collect();
        let score = |i: usize, mult: usize, lift: f64| {
            ((i * mult) % 30) as f64 / 30.0 + if labels[i] { lift } else { 0.0 }
        };
        let a = (0..30).map(|i| score(i, 7, 0.3)).collect();
        let b = (0..30).map(|i| score(i, 11, 0.5)).collect();
        (a, b, labels)
    }

    #[test]
    fn paired_bootstrap_draws_the_interval_paired_py_draws() {
        // The items of `two_scorers` as JSONL, through
        // `python3 bench/realdata/paired.py GOLD A B --resamples 1000 --seed S` with the
        // numbers printed by `repr`: AUC 0.72 and 0.85, and these intervals.
        let (a, b, labels) = two_scorers();
        let p = paired_bootstrap_auc(&a, &b, &labels, 1000, 42).unwrap();
        assert_eq!((p.auc_a, p.auc_b), (0.72, 0.85));
        assert_eq!((p.low, p.high), (-0.08133971291866027, 0.3693181818181819));
        assert_eq!(p.resamples, 1000);
        let p = paired_bootstrap_auc(&a, &b, &labels, 1000, 7).unwrap();
        assert_eq!((p.low, p.high), (-0.09523809523809523, 0.3557692307692307));
        assert!(!p.b_better() && !p.b_worse(), "a tie: {p:?}");
    }

    #[test]
    fn paired_bootstrap_of_one_scorer_against_itself_is_zero() {
        let (a, _, labels) = two_scorers();
        let p = paired_bootstrap_auc(&a, &a, &labels, 200, 1).unwrap();
        assert_eq!((p.difference, p.low, p.high), (0.0, 0.0, 0.0));
        assert!(!p.b_better() && !p.b_worse());
    }

    #[test]
    fn paired_bootstrap_sees_a_clearly_better_scorer() {
        // B ranks every positive first; A is the noisy scorer of `two_scorers`.
        let (a, _, labels) = two_scorers();
        let b: Vec<f64> = labels.iter().map(|&l| f64::from(u8::from(l))).collect();
        let p = paired_bootstrap_auc(&a, &b, &labels, 1000, 42).unwrap();
        assert_eq!(p.auc_b, 1.0);
        assert!(p.b_better(), "{p:?}");
        let swapped = paired_bootstrap_auc(&b, &a, &labels, 1000, 42).unwrap();
        assert!(swapped.b_worse(), "{swapped:?}");
        assert_eq!((swapped.low, swapped.high), (-p.high, -p.low));
    }

    #[test]
    fn paired_bootstrap_needs_both_classes() {
        assert_eq!(
            paired_bootstrap_auc(&[0.1, 0.2], &[0.3, 0.4], &[true, true], 10, 1),
            None
        );
    }

    #[test]
    fn average_precision_matches_scikit_learn() {
        // sklearn.metrics.average_precision_score([1,0,1,0], [0.9,0.8,0.7,0.1]) = 0.8333…
        let ap = average_precision(&[0.9, 0.8, 0.7, 0.1], &[true, false, true, false]).unwrap();
        assert!((ap - 5.0 / 6.0).abs() < 1e-12, "{ap}");
    }

    #[test]
    fn thresholds_and_f1() {
        let s = [0.9, 0.8, 0.3, 0.2];
        let l = [true, true, false, true];
        assert_eq!(precision_recall_f1(&s, &l, 0.5), (1.0, 2.0 / 3.0, 0.8));
        assert_eq!(best_f1_threshold(&s, &l), 0.2);
        let m = binary_metrics(&s, &l, 0.5);
        assert_eq!(m.positives, 3);
        // Negative class: one true negative predicted, one false negative → P 0.5, R 1.
        assert!((m.macro_f1 - (0.8 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert!((macro_f1(&s, &l, 0.5) - m.macro_f1).abs() < 1e-12);
        // Positives the majority: F1 of the positive class prefers flagging everything,
        // macro-F1 keeps the clear negative out.
        let s = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2];
        let l = [true, true, true, false, true, false, true];
        assert_eq!(best_f1_threshold(&s, &l), 0.2);
        assert_eq!(best_macro_f1_threshold(&s, &l), 0.7);
        assert!((m.brier - (0.01 + 0.04 + 0.09 + 0.64) / 4.0).abs() < 1e-12);
    }

    #[test]
    fn stance_f_avg_ignores_none() {
        use Stance::*;
        let gold = [Favor, Against, None, None];
        let pred = [Favor, None, None, Against];
        let m = stance_metrics(&pred, &gold);
        assert_eq!(m.f1[&Favor], 1.0);
        assert_eq!(m.f1[&Against], 0.0);
        assert_eq!(m.f_avg, 0.5);
        assert_eq!(m.accuracy, 0.5);
    }

    #[test]
    fn reliability_bins() {
        let r = reliability(&[0.05, 0.15, 0.95, 0.99], &[false, true, true, true]);
        assert_eq!(r[0], (0.05, 0.0, 1));
        assert_eq!(r[9].2, 2);
    }
}
