//! The HTTP service. [`app`] builds the whole router from an [`App`]; each area has its
//! own `router()` merged here, so tests drive it in process (`tower::ServiceExt::oneshot`)
//! or on a real port.

pub mod admin;
pub mod auth;
pub mod comments;
pub mod coral;
pub mod error;
pub mod extract;
pub mod limits;
mod meta;
pub mod metrics;
mod openapi;
pub mod perspective;
pub mod queue;
pub mod score;
pub mod serve;

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::Router;

pub use error::ApiError;
pub use openapi::openapi;

use crate::domain::Role;
pub use crate::service::{App, AppConfig, AppState, Limits};

/// The whole service.
pub fn app(state: AppState) -> Router {
    let limit = state.config.limits.max_body_bytes;
    let guard = |role: Role| from_fn_with_state((state.clone(), role), auth::require);
    let mut scoring = score::router();
    if state.config.score_requires_key {
        scoring = scoring.route_layer(guard(Role::Scorer));
    }
    Router::new()
        .merge(meta::router())
        .merge(scoring)
        .merge(perspective::router())
        .merge(coral::router())
        .merge(comments::scorer_router().route_layer(guard(Role::Scorer)))
        .merge(comments::moderator_router().route_layer(guard(Role::Moderator)))
        .merge(queue::router().route_layer(guard(Role::Moderator)))
        .merge(admin::router().route_layer(guard(Role::Admin)))
        .merge(metrics::router().route_layer(guard(Role::Admin)))
        .merge(crate::ui::router(state.clone()))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::Extension(extract::BodyLimit(limit)))
        .layer(from_fn_with_state(state.clone(), limits::rate_limit))
        .layer(from_fn_with_state(
            state.clone(),
            limits::throttle_key_guesses,
        ))
        .layer(axum::middleware::from_fn(limits::refuse_nul))
        .layer(from_fn_with_state(state.clone(), limits::deadline))
        .layer(axum::middleware::from_fn(limits::access_log))
        .layer(from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}
