//! The HTTP service. [`app`] builds the whole router from an [`App`]; each area has its
//! own `router()` merged here, so tests drive it in process (`tower::ServiceExt::oneshot`)
//! or on a real port.

pub mod error;
pub mod extract;
mod meta;
mod openapi;
pub mod score;
pub mod serve;

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use openapi::openapi;

use crate::model::Model;
use crate::policy::Policy;

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_text_chars: usize,
    pub max_body_bytes: usize,
    pub max_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_text_chars: 10_000,
            max_body_bytes: 1 << 20,
            max_batch: 1_000,
        }
    }
}

/// Everything a request handler needs. The model sits in an `ArcSwap` so a reload swaps
/// it whole while in-flight requests finish on the one they started with.
pub struct App {
    pub model: ArcSwap<Model>,
    pub policy: Policy,
    pub limits: Limits,
    pub model_path: Option<PathBuf>,
}

pub type AppState = Arc<App>;

impl App {
    pub fn new(model: Model, policy: Policy, limits: Limits) -> Self {
        Self {
            model: ArcSwap::from_pointee(model),
            policy,
            limits,
            model_path: None,
        }
    }
}

/// The whole service.
pub fn app(state: AppState) -> Router {
    let limit = state.limits.max_body_bytes;
    Router::new()
        .merge(score::router())
        .merge(meta::router())
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::Extension(extract::BodyLimit(limit)))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
