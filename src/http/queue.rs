//! The review queue: `GET /v1/queue`, `POST /v1/queue/claim`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use super::extract::{Json, Query};
use super::AppState;
use crate::domain::Role;
pub use crate::service::queue::{fetch, queue_query, QueueParams};
use crate::service::views::CommentView;
use crate::store::now_ms;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueuePage {
    pub items: Vec<CommentView>,
    /// Pass as `cursor` for the next page; absent on the last page (and always with
    /// `order=informative`, which is one page).
    pub next_cursor: Option<String>,
    /// Comments per status, for the queue tabs.
    pub counts: std::collections::BTreeMap<String, i64>,
}

/// Comments waiting for review (or of another status), filtered and paged; with
/// `order=informative`, the pending comments whose labels would teach the model most.
#[utoipa::path(
    get,
    path = "/v1/queue", tag = "moderation",
    params(QueueParams),
    responses((status = 200, description = "A page of the queue, its cursor and the counts per status", body = QueuePage), (status = 422, description = "Invalid request: see the error code", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(app): State<AppState>,
    Query(p): Query<QueueParams>,
) -> Result<Json<QueuePage>, ApiError> {
    let q = queue_query(&app, p)?;
    let page = fetch(&app, &q).await?;
    let counts = app.store.counts().await?;
    Ok(Json(QueuePage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next.map(|c| c.encode()),
        counts,
    }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// How long the comment stays reserved for you, 10 seconds to the server's
    /// `--claim-max-lease-secs` (600); default its `--claim-lease-secs` (300).
    pub lease_seconds: Option<u32>,
}

/// Reserve the next unclaimed pending comment (oldest first) for the calling moderator, so
/// two moderators never review the same comment. 204 when the queue is empty.
#[utoipa::path(
    post,
    path = "/v1/queue/claim", tag = "moderation",
    request_body(content = Option<ClaimRequest>),
    responses(
        (status = 200, description = "Claimed", body = CommentView),
        (status = 204, description = "Nothing to review"),
        (status = 422, description = "Invalid request: see the error code", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn claim(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: ClaimRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ClaimRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => ApiError::InvalidRequest(e.to_string()),
            _ => ApiError::InvalidJson(e.to_string()),
        })?
    };
    let lease = req.lease_seconds.unwrap_or(app.config.claim_lease_secs);
    let max = app.config.claim_max_lease_secs;
    if !(10..=max).contains(&lease) {
        return Err(ApiError::Invalid {
            code: "invalid_lease",
            message: format!("lease_seconds must be 10 to {max}, got {lease}"),
        });
    }
    match app
        .store
        .claim(&caller.name, i64::from(lease) * 1000, now_ms())
        .await?
    {
        Some(c) => Ok(Json(CommentView::from(c)).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// Give back a claim before its lease ends; an admin may break anyone's claim (recorded as
/// such in the comment's history). A comment nobody holds comes back unchanged.
#[utoipa::path(
    post,
    path = "/v1/comments/{id}/release", tag = "moderation",
    params(("id" = String, Path, description = "Comment id")),
    responses(
        (status = 200, description = "The comment, claimed by nobody", body = CommentView),
        (status = 404, description = "No such comment or key", body = ErrorBody),
        (status = 409, description = "Another moderator holds the claim (only an admin may break it)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn release(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<CommentView>, ApiError> {
    let force = caller.role >= Role::Admin;
    let c = app
        .store
        .release(&id, &caller.name, force, now_ms())
        .await?;
    Ok(Json(CommentView::from(c)))
}
