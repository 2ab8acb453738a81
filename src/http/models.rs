//! The model registry's routes ([`crate::service::models`]): every model that ever served,
//! and activating one of them (a rollback, or forward again) on every replica.

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde::Serialize;

use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use super::extract::Json;
use super::AppState;
use crate::domain::ActivationReason;
use crate::service::models::{self, Switched};
use crate::service::retrain::{self, RetrainStatus};
use crate::store::{Activation, StoredModel};
use crate::util::rfc3339;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModelList {
    /// The model this replica serves.
    pub serving_model_id: String,
    /// The model of the latest activation, which every replica serves within its poll
    /// period (`serve --model-poll-secs`); `null` before the first.
    pub active_model_id: Option<String>,
    /// Newest registration first.
    pub models: Vec<ModelView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModelView {
    pub model_id: String,
    /// The file's name in the models directory.
    pub file: String,
    /// SHA-256 of the file, checked whenever it is loaded.
    pub sha256: String,
    pub registered_at: String,
    /// Who or what registered it: an API key's name, `serve` (the model it started with).
    pub registered_by: String,
    /// The model of the latest activation.
    pub active: bool,
    /// The model this replica serves.
    pub serving: bool,
    /// What it was registered with, e.g. a retraining's comparison with the model it
    /// replaced.
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
    /// Newest first.
    pub activations: Vec<ActivationView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActivationView {
    pub at: String,
    /// An API key's name, or `serve` for the first start.
    pub actor: String,
    /// `startup`, `reload`, `rollback` (an admin chose it here) or `retrain`.
    pub reason: String,
}

impl From<Activation> for ActivationView {
    fn from(a: Activation) -> Self {
        Self {
            at: rfc3339(a.at_ms),
            actor: a.actor,
            reason: a.reason.as_str().to_owned(),
        }
    }
}

fn view(m: StoredModel, active: Option<&str>, serving: &str) -> ModelView {
    ModelView {
        active: active == Some(m.model_id.as_str()),
        serving: m.model_id == serving,
        model_id: m.model_id,
        file: m.file,
        sha256: m.sha256,
        registered_at: rfc3339(m.registered_at_ms),
        registered_by: m.registered_by,
        report: m.report,
        activations: m.activations.into_iter().map(Into::into).collect(),
    }
}

/// Every model that ever served (or was registered to), newest first: which is active,
/// which this replica serves, and each one's activations.
#[utoipa::path(
    get,
    path = "/v1/admin/models", tag = "admin", operation_id = "list_models",
    responses((status = 200, description = "The registered models", body = ModelList)),
    security(("bearer" = []))
)]
pub async fn list(State(app): State<AppState>) -> Result<Json<ModelList>, ApiError> {
    let (stored, active) = models::list(&app).await?;
    let serving = app.model.load().card.model_id.clone();
    let active_model_id = active.map(|a| a.model_id);
    let models = stored
        .into_iter()
        .map(|m| view(m, active_model_id.as_deref(), &serving))
        .collect();
    Ok(Json(ModelList {
        serving_model_id: serving,
        active_model_id,
        models,
    }))
}

/// Make a registered model serve, recorded as a `rollback` by the caller: its file is read
/// and checked first, then it is swapped in here, and the other replicas follow within
/// their poll period. A missing or damaged file is refused (422) and the model serving
/// keeps serving.
#[utoipa::path(
    post,
    path = "/v1/admin/models/{id}/activate", tag = "admin", operation_id = "activate_model",
    params(("id" = String, Path, description = "Model id")),
    responses(
        (status = 200, description = "The model serves", body = Switched),
        (status = 404, description = "No registered model with this id", body = ErrorBody),
        (status = 422, description = "The model's file is missing or damaged (or the server keeps no models): the model serving keeps serving", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn activate(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Switched>, ApiError> {
    let reason = ActivationReason::Rollback;
    Ok(Json(
        models::activate(&app, &id, &caller.name, reason).await?,
    ))
}

/// Start a retraining in the background: a challenger trained on the base training data and
/// every label of the site, judged against the serving model on held-out site labels, kept
/// in the registry, and activated only if it is worse on no head (the paired-bootstrap
/// interval). 202 with the running state; `GET` the same path for the outcome.
#[utoipa::path(
    post,
    path = "/v1/admin/model/retrain", tag = "admin", operation_id = "start_retrain",
    responses(
        (status = 202, description = "The retraining runs", body = RetrainStatus),
        (status = 409, description = "A retraining is running", body = ErrorBody),
        (status = 422, description = "This server does not retrain", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn start_retrain(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<(StatusCode, Json<RetrainStatus>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(retrain::start(&app, &caller.name)?),
    ))
}

/// The running or last retraining: who started it, and once finished the challenger's id,
/// the comparison with the champion (per head: both ROC-AUCs and the interval of the
/// difference), the verdict and its reasons, and whether it serves now.
#[utoipa::path(
    get,
    path = "/v1/admin/model/retrain", tag = "admin", operation_id = "retrain_status",
    responses((status = 200, description = "The running or last retraining", body = RetrainStatus)),
    security(("bearer" = []))
)]
pub async fn retrain_status(State(app): State<AppState>) -> Json<RetrainStatus> {
    Json(retrain::status(&app))
}
