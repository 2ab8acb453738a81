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
    /// Out-of-fold metrics at the chosen alpha.
    pub cv: BinaryMetrics,
    pub heldout: Option<BinaryMetrics>,
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
}
