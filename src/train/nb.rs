//! Naive-Bayes feature scaling for binary heads (`train --nb-exponent`): before the
//! logistic fit, each column is multiplied by `|r|^e`, where `r` is the column's log-count
//! ratio between the classes (Wang & Manning's NB-LR, softened by the exponent). A
//! discriminative n-gram is then penalised less than a neutral one: a prior from the class
//! counts, which the plain L2 penalty lacks. The fitted weights are multiplied by the same
//! scales afterwards, so the model file and scoring are those of a plain model.
//!
//! Within cross-validation the scales are computed from each fold's training rows alone,
//! so the out-of-fold scores that pick the penalty and thresholds see no test labels.

use serde::{Deserialize, Serialize};

use crate::model::logistic::Csr;

/// Settings of the scaling; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NbScaling {
    /// Power of `|r|`: 0 would be plain TF-IDF, 1 full NB-LR.
    pub exponent: f64,
    /// Added to each column's sum of TF-IDF values in each class before the ratio.
    pub smoothing: f64,
}

impl NbScaling {
    pub fn check(&self) -> Result<(), String> {
        if !(self.exponent > 0.0 && self.exponent <= 1.0) {
            return Err(format!(
                "nb exponent must be in (0, 1], got {}",
                self.exponent
            ));
        }
        if !(self.smoothing > 0.0 && self.smoothing.is_finite()) {
            return Err(format!(
                "nb smoothing must be a positive number, got {}",
                self.smoothing
            ));
        }
        Ok(())
    }

    /// One scale per column of `x`, from its rows labelled `classes` (1 positive, else
    /// negative).
    pub fn column_scales(&self, x: &Csr, classes: &[usize]) -> Vec<f64> {
        let d = x.cols();
        let (mut pos, mut neg) = (vec![self.smoothing; d], vec![self.smoothing; d]);
        for (row, &c) in x.outer_iterator().zip(classes) {
            let sums = if c == 1 { &mut pos } else { &mut neg };
            for (j, &v) in row.iter() {
                sums[j] += f64::from(v);
            }
        }
        let (tp, tn) = (pos.iter().sum::<f64>(), neg.iter().sum::<f64>());
        pos.iter()
            .zip(&neg)
            .map(|(p, n)| ((p / tp) / (n / tn)).ln().abs().powf(self.exponent))
            .collect()
    }
}

/// Multiplies column `j` of `x` by `scales[j]`, in place (the folds' row copies are
/// scaled where they are, not copied again).
pub fn scale_columns(x: &mut Csr, scales: &[f64]) {
    for mut row in x.outer_iterator_mut() {
        for (j, v) in row.iter_mut() {
            *v *= scales[j] as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csr(rows: &[&[(u32, f32)]], cols: usize) -> Csr {
        let rows: Vec<crate::features::SparseRow> = rows
            .iter()
            .map(|r| crate::features::SparseRow {
                indices: r.iter().map(|e| e.0).collect(),
                values: r.iter().map(|e| e.1).collect(),
            })
            .collect();
        crate::model::logistic::csr_from_rows(cols, &rows)
    }

    #[test]
    fn discriminative_columns_get_larger_scales() {
        // Column 0 only in positives, 1 in both alike, 2 only in negatives.
        let x = csr(
            &[
                &[(0, 1.0), (1, 1.0)],
                &[(0, 1.0), (1, 1.0)],
                &[(1, 1.0), (2, 1.0)],
                &[(1, 1.0), (2, 1.0)],
            ],
            3,
        );
        let s = NbScaling {
            exponent: 1.0,
            smoothing: 0.5,
        }
        .column_scales(&x, &[1, 1, 0, 0]);
        assert!(s[1] < 1e-12, "{s:?}");
        assert!(s[0] > 1.0 && (s[0] - s[2]).abs() < 1e-12, "{s:?}");
        let soft = NbScaling {
            exponent: 0.25,
            smoothing: 0.5,
        }
        .column_scales(&x, &[1, 1, 0, 0]);
        assert!((soft[0] - s[0].powf(0.25)).abs() < 1e-12);
    }

    #[test]
    fn scaling_multiplies_each_column() {
        let x = csr(&[&[(0, 2.0), (2, 1.0)], &[(1, 3.0)]], 3);
        let mut y = x.clone();
        scale_columns(&mut y, &[0.5, 2.0, 3.0]);
        assert_eq!(y.data(), &[1.0, 3.0, 6.0]);
        assert_eq!(y.indices(), x.indices());
    }

    #[test]
    fn check_refuses_out_of_range_settings() {
        let ok = NbScaling {
            exponent: 0.25,
            smoothing: 0.3,
        };
        assert!(ok.check().is_ok());
        for bad in [
            NbScaling {
                exponent: 0.0,
                ..ok
            },
            NbScaling {
                exponent: 1.5,
                ..ok
            },
            NbScaling {
                exponent: f64::NAN,
                ..ok
            },
            NbScaling {
                smoothing: 0.0,
                ..ok
            },
            NbScaling {
                smoothing: f64::INFINITY,
                ..ok
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }
}
