//! Appeals (DSA Art. 20): `POST /v1/comments/{id}/appeal?token=` (the author, with the
//! comment's statement token), `GET /v1/appeals` and `POST /v1/appeals/{id}/decision`
//! (moderators). What an appeal does is `service::appeals`'.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use super::extract::{Json, Query};
use super::AppState;
use crate::domain::AppealOutcome;
use crate::service::appeals::{self, AppealItem, AppealView};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TokenQuery {
    /// The comment's statement token, given to its author with the submission's answer.
    #[serde(default)]
    pub token: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealRequest {
    /// Why the decision is wrong: 1 to 2,000 characters.
    pub text: String,
}

/// The author contests the restriction of their comment (rejected, or withheld for
/// review), once. A moderator other than the one who decided settles it; the outcome is
/// shown at the statement's link (`GET /v1/comments/{id}/statement?token=`).
#[utoipa::path(
    post,
    path = "/v1/comments/{id}/appeal", tag = "moderation",
    params(("id" = String, Path, description = "Comment id"), TokenQuery),
    request_body = AppealRequest,
    responses(
        (status = 201, description = "Filed: the appeal, open", body = AppealView),
        (status = 403, description = "`missing_token`: no `?token=`", body = ErrorBody),
        (status = 404, description = "No such comment, or not this token's (`comment_not_found`), or `no_statement`: the comment is not restricted", body = ErrorBody),
        (status = 409, description = "`already_appealed`: an appeal is filed once", body = ErrorBody),
        (status = 422, description = "`empty_text`, `text_too_long` or `invalid_text`", body = ErrorBody),
    ),
    security(())
)]
pub async fn file_appeal(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<TokenQuery>,
    Json(req): Json<AppealRequest>,
) -> Result<(StatusCode, Json<AppealView>), ApiError> {
    let token = q.token.ok_or(ApiError::MissingToken)?;
    let appeal = appeals::file(&app, &id, &token, &req.text).await?;
    Ok((StatusCode::CREATED, Json(AppealView::from(&appeal))))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AppealsQuery {
    /// `open` (default: not decided yet, oldest first) or `all` (newest first).
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppealList {
    /// At most 500.
    pub items: Vec<AppealItem>,
}

/// The appeals queue: each appeal with its comment, whether the decision appealed was
/// automated, and who took it (they may not decide the appeal).
#[utoipa::path(
    get,
    path = "/v1/appeals", tag = "moderation",
    params(AppealsQuery),
    responses(
        (status = 200, description = "The appeals", body = AppealList),
        (status = 422, description = "Unknown `status`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_appeals(
    State(app): State<AppState>,
    Query(q): Query<AppealsQuery>,
) -> Result<Json<AppealList>, ApiError> {
    let open_only = match q.status.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(other) => {
            return Err(ApiError::InvalidQuery(format!(
                "unknown status {other:?}: expected open or all"
            )))
        }
    };
    let items = appeals::list(&app, open_only).await?;
    Ok(Json(AppealList { items }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealDecisionRequest {
    /// `upheld` (the comment is rejected, now by a human) or `overturned` (approved).
    #[schema(value_type = String)]
    pub outcome: AppealOutcome,
    /// The reasons, shown to the author: 1 to 2,000 characters.
    pub reason: String,
}

/// Decide an appeal. The moderator who took the decision appealed may not (409
/// `same_moderator`). The outcome is appended to the comment's history as a decision
/// (`reject` when upheld, `approve` when overturned), so it becomes a training label.
#[utoipa::path(
    post,
    path = "/v1/appeals/{id}/decision", tag = "moderation",
    params(("id" = i64, Path, description = "Appeal id")),
    request_body = AppealDecisionRequest,
    responses(
        (status = 200, description = "The appeal, decided, with its comment", body = AppealItem),
        (status = 404, description = "`appeal_not_found`", body = ErrorBody),
        (status = 409, description = "`same_moderator`: you took the decision appealed; `appeal_decided`; or `appeal_overtaken`: upheld, but the comment was approved since", body = ErrorBody),
        (status = 422, description = "Unknown outcome, or an empty or too long reason", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn decide_appeal(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Json(req): Json<AppealDecisionRequest>,
) -> Result<Json<AppealItem>, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::AppealNotFound(id))?;
    let (a, c) = appeals::decide(&app, id, &caller.name, req.outcome, &req.reason).await?;
    Ok(Json(AppealItem::new(a, c)))
}
