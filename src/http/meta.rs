//! Service metadata: health, the model card, the OpenAPI document.

use axum::extract::State;
use serde::Serialize;

use super::extract::Json;
use super::AppState;
use crate::model::{ModelCard, RealDataEvaluation, Thresholds};

/// The OpenAPI document.
pub async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(super::openapi())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub model_id: String,
}

/// Liveness: the process answers and has a model.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz(State(app): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        model_id: app.model.load().card.model_id.clone(),
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Ready {
    pub status: &'static str,
    pub database: &'static str,
}

/// Readiness: the database answers. 503 when it does not (scoring still works then).
#[utoipa::path(get, path = "/readyz", tag = "service", responses((status = 200, description = "The process is up and its database answers", body = Ready), (status = 503, description = "The database is unavailable", body = super::error::ErrorBody)))]
pub async fn readyz(State(app): State<AppState>) -> Result<Json<Ready>, super::ApiError> {
    app.store.ping().await?;
    Ok(Json(Ready {
        status: "ready",
        database: "ok",
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ModelInfo {
    /// Everything the model file says about itself: heads, stance targets, training
    /// summary, cross-validated and held-out metrics.
    pub card: ModelCard,
    /// Thresholds in force (config file over the model's own), per head.
    pub thresholds: std::collections::BTreeMap<String, Thresholds>,
    /// How the model does on real text it never trained on (cross-corpus and French
    /// tables), when it was measured (`bench/realdata/run.sh`); absent otherwise.
    pub realdata: Option<RealDataEvaluation>,
}

/// The model card of the model serving now.
#[utoipa::path(get, path = "/v1/model", tag = "service", responses((status = 200, description = "The serving model's card, thresholds and real-data evaluation", body = ModelInfo)))]
pub async fn model_card(State(app): State<AppState>) -> Json<ModelInfo> {
    let model = app.model.load();
    let thresholds = (0..model.card.heads.len())
        .map(|i| {
            (
                model.card.heads[i].name.to_string(),
                app.policy.thresholds(&model.card, i),
            )
        })
        .collect();
    Json(ModelInfo {
        card: model.card.clone(),
        thresholds,
        realdata: model.realdata.clone(),
    })
}
