//! L2-regularised logistic regression (binary and softmax) over sparse CSR rows, with the
//! objective of linfa-logistic 0.8.1: `-Σ log σ(y·z) + α/2 ‖w‖²` (intercept not
//! penalised), minimised by L-BFGS ([`super::lbfgs`]; linfa-logistic uses argmin's).
//! linfa-logistic itself needs a dense `ndarray` matrix (linfa issue #192), which text
//! features do not fit in; `tests/linfa_reference.rs` checks that both give the same
//! probabilities on small dense problems. Optional per-sample weights (class balancing)
//! multiply each sample's loss.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sprs::CsMatI;

/// Sparse feature matrix: one row a document.
pub type Csr = CsMatI<f32, u32, usize>;

/// Builds a CSR matrix from sparse rows.
pub fn csr_from_rows(n_cols: usize, rows: &[crate::features::SparseRow]) -> Csr {
    let mut indptr = Vec::with_capacity(rows.len() + 1);
    let nnz: usize = rows.iter().map(|r| r.indices.len()).sum();
    let mut indices = Vec::with_capacity(nnz);
    let mut data = Vec::with_capacity(nnz);
    indptr.push(0);
    for r in rows {
        indices.extend_from_slice(&r.indices);
        data.extend_from_slice(&r.values);
        indptr.push(indices.len());
    }
    CsMatI::new((rows.len(), n_cols), indptr, indices, data)
}

/// The rows `which` of `x`, in that order.
pub fn select_rows(x: &Csr, which: &[usize]) -> Csr {
    let (ip, ind, val) = (x.indptr(), x.indices(), x.data());
    let ip = ip.raw_storage();
    let mut indptr = Vec::with_capacity(which.len() + 1);
    let mut indices = Vec::new();
    let mut data = Vec::new();
    indptr.push(0);
    for &r in which {
        indices.extend_from_slice(&ind[ip[r]..ip[r + 1]]);
        data.extend_from_slice(&val[ip[r]..ip[r + 1]]);
        indptr.push(indices.len());
    }
    CsMatI::new((which.len(), x.cols()), indptr, indices, data)
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FitError {
    #[error("alpha must be finite and >= 0, got {0}")]
    InvalidAlpha(f64),
    #[error("gradient tolerance must be finite and > 0, got {0}")]
    InvalidTolerance(f64),
    #[error("max_iterations must be > 0")]
    InvalidIterations,
    #[error("{0} rows but {1} targets")]
    Shape(usize, usize),
    #[error("need at least one example of each class to fit, got class counts {0:?}")]
    OneClass(Vec<usize>),
}

/// Hyperparameters, as linfa-logistic's `LogisticRegressionParams` (same defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticParams {
    pub alpha: f64,
    pub max_iterations: u64,
    pub gradient_tolerance: f64,
}

/// Checked hyperparameters; only these can fit.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidLogisticParams(LogisticParams);

impl Default for LogisticParams {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            max_iterations: 100,
            gradient_tolerance: 1e-4,
        }
    }
}

impl LogisticParams {
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
    pub fn max_iterations(mut self, n: u64) -> Self {
        self.max_iterations = n;
        self
    }
    pub fn gradient_tolerance(mut self, t: f64) -> Self {
        self.gradient_tolerance = t;
        self
    }
    pub fn check(self) -> Result<ValidLogisticParams, FitError> {
        if !self.alpha.is_finite() || self.alpha < 0.0 {
            return Err(FitError::InvalidAlpha(self.alpha));
        }
        if !self.gradient_tolerance.is_finite() || self.gradient_tolerance <= 0.0 {
            return Err(FitError::InvalidTolerance(self.gradient_tolerance));
        }
        if self.max_iterations == 0 {
            return Err(FitError::InvalidIterations);
        }
        Ok(ValidLogisticParams(self))
    }
}

impl ValidLogisticParams {
    pub fn alpha(&self) -> f64 {
        self.0.alpha
    }
}

