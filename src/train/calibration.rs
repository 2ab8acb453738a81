//! Platt scaling of binary heads (`train --calibration platt`): `p = σ(a·z + b)` over a
//! head's logit `z`, with `a` and `b` fitted on the out-of-fold logits of the chosen penalty
//! (as scikit-learn's `CalibratedClassifierCV(method="sigmoid", ensemble=False)` does).
//!
//! Why: class weights (`--class-weight balanced`) rank better on skewed corpora, but they
//! move every probability towards the minority class, and a strong L2 penalty shrinks them
//! towards ½; a site that reads a score as "the chance a moderator would reject this" gets
//! a wrong number. The map is increasing, so ROC-AUC and the ranking are unchanged, and
//! affine in `z`, so it folds into the head's weights and intercept: the model file,
//! scoring speed and explanations stay those of a plain logistic model.

use crate::model::logistic::{sigmoid, softplus};
use crate::model::Platt;

/// How a binary head's probabilities are calibrated.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Calibration {
    /// The logistic model's own probabilities.
    #[default]
    None,
    /// Platt scaling on the out-of-fold logits.
    Platt,
}

/// Probabilities are clamped this far from 0 and 1 before their logit is taken: a
/// probability rounded to 1.0 has no finite logit, and the clamp keeps its rank among the
/// others except against items equally far out.
const P_CLAMP: f64 = 1e-15;

/// The logit of a probability from a cross-validation fit.
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(P_CLAMP, 1.0 - P_CLAMP);
    (p / (1.0 - p)).ln()
}

/// The Platt map of out-of-fold probabilities `scores` and the scores it calibrates (each
/// logit taken once); `None` as for [`fit_platt`].
pub fn calibrate(scores: &[f64], labels: &[bool]) -> Option<(Platt, Vec<f64>)> {
    let z: Vec<f64> = scores.iter().map(|&s| logit(s)).collect();
    let platt = fit_platt(&z, labels)?;
    Some((platt, z.into_iter().map(|z| platt.apply(z)).collect()))
}

