//! The site's stance targets: `POST /v1/targets`, `GET /v1/targets`,
//! `POST /v1/targets/{name}/articles`. Moderator keys (editors moderate their articles'
//! comments): the logic is `service::targets`, shared with the page's Targets tab.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use super::extract::Json;
use super::AppState;
use crate::service::targets::{self, TargetStatus};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTargetRequest {
    /// The target's id: 1 to 64 lowercase letters, digits, `_` or `-` (`reforme-retraites`).
    pub name: String,
    /// What a comment is for or against, for moderators labelling its stance.
    pub description: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachRequest {
    /// Article ids as comments carry them (`article_id`, Coral's story id).
    pub article_ids: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TargetList {
    pub targets: Vec<TargetStatus>,
    /// Stance labels per class a site target needs before a retraining fits its head.
    pub min_labels_per_class: usize,
}

/// Create a stance target.
#[utoipa::path(
    post,
    path = "/v1/targets", tag = "targets",
    request_body = CreateTargetRequest,
    responses(
        (status = 201, description = "Created", body = TargetStatus),
        (status = 409, description = "A target of this name exists (`target_exists`)", body = ErrorBody),
        (status = 422, description = "Invalid name (`invalid_target_name`) or description (`invalid_description`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_target(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<CreateTargetRequest>,
) -> Result<(StatusCode, Json<TargetStatus>), ApiError> {
    let name = targets::create(&app, &req.name, &req.description, &caller.name).await?;
    let list = statuses(&app).await?;
    let created = list.into_iter().find(|t| t.name == name.as_str());
    let created = created.ok_or_else(|| ApiError::TargetNotFound(name.to_string()))?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Every stance target: its articles, whether the serving model has learned it, and its
/// stance labels so far.
#[utoipa::path(
    get,
    path = "/v1/targets", tag = "targets",
    responses((status = 200, description = "The site's targets, oldest first", body = TargetList)),
    security(("bearer" = []))
)]
pub async fn list_targets(State(app): State<AppState>) -> Result<Json<TargetList>, ApiError> {
    Ok(Json(TargetList {
        targets: statuses(&app).await?,
        min_labels_per_class: targets::SITE_TARGET_MIN_LABELS,
    }))
}

/// Attach articles to a target: their comments without a target of their own take it.
#[utoipa::path(
    post,
    path = "/v1/targets/{name}/articles", tag = "targets",
    params(("name" = String, Path, description = "Target id")),
    request_body = AttachRequest,
    responses(
        (status = 200, description = "Attached: the target as it is now", body = TargetStatus),
        (status = 404, description = "No such target (`target_not_found`)", body = ErrorBody),
        (status = 422, description = "Invalid article ids (`invalid_articles`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn attach_articles(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Json(req): Json<AttachRequest>,
) -> Result<Json<TargetStatus>, ApiError> {
    targets::attach(&app, &name, &req.article_ids, &caller.name).await?;
    let list = statuses(&app).await?;
    let found = list.into_iter().find(|t| t.name == name);
    Ok(Json(found.ok_or(ApiError::TargetNotFound(name))?))
}

async fn statuses(app: &AppState) -> Result<Vec<TargetStatus>, ApiError> {
    Ok(targets::list(app).await?)
}