/// Fitted weights of `k` outputs: `weights[f * k + j]`, `intercepts[j]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    pub k: usize,
    pub weights: Vec<f64>,
    pub intercepts: Vec<f64>,
    pub iterations: u64,
}

impl Fitted {
    /// Raw scores (logits) of one row given as (index, value) pairs.
    pub fn logits(&self, row: impl Iterator<Item = (usize, f32)>) -> Vec<f64> {
        let mut z = self.intercepts.clone();
        for (f, v) in row {
            for (j, zj) in z.iter_mut().enumerate() {
                *zj += v as f64 * self.weights[f * self.k + j];
            }
        }
        z
    }

    /// P(positive) per row for a binary fit; softmax rows for `k > 1`.
    pub fn predict(&self, x: &Csr) -> Vec<Vec<f64>> {
        x.outer_iterator()
            .map(|row| {
                let z = self.logits(row.iter().map(|(f, v)| (f, *v)));
                if self.k == 1 {
                    vec![sigmoid(z[0])]
                } else {
                    softmax(&z)
                }
            })
            .collect()
    }
}

pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

pub fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

/// log(1 + e^x) without overflow.
pub(crate) fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// Correction pairs L-BFGS keeps. More pairs, fewer iterations on large vocabularies: on
/// Davidson's tweets (123k features) 20 pairs train about a tenth faster than 10
/// (scikit-learn's default), and each pair costs 2 × 8 bytes a feature, so 30 would buy
/// a little more speed for half as much memory again.
const LBFGS_MEMORY: usize = 20;

/// Rows per parallel chunk of a cost/gradient pass: large enough that the per-chunk
/// gradient buffer (one value a parameter) costs little next to the rows' work.
const ROWS_PER_CHUNK: usize = 4096;

/// The objective. `k == 1`: binary with `y ∈ {0, 1}` (class index);
/// `k > 1`: softmax over `k` classes. Parameters: `weights` (`n_features × k`, row-major)
/// then `k` intercepts, the layout of linfa-logistic.
struct Problem<'a> {
    x: &'a Csr,
    y: &'a [usize],
    sw: Option<&'a [f64]>,
    k: usize,
    alpha: f64,
}

impl super::lbfgs::Objective for Problem<'_> {
    fn eval(&self, p: &[f64], grad: &mut [f64]) -> f64 {
        let n = self.y.len();
        // Rows are cut into a number of chunks that depends on `n` only, never on the
        // thread count, and the partial sums are added in chunk order: the same data gives
        // the same bits on any machine.
        let chunks = n.div_ceil(ROWS_PER_CHUNK).max(1);
        grad.fill(0.0);
        let mut cost = if chunks == 1 {
            self.partial(p, 0..n, grad)
        } else {
            let size = n.div_ceil(chunks);
            let parts: Vec<(f64, Vec<f64>)> = (0..chunks)
                .into_par_iter()
                .map(|c| {
                    let mut g = vec![0.0; p.len()];
                    let cost = self.partial(p, c * size..((c + 1) * size).min(n), &mut g);
                    (cost, g)
                })
                .collect();
            let mut cost = 0.0;
            for (c, g) in parts {
                cost += c;
                grad.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
            }
            cost
        };
        let w = &p[..self.x.cols() * self.k];
        let mut reg = 0.0;
        for (g, wi) in grad.iter_mut().zip(w) {
            *g += self.alpha * wi;
            reg += wi * wi;
        }
        cost += 0.5 * self.alpha * reg;
        cost
    }
}

