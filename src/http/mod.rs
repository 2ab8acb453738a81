//! The HTTP service. [`app`] builds the whole router from an [`App`] and the one table of
//! routes, [`routes::ROUTES`], so tests drive it in process (`tower::ServiceExt::oneshot`)
//! or on a real port.

pub mod admin;
pub mod appeals;
pub mod auth;
pub mod comments;
pub mod coral;
pub mod error;
pub mod extract;
pub mod limits;
mod meta;
pub mod metrics;
pub mod models;
mod openapi;
pub mod perspective;
pub mod queue;
pub mod reports;
pub mod routes;
pub mod score;
pub mod serve;
pub mod statements;
pub mod targets;
pub mod transparency;

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::MethodRouter;
use axum::Router;

use auth::Access;
pub use error::ApiError;
pub use openapi::openapi;
use routes::{Route, ROUTES};

use crate::domain::Role;
pub use crate::service::{App, AppConfig, AppState, Limits};

/// The whole service.
pub fn app(state: AppState) -> Router {
    let limit = state.config.limits.max_body_bytes;
    ROUTES
        .iter()
        .fold(Router::new(), |router, r| {
            router.route(r.path, guarded(&state, r))
        })
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

/// A route's handler behind the guard its access names. The integrations check their own
/// credentials (Perspective's key, Coral's signature) to answer in their own shapes.
fn guarded(state: &AppState, r: &Route) -> MethodRouter<AppState> {
    let handler = (r.handler)();
    let key = |role: Role| from_fn_with_state((state.clone(), role), auth::require);
    match r.access {
        Access::Role(role) => handler.route_layer(key(role)),
        Access::Scoring if state.config.score_requires_key => {
            handler.route_layer(key(Role::Scorer))
        }
        Access::Scoring
        | Access::Public
        | Access::Perspective
        | Access::PerspectiveKey
        | Access::CoralSignature
        | Access::ModeratorOrToken => handler,
        Access::Page => crate::ui::page(handler),
        Access::Session => crate::ui::signed_in_page(state, handler),
    }
}
