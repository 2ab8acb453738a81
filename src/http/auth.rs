//! API keys: `Authorization: Bearer <key>`, looked up by SHA-256 (keys are never stored),
//! each with a role. [`ROUTES`] lists every route and who may call it; the router is built
//! from the same guards, and a test walks the table.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use super::AppState;
use crate::domain::Role;
pub use crate::service::Caller;
use crate::store::hash_key;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// A key of at least this role.
    Role(Role),
    /// Public, or a scorer key when `--score-requires-key` is set.
    Scoring,
    /// As `Scoring`, with the key also accepted as `?key=` and errors in Perspective's shape.
    Perspective,
    /// A valid `X-Coral-Signature` of the body.
    CoralSignature,
}

/// Every route of the service.
pub const ROUTES: &[(Method, &str, Access)] = &[
    (Method::GET, "/healthz", Access::Public),
    (Method::GET, "/readyz", Access::Public),
    (Method::GET, "/openapi.json", Access::Public),
    (Method::GET, "/v1/model", Access::Public),
    (Method::GET, "/metrics", Access::Role(Role::Admin)),
    (Method::POST, "/v1/score", Access::Scoring),
    (Method::POST, "/v1/score/batch", Access::Scoring),
    (
        Method::POST,
        "/v1alpha1/comments:analyze",
        Access::Perspective,
    ),
    (Method::GET, "/$discovery/rest", Access::Public),
    (
        Method::POST,
        "/v1/integrations/coral",
        Access::CoralSignature,
    ),
    (Method::POST, "/v1/comments", Access::Role(Role::Scorer)),
    (
        Method::GET,
        "/v1/comments/{id}",
        Access::Role(Role::Moderator),
    ),
    (
        Method::POST,
        "/v1/comments/{id}/decision",
        Access::Role(Role::Moderator),
    ),
    (
        Method::GET,
        "/v1/authors/{author}",
        Access::Role(Role::Moderator),
    ),
    (Method::GET, "/v1/queue", Access::Role(Role::Moderator)),
    (
        Method::POST,
        "/v1/queue/claim",
        Access::Role(Role::Moderator),
    ),
    (
        Method::POST,
        "/v1/comments/{id}/release",
        Access::Role(Role::Moderator),
    ),
    (Method::GET, "/v1/labels/export", Access::Role(Role::Admin)),
    (
        Method::POST,
        "/v1/admin/model/reload",
        Access::Role(Role::Admin),
    ),
    (Method::GET, "/v1/admin/keys", Access::Role(Role::Admin)),
    (Method::POST, "/v1/admin/keys", Access::Role(Role::Admin)),
    (
        Method::DELETE,
        "/v1/admin/keys/{name}",
        Access::Role(Role::Admin),
    ),
];

/// The key of an `Authorization: Bearer <key>` header.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<String> {
    let h = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, key) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim().to_owned())
}

/// Resolves a key to its caller; `None` when there is no key.
pub async fn caller(app: &AppState, key: Option<String>) -> Result<Option<Caller>, ApiError> {
    let Some(key) = key else {
        return Ok(None);
    };
    // Looked up by hash: the comparison happens on digests, in the database index, so
    // the key itself is never compared byte by byte nor stored.
    match app.store.find_key(&hash_key(&key)).await? {
        Some(k) => Ok(Some(Caller {
            name: k.name,
            role: k.role,
        })),
        None => Err(ApiError::InvalidKey),
    }
}

/// Middleware: the request needs a key of at least `role`.
pub async fn require(
    State((app, role)): State<(AppState, Role)>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let key = bearer(req.headers());
    let c = caller(&app, key).await?.ok_or(ApiError::MissingKey)?;
    if c.role < role {
        return Err(ApiError::Forbidden {
            have: c.role,
            need: role,
        });
    }
    req.extensions_mut().insert(c);
    Ok(next.run(req).await)
}

/// The actor name recorded in history for an optional caller.
pub fn actor(c: Option<&Caller>) -> String {
    c.map_or_else(|| "anonymous".to_owned(), |c| c.name.clone())
}