impl Problem<'_> {
    /// Data term of the cost over the rows `rows`; its gradient is added to `grad`.
    fn partial(&self, p: &[f64], rows: std::ops::Range<usize>, grad: &mut [f64]) -> f64 {
        if self.k == 1 {
            return self.partial_binary(p, rows, grad);
        }
        let k = self.k;
        let d = self.x.cols();
        let (w, b) = p.split_at(d * k);
        let ip = self.x.indptr();
        let ip = ip.raw_storage();
        let (ind, val) = (self.x.indices(), self.x.data());
        let mut cost = 0.0;
        let mut z = vec![0.0; k];
        let mut r = vec![0.0; k];
        for i in rows {
            let yi = self.y[i];
            let row = ip[i]..ip[i + 1];
            z.copy_from_slice(b);
            for t in row.clone() {
                let (f, v) = (ind[t] as usize, val[t] as f64);
                for j in 0..k {
                    z[j] += v * w[f * k + j];
                }
            }
            let s = self.sw.map_or(1.0, |sw| sw[i]);
            // r[j] = d loss_i / d z_j
            let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            cost += s * (lse - z[yi]);
            for j in 0..k {
                r[j] = s * ((z[j] - lse).exp() - f64::from(u8::from(j == yi)));
            }
            for t in row {
                let (f, v) = (ind[t] as usize, val[t] as f64);
                for j in 0..k {
                    grad[f * k + j] += v * r[j];
                }
            }
            for j in 0..k {
                grad[d * k + j] += r[j];
            }
        }
        cost
    }

    /// [`Self::partial`] for one output: the hot loop of every toxicity head, kept free of
    /// the per-class inner loops.
    fn partial_binary(&self, p: &[f64], rows: std::ops::Range<usize>, grad: &mut [f64]) -> f64 {
        let d = self.x.cols();
        let (w, b) = (&p[..d], p[d]);
        let ip = self.x.indptr();
        let ip = ip.raw_storage();
        let (ind, val) = (self.x.indices(), self.x.data());
        let mut cost = 0.0;
        let mut db = 0.0;
        for i in rows {
            let (ri, rv) = (&ind[ip[i]..ip[i + 1]], &val[ip[i]..ip[i + 1]]);
            let mut z = b;
            for (&f, &v) in ri.iter().zip(rv) {
                z += v as f64 * w[f as usize];
            }
            let s = self.sw.map_or(1.0, |sw| sw[i]);
            let sign = if self.y[i] == 1 { 1.0 } else { -1.0 };
            cost += s * softplus(-sign * z);
            // d loss_i / d z
            let r = -sign * sigmoid(-sign * z) * s;
            for (&f, &v) in ri.iter().zip(rv) {
                grad[f as usize] += v as f64 * r;
            }
            db += r;
        }
        grad[d] += db;
        cost
    }
}

/// Fits a logistic model with `k` outputs (`1`: binary, targets 0/1; `> 1`: softmax,
/// targets `0..k`). Every class must occur at least once.
pub fn fit(
    params: &ValidLogisticParams,
    x: &Csr,
    y: &[usize],
    k: usize,
    sample_weight: Option<&[f64]>,
) -> Result<Fitted, FitError> {
    fit_from(params, x, y, k, sample_weight, None)
}