/// Fits `a` and `b` by Newton's method with a backtracking line search on the log-loss
/// against Platt's smoothed targets (`(n₊ + 1) / (n₊ + 2)` for positives, `1 / (n₋ + 2)`
/// for negatives; they keep a separable fold from sending `a` to infinity), following Lin,
/// Lin and Weng, "A note on Platt's probabilistic outputs for support vector machines"
/// (2007). Every item weighs the same whatever the training's class weights: the point is
/// the corpus's own rates. `None` when a class is missing, or when the fitted slope is not
/// positive (the logits rank no better than chance, and a decreasing map would turn the
/// head upside down).
pub fn fit_platt(logits: &[f64], labels: &[bool]) -> Option<Platt> {
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 || logits.len() != labels.len() {
        return None;
    }
    let (t_pos, t_neg) = ((pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0));
    let target = |l: bool| if l { t_pos } else { t_neg };
    // Σ softplus(f) − t·f, with f = a·z + b.
    let loss = |a: f64, b: f64| -> f64 {
        logits
            .iter()
            .zip(labels)
            .map(|(&z, &l)| {
                let f = a * z + b;
                softplus(f) - target(l) * f
            })
            .sum()
    };
    // Platt's start: no slope, the prior log-odds.
    let (mut a, mut b) = (0.0, ((pos + 1.0) / (neg + 1.0)).ln());
    let mut f = loss(a, b);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&z, &l) in logits.iter().zip(labels) {
            let p = sigmoid(a * z + b);
            let (r, w) = (p - target(l), p * (1.0 - p));
            ga += r * z;
            gb += r;
            haa += w * z * z;
            hab += w * z;
            hbb += w;
        }
        if ga.abs() < 1e-5 && gb.abs() < 1e-5 {
            break;
        }
        // A small ridge keeps the Hessian invertible when every p has saturated.
        let (haa, hbb) = (haa + 1e-12, hbb + 1e-12);
        let det = haa * hbb - hab * hab;
        let da = -(hbb * ga - hab * gb) / det;
        let db = -(-hab * ga + haa * gb) / det;
        let slope = ga * da + gb * db;
        let mut step = 1.0;
        let mut moved = false;
        while step >= 1e-10 {
            let (na, nb) = (a + step * da, b + step * db);
            let nf = loss(na, nb);
            if nf.is_finite() && nf <= f + 1e-4 * step * slope {
                (a, b, f) = (na, nb, nf);
                moved = true;
                break;
            }
            step /= 2.0;
        }
        if !moved {
            break;
        }
    }
    (a.is_finite() && b.is_finite() && a > 0.0).then_some(Platt { a, b })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::metrics::{brier, roc_auc};

    /// A deterministic pseudo-random stream in [0, 1) (a linear congruential generator).
    fn uniform(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn recovers_the_map_that_generated_the_labels() {
        // Labels drawn with P(y) = σ(2z − 1): Platt's fit should find a ≈ 2, b ≈ −1.
        let mut u = uniform(7);
        let z: Vec<f64> = (0..20_000).map(|_| u() * 6.0 - 3.0).collect();
        let y: Vec<bool> = z.iter().map(|&z| u() < sigmoid(2.0 * z - 1.0)).collect();
        let p = fit_platt(&z, &y).expect("a fit");
        assert!((p.a - 2.0).abs() < 0.1 && (p.b + 1.0).abs() < 0.1, "{p:?}");
    }

    #[test]
    fn fixes_scores_shifted_as_class_weights_shift_them_and_keeps_the_ranking() {
        // 90 % positives scored as a balanced fit would: centred on ½, squeezed.
        let mut u = uniform(11);
        let z: Vec<f64> = (0..5_000).map(|_| u() * 4.0 - 2.0).collect();
        let y: Vec<bool> = z.iter().map(|&z| u() < sigmoid(1.5 * z + 2.2)).collect();
        let raw: Vec<f64> = z.iter().map(|&z| sigmoid(0.5 * z)).collect();
        let p = fit_platt(&raw.iter().map(|&s| logit(s)).collect::<Vec<_>>(), &y).unwrap();
        let cal: Vec<f64> = raw.iter().map(|&s| p.apply(logit(s))).collect();
        assert!(
            brier(&cal, &y) < brier(&raw, &y) - 0.05,
            "{} vs {}",
            brier(&cal, &y),
            brier(&raw, &y)
        );
        let mean = cal.iter().sum::<f64>() / cal.len() as f64;
        let rate = y.iter().filter(|&&l| l).count() as f64 / y.len() as f64;
        assert!((mean - rate).abs() < 0.01, "mean {mean}, rate {rate}");
        assert_eq!(roc_auc(&cal, &y), roc_auc(&raw, &y));
    }

    #[test]
    fn refuses_one_class_and_decreasing_maps() {
        assert_eq!(fit_platt(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(fit_platt(&[], &[]), None);
        // Higher logits are negatives: the slope would be negative.
        let z: Vec<f64> = (0..100).map(|i| i as f64 / 10.0).collect();
        let y: Vec<bool> = (0..100).map(|i| i < 50).collect();
        assert_eq!(fit_platt(&z, &y), None);
    }

    #[test]
    fn separable_logits_keep_a_finite_slope() {
        // Platt's targets stop the slope from growing without bound.
        let z: Vec<f64> = (0..40).map(|i| i as f64 - 19.5).collect();
        let y: Vec<bool> = z.iter().map(|&z| z > 0.0).collect();
        let p = fit_platt(&z, &y).unwrap();
        assert!(p.a.is_finite() && p.a > 0.0 && p.a < 100.0, "{p:?}");
        assert!(p.apply(-19.5) > 0.0 && p.apply(19.5) < 1.0);
    }

    #[test]
    fn logits_of_saturated_probabilities_are_finite() {
        assert!(logit(1.0).is_finite() && logit(0.0).is_finite());
        assert!(logit(1.0) > logit(0.999_999));
        assert!((logit(0.5)).abs() < 1e-12);
    }
}
