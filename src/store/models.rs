//! The model registry's rows: every model that ever served (its file in the models
//! directory, the file's SHA-256, who or what registered it, its report) and the append-only
//! history of activations; the model to serve is the one of the latest activation.

use serde::Serialize;

use crate::domain::ActivationReason;

/// A model file to register.
#[derive(Debug, Clone)]
pub struct NewModel {
    pub model_id: String,
    /// The file's name in the models directory.
    pub file: String,
    /// Lowercase hex SHA-256 of the whole file.
    pub sha256: String,
    /// Why it exists, e.g. a retraining's comparison with the model it replaces.
    pub report: Option<serde_json::Value>,
    /// Who or what registered it: an API key's name, `serve`, `retrain`.
    pub registered_by: String,
    pub now_ms: i64,
}

/// A registered model and its activations, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredModel {
    pub model_id: String,
    pub file: String,
    pub sha256: String,
    pub registered_at_ms: i64,
    pub registered_by: String,
    pub report: Option<serde_json::Value>,
    pub activations: Vec<Activation>,
}

/// One entry of the activation history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activation {
    pub model_id: String,
    pub at_ms: i64,
    /// An API key's name, or `serve` for the model a first start activated.
    pub actor: String,
    pub reason: ActivationReason,
}
