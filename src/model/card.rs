//! The model card: what a model is, how it was trained and how well it did. Stored in the
//! model file and served by `GET /v1/model`. No wall-clock times: the same data and
//! settings give the same card, byte for byte.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{HeadName, Stance, Target};
use crate::features::VectorizerParams;

/// Score thresholds of a head: at or over `flag`, hold for review; at or over `reject`,
/// refuse.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub flag: f32,
    pub reject: f32,
}

impl Thresholds {
    pub fn validate(&self) -> Result<(), String> {
        let ok = |v: f32| (0.0..=1.0).contains(&v);
        if !ok(self.flag) || !ok(self.reject) {
            return Err(format!("thresholds must lie in [0, 1], got {self:?}"));
        }
        if self.reject < self.flag {
            return Err(format!(
                "reject ({}) is below flag ({})",
                self.reject, self.flag
            ));
        }
        Ok(())
    }
}

/// Binary classification metrics at a threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BinaryMetrics {
    pub n: usize,
    pub positives: usize,
    pub roc_auc: f64,
    pub average_precision: f64,
    pub threshold: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Mean of F1 over the positive and the negative class.
    pub macro_f1: f64,
    pub brier: f64,
}

/// Stance metrics: per-class F1, macro-F1 and SemEval-2016's F_avg = (F1 favor + F1 against) / 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StanceMetrics {
    pub n: usize,
    pub accuracy: f64,
    #[schema(value_type = BTreeMap<String, f64>)]
    pub f1: BTreeMap<Stance, f64>,
    pub macro_f1: f64,
    pub f_avg: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeadCard {
    #[schema(value_type = String)]
    pub name: HeadName,
    /// L2 penalty chosen by cross-validation.
    pub alpha: f64,
    pub thresholds: Thresholds,
    pub positives: usize,
    pub negatives: usize,
    /// Platt scaling fitted on the out-of-fold logits and folded into the head's weights
    /// (`train --calibration`); `None`: the logistic model's own probabilities.
    #[serde(default)]
    pub calibration: Option<Platt>,
    /// Out-of-fold metrics at the chosen alpha (after calibration, when there is one).
    pub cv: BinaryMetrics,
    pub heldout: Option<BinaryMetrics>,
}

/// A calibration map `p = σ(a·z + b)` over a head's logit `z`; `a > 0`, so the ranking is
/// kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
}

impl Platt {
    /// The calibrated probability of logit `z`.
    pub fn apply(&self, z: f64) -> f64 {
        super::logistic::sigmoid(self.a * z + self.b)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StanceCard {
    #[schema(value_type = String)]
    pub target: Target,
    pub alpha: f64,
    #[schema(value_type = BTreeMap<String, usize>)]
    pub counts: BTreeMap<Stance, usize>,
    pub cv: StanceMetrics,
    pub heldout: Option<StanceMetrics>,
}

/// A training input file and its digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SourceCard {
    pub name: String,
    pub items: usize,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrainingSummary {
    pub items: usize,
    pub by_lang: BTreeMap<String, usize>,
    pub sources: Vec<SourceCard>,
    pub heldout: Option<SourceCard>,
    pub folds: usize,
    pub alphas: Vec<f64>,
    pub class_weight: String,
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ModelCard {
    pub format_version: u32,
    /// Derived from the training data and settings: same inputs, same id.
    pub model_id: String,
    /// SHA-256 over the training records.
    pub data_hash: String,
    pub name: String,
    pub heads: Vec<HeadCard>,
    pub stance: Vec<StanceCard>,
    #[schema(value_type = Option<String>)]
    pub default_target: Option<Target>,
    #[schema(value_type = Object)]
    pub vectorizer: VectorizerParams,
    pub n_features: usize,
    pub training: TrainingSummary,
}

impl ModelCard {
    pub fn head(&self, name: &str) -> Option<&HeadCard> {
        self.heads.iter().find(|h| h.name.as_str() == name)
    }

    /// Heads (by name) and stance targets (`stance:<target>`) whose chosen penalty is an end
    /// of the grid, with that penalty.
    pub fn penalties_at_grid_edge(&self) -> Vec<(String, f64, GridEdge)> {
        let heads = self.heads.iter().map(|h| (h.name.to_string(), h.alpha));
        let stance = self
            .stance
            .iter()
            .map(|s| (format!("stance:{}", s.target), s.alpha));
        heads
            .chain(stance)
            .filter_map(|(name, a)| self.training.grid_edge(a).map(|e| (name, a, e)))
            .collect()
    }
}

/// The end of the penalty grid a chosen alpha sits at. Cross-validation then only knows
/// that the best penalty is there *or beyond* (Vigie picks α 10, its strongest, for MLMA's
/// English tweets on every training split of `bench/compare/folds.sh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridEdge {
    Weakest,
    Strongest,
}

impl std::fmt::Display for GridEdge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GridEdge::Weakest => "the weakest penalty tried",
            GridEdge::Strongest => "the strongest penalty tried",
        })
    }
}

