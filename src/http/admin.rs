//! Administration: model reload, label export, API keys.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use super::extract::Json;
use super::AppState;
use crate::domain::{ActivationReason, Role};
use crate::model::Model;
use crate::service::labels::site_labels;
use crate::service::models::{self, Switched};
use crate::store::{check_key_name, generate_key, hash_key, now_ms, ApiKeyInfo};

/// Load the model file again and swap it in; in-flight requests finish on the old one. A
/// corrupt or incompatible file is refused (422) and the old model keeps serving. With a
/// models directory, the model is registered (kept) and activated for every replica.
#[utoipa::path(
    post,
    path = "/v1/admin/model/reload", tag = "admin",
    responses((status = 200, description = "The new model serves", body = Switched), (status = 409, description = "Another file is registered under this model's id", body = ErrorBody), (status = 422, description = "Invalid request: see the error code", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn reload(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Switched>, ApiError> {
    let path = app.config.model_path.clone().ok_or_else(|| {
        ApiError::ModelRejected("this server was started without a model file path".into())
    })?;
    let written = super::metrics::file_written(&path);
    let model = tokio::task::spawn_blocking(move || Model::load(&path))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| ApiError::ModelRejected(e.to_string()))?;
    if app.config.models_dir.is_some() {
        let kept = models::register(&app, Arc::new(model), None, &caller.name).await?;
        let reason = ActivationReason::Reload;
        return Ok(Json(
            models::activate(&app, &kept.model_id, &caller.name, reason).await?,
        ));
    }
    for h in app.policy.unknown_heads(&model.card) {
        tracing::warn!(head = %h, "thresholds file names a head the new model does not have");
    }
    let model_id = model.card.model_id.clone();
    let previous = app.model.swap(Arc::new(model));
    app.metrics.model_loaded(written);
    tracing::info!(from = %previous.card.model_id, to = %model_id, "model reloaded");
    Ok(Json(Switched {
        previous_model_id: previous.card.model_id.clone(),
        model_id,
    }))
}

/// The site's labels as training data, ready for `train --data`: canonical JSONL, oldest
/// first, one record per decided comment (its latest decision: the labels the moderator
/// gave, over those the verdict implies) and one per `comments:suggestscore` suggestion
/// (id `suggestscore/<n>`). Each line also says where it came from: `source` (`decision`
/// or `suggestscore`), `by` (the key name), `at`, and `action` or `community_id`.
#[utoipa::path(
    get,
    path = "/v1/labels/export", tag = "admin",
    responses((status = 200, description = "JSONL", content_type = "application/x-ndjson")),
    security(("bearer" = []))
)]
pub async fn export(State(app): State<AppState>) -> Result<Response, ApiError> {
    let labels = site_labels(app.store.as_ref()).await?;
    let mut out = String::new();
    for l in &labels {
        out.push_str(&l.to_json().to_string());
        out.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"vigie-labels.jsonl\"",
            ),
        ],
        Body::from(out),
    )
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// 1 to 64 ASCII letters, digits, '.', '_', '-' or '@'.
    pub name: String,
    /// `scorer`, `moderator` or `admin`.
    #[schema(value_type = String)]
    pub role: Role,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewKey {
    pub name: String,
    #[schema(value_type = String)]
    pub role: Role,
    /// Shown once: only its hash is stored.
    pub key: String,
}

/// Create an API key (the key is in the answer, and nowhere else).
#[utoipa::path(
    post,
    path = "/v1/admin/keys", tag = "admin",
    request_body = NewKeyRequest,
    responses((status = 201, description = "The key, shown this once", body = NewKey), (status = 409, description = "Conflict: see the error code", body = ErrorBody), (status = 422, description = "Invalid request: see the error code", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn create_key(
    State(app): State<AppState>,
    Json(req): Json<NewKeyRequest>,
) -> Result<(StatusCode, Json<NewKey>), ApiError> {
    check_key_name(&req.name).map_err(|m| ApiError::Invalid {
        code: "invalid_key_name",
        message: m,
    })?;
    let key = generate_key();
    app.store
        .create_key(&req.name, &hash_key(&key), req.role, now_ms())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewKey {
            name: req.name,
            role: req.role,
            key,
        }),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    pub name: String,
    pub role: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl From<ApiKeyInfo> for KeyView {
    fn from(k: ApiKeyInfo) -> Self {
        Self {
            name: k.name,
            role: k.role.as_str().to_owned(),
            created_at: crate::util::rfc3339(k.created_at_ms),
            revoked_at: k.revoked_at_ms.map(crate::util::rfc3339),
        }
    }
}

/// Every key, without the keys themselves.
#[utoipa::path(get, path = "/v1/admin/keys", tag = "admin", responses((status = 200, description = "The keys (names, roles, dates; never the keys)", body = Vec<KeyView>)), security(("bearer" = [])))]
pub async fn list_keys(State(app): State<AppState>) -> Result<Json<Vec<KeyView>>, ApiError> {
    Ok(Json(
        app.store
            .list_keys()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Revoke a key.
#[utoipa::path(
    delete,
    path = "/v1/admin/keys/{name}", tag = "admin",
    params(("name" = String, Path, description = "Key name")),
    responses((status = 204, description = "Revoked"), (status = 404, description = "No such comment or key", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn revoke_key(
    State(app): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    if app.store.revoke_key(&name, now_ms()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::KeyNotFound(name))
    }
}
