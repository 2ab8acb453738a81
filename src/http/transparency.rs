//! `GET /v1/transparency?from=&to=`: the transparency report of a period (counts only),
//! public as the law wants it. The page `/transparency` is `ui::transparency`'s.

use axum::extract::State;
use serde::Deserialize;

use super::error::{ApiError, ErrorBody};
use super::extract::{Json, Query};
use super::statements::time;
use super::AppState;
use crate::service::transparency::{self, Transparency};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// From this time (RFC 3339, included).
    pub from: String,
    /// To this time (RFC 3339, excluded).
    pub to: String,
}

/// Counts of the period: decisions by ground and head, automated and human, reports
/// received and acted on, appeals filed, upheld and overturned, the median time to a
/// moderator's decision and the overturn rate of automated decisions. Nothing names a
/// comment, an author or a moderator.
#[utoipa::path(
    get,
    path = "/v1/transparency", tag = "moderation",
    params(PeriodQuery),
    responses(
        (status = 200, description = "The period's counts", body = Transparency),
        (status = 422, description = "`from` or `to` is not an RFC 3339 time, or `to` is not after `from`", body = ErrorBody),
    ),
    security(())
)]
pub async fn transparency_report(
    State(app): State<AppState>,
    Query(q): Query<PeriodQuery>,
) -> Result<Json<Transparency>, ApiError> {
    let (from, to) = period(&q)?;
    Ok(Json(transparency::report(&app, from, to).await?))
}

/// The period in ms since the epoch, `to` after `from`.
pub fn period(q: &PeriodQuery) -> Result<(i64, i64), ApiError> {
    let (from, to) = (time("from", &q.from)?, time("to", &q.to)?);
    if to <= from {
        return Err(ApiError::InvalidQuery("to must be after from".into()));
    }
    Ok((from, to))
}
