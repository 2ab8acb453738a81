//! The transparency report's page, `/transparency?from=&to=` (RFC 3339; by default the last
//! 365 days): the counts of `GET /v1/transparency` as tables, for anyone.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{render, PageError};
use crate::service::transparency::{self, Transparency};
use crate::service::AppState;
use crate::store::now_ms;

#[derive(Template)]
#[template(path = "transparency.html")]
struct TransparencyPage {
    t: Transparency,
}

impl TransparencyPage {
    fn rate(&self) -> String {
        self.t
            .appeals
            .automated_overturn_rate
            .map_or_else(|| "–".to_owned(), |r| format!("{:.1} %", r * 100.0))
    }

    fn median(&self) -> String {
        self.t
            .decisions
            .median_seconds_to_human_decision
            .map_or_else(|| "–".to_owned(), |s| format!("{s:.0} s"))
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct PeriodParams {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;

/// An RFC 3339 time, or `default`.
fn time(s: Option<&str>, default: i64) -> Result<i64, PageError> {
    let Some(s) = s.filter(|s| !s.is_empty()) else {
        return Ok(default);
    };
    let t = humantime::parse_rfc3339_weak(s)
        .map_err(|e| PageError::Unprocessable(format!("{s:?} is not an RFC 3339 time: {e}")))?;
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Ok(i64::try_from(ms).unwrap_or(i64::MAX))
}

pub(crate) async fn transparency_page(
    State(app): State<AppState>,
    Query(p): Query<PeriodParams>,
) -> Result<Response, PageError> {
    let now = now_ms();
    let to = time(p.to.as_deref(), now)?;
    let from = time(p.from.as_deref(), to - YEAR_MS)?;
    if to <= from {
        let message = "The end of the period must come after its start.";
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, message).into_response());
    }
    let t = transparency::report(&app, from, to).await?;
    Ok(render(&TransparencyPage { t }))
}
