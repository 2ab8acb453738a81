//! `GET /metrics`: the service's metrics ([`crate::service::metrics`]) in Prometheus' text
//! exposition format (0.0.4). Counted as they happen: requests and their latency per
//! route template (never the raw path, so ids do not multiply the series) and status,
//! decisions per decision and per head that fired, database failures (reported by
//! [`crate::store::Observed`]). Read at scrape time: stored comments per status (the queue's
//! depth is `pending`), the serving model's id and its age.
//!
//! On the service's address the route needs an admin key, like the rest of the
//! administration; `serve --metrics-addr` also serves it without a key on a second address,
//! for a Prometheus that scrapes an internal network ([`internal_app`]).

use std::time::{Instant, SystemTime};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::prometheus_text;

use super::{ApiError, AppState};
pub use crate::service::metrics::{file_written, Metrics, Snapshot, UNMATCHED};

/// The whole service of `--metrics-addr`: `GET /metrics` without a key, nothing else.
pub fn internal_app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state)
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "service",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4: vigie_http_requests_total, vigie_http_request_duration_seconds, vigie_decisions_total, vigie_decision_heads_total, vigie_database_failures_total, vigie_comments, vigie_model_info, vigie_model_age_seconds. `serve --metrics-addr` also serves it without a key on a second, internal address", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 401, description = "Missing or unknown key", body = super::error::ErrorBody),
        (status = 403, description = "Not an admin key", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn scrape(State(app): State<AppState>) -> Response {
    let snapshot = Snapshot {
        at: SystemTime::now(),
        model_id: app.model.load().card.model_id.clone(),
        comments: app.store.counts().await.ok(),
    };
    let body = app.metrics.render(&snapshot);
    (
        [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
        body,
    )
        .into_response()
}

/// Middleware: counts each request under its route template, with its status and latency.
pub async fn track(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let method = req.method().clone();
    let started = Instant::now();
    let resp = next.run(req).await;
    app.metrics
        .request(&method, &route, resp.status(), started.elapsed());
    resp
}