/// As [`fit`], starting from `start` (a fit of the same shape) instead of zeros: along a
/// regularisation path the previous solution is close, so L-BFGS needs fewer iterations.
pub fn fit_from(
    params: &ValidLogisticParams,
    x: &Csr,
    y: &[usize],
    k: usize,
    sample_weight: Option<&[f64]>,
    start: Option<&Fitted>,
) -> Result<Fitted, FitError> {
    let p = &params.0;
    if x.rows() != y.len() || sample_weight.is_some_and(|s| s.len() != y.len()) {
        return Err(FitError::Shape(x.rows(), y.len()));
    }
    let n_classes = if k == 1 { 2 } else { k };
    let mut counts = vec![0usize; n_classes];
    for &c in y {
        if c >= n_classes {
            return Err(FitError::Shape(x.rows(), y.len()));
        }
        counts[c] += 1;
    }
    if counts.contains(&0) {
        return Err(FitError::OneClass(counts));
    }
    let problem = Problem {
        x,
        y,
        sw: sample_weight,
        k,
        alpha: p.alpha,
    };
    let init = match start {
        Some(f) if f.k == k && f.weights.len() == x.cols() * k => {
            let mut v = f.weights.clone();
            v.extend_from_slice(&f.intercepts);
            v
        }
        _ => vec![0.0; (x.cols() + 1) * k],
    };
    let solver = super::lbfgs::Lbfgs {
        memory: LBFGS_MEMORY,
        tolerance_grad: p.gradient_tolerance,
        max_iterations: p.max_iterations,
    };
    let min = solver.minimize(&problem, init);
    let (best, iterations) = (min.x, min.iterations);
    let d = x.cols();
    Ok(Fitted {
        k,
        intercepts: best[d * k..].to_vec(),
        weights: best[..d * k].to_vec(),
        iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::SparseRow;
    use crate::model::lbfgs::Objective;

    fn rows(dense: &[&[f32]]) -> Csr {
        let rows: Vec<SparseRow> = dense
            .iter()
            .map(|r| {
                let mut s = SparseRow::default();
                for (i, v) in r.iter().enumerate() {
                    if *v != 0.0 {
                        s.indices.push(i as u32);
                        s.values.push(*v);
                    }
                }
                s
            })
            .collect();
        csr_from_rows(dense[0].len(), &rows)
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x = rows(&[
            &[1.0, 0.0, 2.0],
            &[0.0, 1.5, 0.0],
            &[0.5, 0.5, 0.5],
            &[0.0, 0.0, 1.0],
        ]);
        for (k, y) in [(1usize, vec![1usize, 0, 1, 0]), (3, vec![0, 1, 2, 1])] {
            let sw = [1.0, 2.0, 0.5, 1.0];
            let pb = Problem {
                x: &x,
                y: &y,
                sw: Some(&sw),
                k,
                alpha: 0.7,
            };
            let cost = |p: &[f64]| pb.eval(p, &mut vec![0.0; p.len()]);
            let p: Vec<f64> = (0..(3 + 1) * k).map(|i| 0.1 * i as f64 - 0.3).collect();
            let mut g = vec![f64::NAN; p.len()];
            pb.eval(&p, &mut g);
            for i in 0..p.len() {
                let mut a = p.clone();
                let mut b = p.clone();
                a[i] += 1e-6;
                b[i] -= 1e-6;
                let num = (cost(&a) - cost(&b)) / 2e-6;
                assert!((num - g[i]).abs() < 1e-5, "k={k} i={i}: {num} vs {}", g[i]);
            }
        }
    }

    #[test]
    fn separates_a_separable_problem() {
        let x = rows(&[&[1.0, 0.0], &[0.9, 0.1], &[0.0, 1.0], &[0.1, 0.9]]);
        let params = LogisticParams::default().alpha(0.1).check().unwrap();
        let f = fit(&params, &x, &[1, 1, 0, 0], 1, None).unwrap();
        let p = f.predict(&x);
        assert!(
            p[0][0] > 0.8 && p[1][0] > 0.8 && p[2][0] < 0.2 && p[3][0] < 0.2,
            "{p:?}"
        );
    }

    #[test]
    fn refuses_bad_params_and_one_class_data() {
        assert_eq!(
            LogisticParams::default().alpha(-1.0).check(),
            Err(FitError::InvalidAlpha(-1.0))
        );
        assert!(LogisticParams::default().alpha(f64::NAN).check().is_err());
        assert!(LogisticParams::default()
            .gradient_tolerance(0.0)
            .check()
            .is_err());
        let x = rows(&[&[1.0], &[2.0]]);
        let params = LogisticParams::default().check().unwrap();
        assert!(matches!(
            fit(&params, &x, &[1, 1], 1, None),
            Err(FitError::OneClass(_))
        ));
        assert!(matches!(
            fit(&params, &x, &[1], 1, None),
            Err(FitError::Shape(2, 1))
        ));
    }

    #[test]
    fn sample_weights_shift_the_balance() {
        // Same features, conflicting labels: the weights decide.
        let x = rows(&[&[1.0], &[1.0]]);
        let params = LogisticParams::default().alpha(0.0).check().unwrap();
        let f = fit(&params, &x, &[1, 0], 1, Some(&[3.0, 1.0])).unwrap();
        let p = f.predict(&x)[0][0];
        assert!((p - 0.75).abs() < 1e-3, "{p}");
    }
}
