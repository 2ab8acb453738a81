//! Statements of reasons: `GET /v1/comments/{id}/statement` (a moderator, or the author
//! with the comment's token) and the Transparency Database export,
//! `GET /v1/dsa/statements` (admin). What a statement says is `service::statements`'.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::{bearer, caller};
use super::error::{ApiError, ErrorBody};
use super::extract::{Json, Query};
use super::AppState;
use crate::domain::Role;
use crate::service::statements::dsa::{self, DsaStatement};
use crate::service::statements::{self, StatementView};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatementQuery {
    /// The comment's statement token (the author's access; no key needed).
    #[serde(default)]
    pub token: Option<String>,
    /// `json` (default) or `dsa`: the Transparency Database's submission format
    /// (moderators only).
    #[serde(default)]
    pub format: Option<String>,
}

/// A comment's statement of reasons: with a moderator key, or with `?token=` the author's
/// view of that one statement (which carries the author's link). A wrong token is a 404,
/// as for a comment that does not exist.
#[utoipa::path(
    get,
    path = "/v1/comments/{id}/statement", tag = "moderation",
    params(("id" = String, Path, description = "Comment id"), StatementQuery),
    responses(
        (status = 200, description = "The statement of reasons (or, with `format=dsa`, the Transparency Database's submission)", body = StatementView),
        (status = 401, description = "Neither a token nor a key", body = ErrorBody),
        (status = 404, description = "No such comment (or not this token's), or `no_statement`: the comment is not restricted", body = ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn get_statement(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<StatementQuery>,
) -> Result<Response, ApiError> {
    let dsa_format = match q.format.as_deref() {
        None | Some("json") => false,
        Some("dsa") => true,
        Some(other) => {
            return Err(ApiError::InvalidQuery(format!(
                "unknown format {other:?}: expected json or dsa"
            )))
        }
    };
    if let Some(token) = q.token.filter(|_| !dsa_format) {
        let view = statements::author_view(&app, &id, &token).await?;
        return Ok(Json(view).into_response());
    }
    let who = caller(&app, bearer(&headers))
        .await?
        .ok_or(ApiError::MissingKey)?;
    if who.role < Role::Moderator {
        return Err(ApiError::Forbidden {
            have: who.role,
            need: Role::Moderator,
        });
    }
    let s = statements::statement(&app, &id).await?;
    let appeal = app.store.appeal_of(&id).await?;
    Ok(if dsa_format {
        Json(dsa::to_dsa(&s, &app.config.grounds)).into_response()
    } else {
        Json(StatementView::new(s, None).with_appeal(appeal.as_ref())).into_response()
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// From this time (RFC 3339, included).
    pub from: String,
    /// To this time (RFC 3339, excluded).
    pub to: String,
}

/// The body of the database's multiple endpoint (`POST /api/v1/statements`, at most 100
/// a call: send it in slices).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DsaExport {
    pub statements: Vec<DsaStatement>,
}

/// The statements of reasons of the comments restricted, or whose restriction changed, in
/// `[from, to)`, in the DSA Transparency Database's submission format (at most 10,000).
#[utoipa::path(
    get,
    path = "/v1/dsa/statements", tag = "admin",
    params(ExportQuery),
    responses(
        (status = 200, description = "The statements, as the database's multiple endpoint takes them", body = DsaExport),
        (status = 422, description = "`from` or `to` is not an RFC 3339 time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn export_statements(
    State(app): State<AppState>,
    Query(q): Query<ExportQuery>,
) -> Result<Json<DsaExport>, ApiError> {
    let (from, to) = (time("from", &q.from)?, time("to", &q.to)?);
    let statements = dsa::export(&app, from, to).await?;
    Ok(Json(DsaExport { statements }))
}

/// An RFC 3339 time as ms since the epoch.
pub(super) fn time(name: &str, s: &str) -> Result<i64, ApiError> {
    let t = humantime::parse_rfc3339_weak(s).map_err(|e| {
        ApiError::InvalidQuery(format!("{name} {s:?} is not an RFC 3339 time: {e}"))
    })?;
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Ok(i64::try_from(ms).unwrap_or(i64::MAX))
}
