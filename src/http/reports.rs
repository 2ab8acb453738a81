//! Reader reports (DSA Art. 16): `POST /v1/comments/{id}/reports` (anyone, rate-limited per
//! client address) and `GET /v1/reports/{id}?token=` (the reporter). What a report does is
//! `service::reports`'.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorBody};
use super::extract::{ClientAddress, Json, Query};
use super::AppState;
use crate::service::reports::{self, Notice, ReportView};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// Why: a rule code of the site's grounds (`insult`, `threat`, `hate`, …).
    pub reason: String,
    /// What the reader says of it (at most 2,000 characters).
    #[serde(default)]
    pub text: Option<String>,
    /// How to reach the reader (moderators only see it).
    #[serde(default)]
    pub contact: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportReceipt {
    pub id: i64,
    /// Shown once: with `id`, it reads the outcome.
    pub token: String,
    /// `GET` it for the outcome.
    pub status_url: String,
    pub report: ReportView,
}

/// A reader reports a comment. It enters the queue's `reported` filter (the page's Reported
/// tab), its card showing the report, until a moderator decides it. Rate-limited per client
/// address (429 `rate_limited`).
#[utoipa::path(
    post,
    path = "/v1/comments/{id}/reports", tag = "moderation",
    params(("id" = String, Path, description = "Comment id")),
    request_body = ReportRequest,
    responses(
        (status = 201, description = "Taken: the report's id, its token (shown once) and its state", body = ReportReceipt),
        (status = 404, description = "`comment_not_found`", body = ErrorBody),
        (status = 422, description = "`unknown_ground` (the reason), `text_too_long`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many reports from this address", body = ErrorBody),
    ),
    security(())
)]
pub async fn file_report(
    State(app): State<AppState>,
    ClientAddress(client): ClientAddress,
    Path(id): Path<String>,
    Json(req): Json<ReportRequest>,
) -> Result<(StatusCode, Json<ReportReceipt>), ApiError> {
    let notice = Notice {
        reason: Some(&req.reason),
        text: req.text.as_deref(),
        contact: req.contact.as_deref(),
    };
    let (report, token) = reports::file(&app, &id, &client, notice).await?;
    let status_url = format!("/v1/reports/{}?token={token}", report.id);
    Ok((
        StatusCode::CREATED,
        Json(ReportReceipt {
            id: report.id,
            token,
            status_url,
            report: ReportView::from(&report),
        }),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportTokenQuery {
    /// The report's token, from its receipt.
    #[serde(default)]
    pub token: Option<String>,
}

/// The reporter reads what became of their report: `open`, `removed` or `no_action`.
#[utoipa::path(
    get,
    path = "/v1/reports/{id}",
    tag = "moderation",
    params(("id" = String, Path, description = "Report id"), ReportTokenQuery),
    responses(
        (status = 200, description = "The report and its outcome", body = ReportView),
        (status = 403, description = "`missing_token`", body = ErrorBody),
        (status = 404, description = "`report_not_found`: no such report, or not this token's", body = ErrorBody),
    ),
    security(())
)]
pub async fn get_report(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ReportTokenQuery>,
) -> Result<Json<ReportView>, ApiError> {
    let token = q.token.ok_or(ApiError::MissingToken)?;
    let report = reports::for_reporter(&app, &id, &token).await?;
    Ok(Json(ReportView::from(&report)))
}
