//! Our sparse L-BFGS fit against linfa-logistic 0.8.1 on small dense problems: same
//! objective, same solver family, so the fitted probabilities must agree within 1e-4.
//! linfa-logistic 0.8.1 calls the *more frequent* class "positive" (linfa issue #393), so
//! its probabilities are mapped through `labels().pos` before comparing.

use linfa::prelude::*;
use linfa_logistic::{LogisticRegression, MultiLogisticRegression};
use ndarray::{Array1, Array2};
use vigie::features::SparseRow;
use vigie::model::logistic::{csr_from_rows, fit, LogisticParams};

/// Deterministic pseudo-random numbers in [-1, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// A dense problem with some exact zeros (so the sparse side really is sparse) and labels
/// from a noisy linear rule with `k` classes.
fn problem(seed: u64, n: usize, d: usize, k: usize, bias: f64) -> (Array2<f64>, Vec<usize>) {
    let mut r = Lcg(seed);
    let mut x = Array2::zeros((n, d));
    let w: Vec<Vec<f64>> = (0..k)
        .map(|_| (0..d).map(|_| r.next() * 2.0).collect())
        .collect();
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        for j in 0..d {
            let v = r.next();
            x[[i, j]] = if v.abs() < 0.3 {
                0.0
            } else {
                (v * 1000.0).round() / 1000.0
            };
        }
        let scores: Vec<f64> = (0..k)
            .map(|c| {
                (0..d).map(|j| x[[i, j]] * w[c][j]).sum::<f64>()
                    + r.next()
                    + if c == 0 { bias } else { 0.0 }
            })
            .collect();
        let best = (0..k)
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .unwrap();
        y.push(best);
    }
    (x, y)
}

fn sparse(x: &Array2<f64>) -> vigie::model::logistic::Csr {
    let rows: Vec<SparseRow> = x
        .rows()
        .into_iter()
        .map(|r| {
            let mut s = SparseRow::default();
            for (j, &v) in r.iter().enumerate() {
                if v != 0.0 {
                    s.indices.push(j as u32);
                    s.values.push(v as f32);
                }
            }
            s
        })
        .collect();
    csr_from_rows(x.ncols(), &rows)
}

#[test]
fn binary_probabilities_match_linfa_logistic() {
    // bias > 0 makes class 0 the majority, bias < 0 class 1: both sides of linfa #393.
    for (seed, bias, alpha) in [(1, 1.5, 1.0), (2, -1.5, 0.1), (3, 0.0, 3.0)] {
        let (x, y) = problem(seed, 80, 6, 2, bias);
        // f32 features on our side: compare on the same rounded values.
        let x = x.mapv(|v| v as f32 as f64);
        let counts = [
            y.iter().filter(|&&c| c == 0).count(),
            y.iter().filter(|&&c| c == 1).count(),
        ];
        assert!(counts[0] > 5 && counts[1] > 5, "{counts:?}");

        let ds = Dataset::new(x.clone(), Array1::from(y.clone()));
        let reference = LogisticRegression::default()
            .alpha(alpha)
            .max_iterations(1000)
            .gradient_tolerance(1e-9)
            .fit(&ds)
            .unwrap();
        let p_linfa = reference.predict_probabilities(&x);
        let pos_is_one = reference.labels().pos.class == 1;
        assert_eq!(
            pos_is_one,
            counts[1] > counts[0],
            "linfa #393: positive = majority class"
        );

        let params = LogisticParams::default()
            .alpha(alpha)
            .max_iterations(1000)
            .gradient_tolerance(1e-9)
            .check()
            .unwrap();
        let ours = fit(&params, &sparse(&x), &y, 1, None).unwrap();
        let p_ours = ours.predict(&sparse(&x));
        for i in 0..x.nrows() {
            let p1_linfa = if pos_is_one {
                p_linfa[i]
            } else {
                1.0 - p_linfa[i]
            };
            let d = (p1_linfa - p_ours[i][0]).abs();
            assert!(
                d < 1e-4,
                "seed {seed} row {i}: linfa {p1_linfa} ours {}",
                p_ours[i][0]
            );
        }
    }
}

#[test]
fn softmax_probabilities_match_linfa_multi_logistic() {
    for (seed, alpha) in [(7, 1.0), (8, 0.3)] {
        let (x, y) = problem(seed, 90, 5, 3, 0.0);
        let x = x.mapv(|v| v as f32 as f64);
        let ds = Dataset::new(x.clone(), Array1::from(y.clone()));
        let reference = MultiLogisticRegression::default()
            .alpha(alpha)
            .max_iterations(1000)
            .gradient_tolerance(1e-9)
            .fit(&ds)
            .unwrap();
        let p_linfa = reference.predict_probabilities(&x);
        let classes = reference.classes().to_vec();
        assert_eq!(classes.len(), 3);

        let params = LogisticParams::default()
            .alpha(alpha)
            .max_iterations(1000)
            .gradient_tolerance(1e-9)
            .check()
            .unwrap();
        let ours = fit(&params, &sparse(&x), &y, 3, None).unwrap();
        let p_ours = ours.predict(&sparse(&x));
        for i in 0..x.nrows() {
            for (col, &c) in classes.iter().enumerate() {
                let d = (p_linfa[[i, col]] - p_ours[i][c]).abs();
                assert!(
                    d < 1e-4,
                    "seed {seed} row {i} class {c}: linfa {} ours {}",
                    p_linfa[[i, col]],
                    p_ours[i][c]
                );
            }
        }
    }
}
