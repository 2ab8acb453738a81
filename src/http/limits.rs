//! Request limits beyond body size and batch length: a token bucket per API key (429 with
//! `Retry-After`), a deadline per request (408), and the access log, which never records a
//! query string (Perspective clients put their key there) and, with `--redact-logs`, no
//! comment text anywhere at info level.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::AppState;
use crate::store::hash_key;

/// Requests per second and burst allowed to one API key; `per_second == 0` turns it off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 0.0,
            burst: 0.0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets keyed by the SHA-256 of the presented key (valid or not, so guessing keys
/// is throttled too), never by the key itself.
#[derive(Debug, Default)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Past this many buckets, full ones are dropped: they hold no information.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.limit.per_second > 0.0
    }

    /// Takes one token for `key_hash` at `now`; `Err(wait)` when there is none.
    pub fn check(&self, key_hash: &str, now: Instant) -> Result<(), Duration> {
        self.token(key_hash, now, true)
    }

    /// Whether `key` has a token at `now`, without taking it.
    pub fn peek(&self, key: &str, now: Instant) -> Result<(), Duration> {
        self.token(key, now, false)
    }

    fn token(&self, key_hash: &str, now: Instant, take: bool) -> Result<(), Duration> {
        let RateLimit { per_second, burst } = self.limit;
        let burst = burst.max(1.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key_hash) {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_second < burst
            });
        }
        let b = buckets.entry(key_hash.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * per_second;
        b.tokens = (b.tokens + refill).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            if take {
                b.tokens -= 1.0;
            }
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / per_second))
        }
    }
}

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

/// In a response's extensions: the request presented a key that is unknown or revoked.
#[derive(Debug, Clone, Copy)]
pub struct KeyRefused;

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
    let address = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
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
    let limit = app.limits.request_timeout;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_the_rate() {
        let l = RateLimiter::new(RateLimit {
            per_second: 2.0,
            burst: 3.0,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check("a", t0).is_ok());
        }
        let wait = l.check("a", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9, "{wait:?}");
        // Another key has its own bucket.
        assert!(l.check("b", t0).is_ok());
        // Half a second later one token is back, and only one.
        let t1 = t0 + Duration::from_millis(500);
        assert!(l.check("a", t1).is_ok());
        assert!(l.check("a", t1).is_err());
        // Refill never exceeds the burst.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(l.check("a", t2).is_ok());
        }
        assert!(l.check("a", t2).is_err());
    }

    #[test]
    fn full_buckets_are_dropped_when_the_map_is_full() {
        let l = RateLimiter::new(RateLimit {
            per_second: 1000.0,
            burst: 1.0,
        });
        let t0 = Instant::now();
        for i in 0..MAX_BUCKETS {
            l.check(&i.to_string(), t0).unwrap();
        }
        // A second later every bucket is full again, so a new key prunes them all.
        l.check("new", t0 + Duration::from_secs(1)).unwrap();
        assert_eq!(l.buckets.lock().unwrap().len(), 1);
    }
}
