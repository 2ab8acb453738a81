//! `POST /v1/score` and `POST /v1/score/batch`.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorBody};
use super::extract::Json;
use super::{AppState, Limits};
use crate::model::Model;
use crate::scoring::{self, Input, ScoreError, Scored};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRequest {
    /// The comment, at most the configured number of characters (default 10,000).
    pub text: String,
    /// Stance target; the model's default when absent.
    #[serde(default)]
    pub target: Option<String>,
    /// `fr` or `en`; detected from the text when absent.
    #[serde(default)]
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    /// Echoed back in the result.
    #[serde(default)]
    pub id: Option<String>,
    pub text: String,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// At most the configured batch size (default 1,000).
    pub comments: Vec<BatchItem>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    pub id: Option<String>,
    #[serde(flatten)]
    pub result: Scored,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResponse {
    pub results: Vec<BatchResult>,
}

impl From<ScoreError> for ApiError {
    fn from(e: ScoreError) -> Self {
        match e {
            ScoreError::Text(e) => e.into(),
            ScoreError::InvalidLang(l) => ApiError::InvalidLang(l),
            ScoreError::UnknownTarget { target, known } => {
                ApiError::UnknownTarget { target, known }
            }
            ScoreError::NoStanceModel => ApiError::NoStanceModel,
        }
    }
}

/// Checks a request against the limits and the model serving now.
pub fn validate(
    model: &Model,
    limits: &Limits,
    text: String,
    target: Option<&str>,
    lang: Option<&str>,
) -> Result<Input, ApiError> {
    Ok(scoring::validate(
        model,
        limits.max_text_chars,
        text,
        target,
        lang,
    )?)
}

/// Score one comment.
#[utoipa::path(
    post,
    path = "/v1/score", tag = "scoring",
    request_body = ScoreRequest,
    responses(
        (status = 200, description = "Scores, stance, decision and explanation", body = Scored),
        (status = 400, description = "Invalid JSON", body = ErrorBody),
        (status = 413, description = "Body over the size limit", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Empty or too long text, unknown target or language, unknown field, wrong type", body = ErrorBody),
    )
)]
pub async fn score(
    State(app): State<AppState>,
    Json(req): Json<ScoreRequest>,
) -> Result<Json<Scored>, ApiError> {
    let model = app.model.load_full();
    let input = validate(
        &model,
        &app.config.limits,
        req.text,
        req.target.as_deref(),
        req.lang.as_deref(),
    )?;
    let scored = scoring::score(&model, &app.policy, &input);
    app.metrics.decided(scored.decision, &scored.flagged);
    Ok(Json(scored))
}

/// Score up to 1,000 comments at once. One bad comment fails the whole batch with an error
/// naming its index, so no result is silently missing.
#[utoipa::path(
    post,
    path = "/v1/score/batch", tag = "scoring",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per comment, in order", body = BatchResponse),
        (status = 400, description = "Invalid JSON", body = ErrorBody),
        (status = 413, description = "Body over the size limit", body = ErrorBody),
        (status = 422, description = "Empty or oversized batch, or a bad comment (message names its index)", body = ErrorBody),
    )
)]
pub async fn score_batch(
    State(app): State<AppState>,
    Json(req): Json<BatchRequest>,
) -> Result<Json<BatchResponse>, ApiError> {
    let n = req.comments.len();
    if n == 0 {
        return Err(ApiError::EmptyBatch);
    }
    if n > app.config.limits.max_batch {
        return Err(ApiError::BatchTooLarge {
            len: n,
            max: app.config.limits.max_batch,
        });
    }
    let model = app.model.load_full();
    let mut inputs = Vec::with_capacity(n);
    for (i, c) in req.comments.into_iter().enumerate() {
        let input = validate(
            &model,
            &app.config.limits,
            c.text,
            c.target.as_deref(),
            c.lang.as_deref(),
        )
        .map_err(|e| e.at(i))?;
        inputs.push((c.id, input));
    }
    let state = app.clone();
    let results = tokio::task::spawn_blocking(move || {
        use rayon::prelude::*;
        inputs
            .par_iter()
            .map(|(id, input)| BatchResult {
                id: id.clone(),
                result: scoring::score(&model, &state.policy, input),
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    for r in &results {
        app.metrics.decided(r.result.decision, &r.result.flagged);
    }
    Ok(Json(BatchResponse { results }))
}