impl TrainingSummary {
    /// Which end of `alphas` the chosen `alpha` is, if any (never for a grid of one value,
    /// however often it is repeated).
    pub fn grid_edge(&self, alpha: f64) -> Option<GridEdge> {
        let min = self.alphas.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self
            .alphas
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        if min >= max {
            None
        } else if alpha == min {
            Some(GridEdge::Weakest)
        } else if alpha == max {
            Some(GridEdge::Strongest)
        } else {
            None
        }
    }
}

/// How a model does on real text it never trained on. Training cannot measure it (the French
/// set is for evaluation only, and leaving each real corpus out takes five more fits), so
/// `bench/realdata/run.sh` measures it and writes it beside the model file
/// (`<model>.realdata.json`); it belongs to the model whose id it names and no other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RealDataEvaluation {
    pub model_id: String,
    /// Each real training corpus scored by a model trained the same way on everything else:
    /// what a new site whose comments resemble none of the training data can expect.
    pub cross_corpus: Vec<RealDataRow>,
    /// RTP-LX French (real French texts rated by native speakers; never trained on), scored
    /// by this model.
    pub french: Vec<RealDataRow>,
}

/// One corpus and head of a [`RealDataEvaluation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RealDataRow {
    pub corpus: String,
    pub head: String,
    pub items: usize,
    pub positives: usize,
    pub roc_auc: f64,
    /// Mean squared error of the probabilities (lower is better).
    pub brier: f64,
}

impl RealDataEvaluation {
    /// The evaluation in `path` if it exists and names `model_id`; `None` when it is absent
    /// or names another model; an error when it exists but cannot be read.
    pub fn read_for(path: &std::path::Path, model_id: &str) -> Result<Option<Self>, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let eval: Self =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok((eval.model_id == model_id).then_some(eval))
    }

    /// Where the evaluation of the model file `model` is kept: `x.vigie` → `x.realdata.json`.
    pub fn path_beside(model: &std::path::Path) -> std::path::PathBuf {
        model.with_extension("realdata.json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(alphas: &[f64]) -> TrainingSummary {
        TrainingSummary {
            items: 0,
            by_lang: BTreeMap::new(),
            sources: Vec::new(),
            heldout: None,
            folds: 5,
            alphas: alphas.to_vec(),
            class_weight: "none".into(),
            seed: 42,
        }
    }

    #[test]
    fn a_penalty_at_either_end_of_the_grid_is_an_edge() {
        // The grid as given on the command line need not be sorted.
        let s = summary(&[1.0, 0.01, 10.0, 0.1]);
        assert_eq!(s.grid_edge(0.01), Some(GridEdge::Weakest));
        assert_eq!(s.grid_edge(10.0), Some(GridEdge::Strongest));
        assert_eq!(s.grid_edge(0.1), None);
        assert_eq!(s.grid_edge(1.0), None);
    }

    #[test]
    fn a_one_value_grid_has_no_edge() {
        assert_eq!(summary(&[0.3]).grid_edge(0.3), None);
        assert_eq!(summary(&[0.3, 0.3]).grid_edge(0.3), None);
        assert_eq!(summary(&[]).grid_edge(0.3), None);
    }

    #[test]
    fn a_real_data_evaluation_belongs_to_the_model_it_names() {
        let dir = std::env::temp_dir().join(format!("vigie-realdata-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let model = dir.join("m.vigie");
        let path = RealDataEvaluation::path_beside(&model);
        assert_eq!(path, dir.join("m.realdata.json"));
        assert_eq!(
            RealDataEvaluation::read_for(&path, "m-1"),
            Ok(None),
            "absent"
        );
        let row = r#"{"corpus":"rtp-lx-fr","head":"toxicity","items":10,"positives":4,"roc_auc":0.75,"brier":0.2}"#;
        std::fs::write(
            &path,
            format!(r#"{{"model_id":"m-1","cross_corpus":[],"french":[{row}]}}"#),
        )
        .unwrap();
        let read = RealDataEvaluation::read_for(&path, "m-1").unwrap().unwrap();
        assert_eq!(read.french[0].roc_auc, 0.75);
        assert_eq!(
            RealDataEvaluation::read_for(&path, "m-2"),
            Ok(None),
            "another model's"
        );
        std::fs::write(&path, r#"{"model_id":"m-1","french":[]}"#).unwrap();
        let err = RealDataEvaluation::read_for(&path, "m-1").unwrap_err();
        assert!(err.contains("cross_corpus"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
