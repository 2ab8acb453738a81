//! Request limits beyond body size and batch length: a token bucket per API key (429 with
//! `Retry-After`), a deadline per request (408), and the access log, which never records a
//! query string (Perspective clients put their key there) and, with `--redact-logs`, no
//! comment text anywhere at info level.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::ClientAddress;
use super::AppState;
pub use crate::service::ratelimit::{RateLimit, RateLimiter};
pub use crate::service::KeyRefused;
use crate::store::hash_key;

/// The key a request presents: `Authorization: Bearer`, or as Google's clients send it to
/// the Perspective route (`X-Goog-Api-Key`, `?key=`).
fn presented_key(req: &Request) -> Option<String> {
    let google_header = || {
        req.headers()
            .get("x-goog-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    super::auth::bearer(req.headers())
        .or_else(google_header)
        .or_else(|| {
            req.uri().query().and_then(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "key")
                    .map(|(_, v)| v.into_owned())
            })
        })
}

/// Middleware: one token per request that presents a key.
pub async fn rate_limit(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if app.rate_limiter.enabled() {
        if let Some(key) = presented_key(&req) {
            if let Err(wait) = app.rate_limiter.check(&hash_key(&key), Instant::now()) {
                return ApiError::RateLimited {
                    retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                }
                .into_response();
            }
        }
    }
    next.run(req).await
}

/// Middleware: failed key guesses are throttled per client address (each guess presents a
/// new key, so the per-key buckets never fill). An address whose failure budget is spent gets
/// 429 for every request that presents a key, until it refills; a refused key takes a token.
pub async fn throttle_key_guesses(
    State(app): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if !app.auth_failures.enabled() {
        return next.run(req).await;
    }
    let ClientAddress(address) = ClientAddress::of(req.extensions());
    let presents_key = presented_key(&req).is_some() || req.uri().path() == "/moderation/login";
    if presents_key {
        if let Err(wait) = app.auth_failures.peek(&address, Instant::now()) {
            return ApiError::RateLimited {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            }
            .into_response();
        }
    }
    let resp = next.run(req).await;
    if resp.extensions().get::<KeyRefused>().is_some() {
        let _ = app.auth_failures.check(&address, Instant::now());
    }
    resp
}

/// Middleware: the whole request, body upload included, must finish within the deadline.
pub async fn deadline(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let limit = app.config.limits.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::Timeout(limit).into_response(),
    }
}

/// Middleware: a NUL (`%00`) anywhere in the path or the query is refused with 422 before
/// any handler runs. No database column stores one: PostgreSQL would fail the query, and its
/// error text must not reach the page.
pub async fn refuse_nul(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let has_nul = |s: &str| {
        s.as_bytes()
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
    };
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        return ApiError::Invalid {
            code: "invalid_request",
            message: "the path or query holds a NUL character (%00), which no field accepts".into(),
        }
        .into_response();
    }
    next.run(req).await
}

/// Middleware: one debug line per request with method, path (no query), status and time
/// (debug, not info: at ten thousand requests a second the log would cost more than the
/// scoring).
pub async fn access_log(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    let resp = next.run(req).await;
    tracing::debug!(
        %method,
        %path,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "request"
    );
    resp
}
