//! API keys: `Authorization: Bearer <key>`, looked up by SHA-256 (keys are never stored),
//! each with a role. [`Access`] says who may call a route; the table of routes
//! ([`super::routes::ROUTES`]) gives each route one, the router puts the guard it names in
//! front of the handler, and a test walks the table.

use axum::extract::{Request, State};
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
    /// As `Perspective`, but a scorer key is always needed: what the route is sent is stored
    /// and teaches the model.
    PerspectiveKey,
    /// A valid `X-Coral-Signature` of the body.
    CoralSignature,
    /// A moderator key, or the comment's statement token as `?token=` (the handler checks
    /// either: a token opens that one statement and nothing else).
    ModeratorOrToken,
    /// A page of the moderator's site anyone may load (sign-in, assets).
    Page,
    /// A page of the moderator's site that needs a signed-in moderator; without a session
    /// it sends the browser to the sign-in page.
    Session,
}

/// Every route of the service (the table lives in [`super::routes`]).
pub use super::routes::ROUTES;

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
