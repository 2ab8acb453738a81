//! The moderator's page: server-rendered askama templates (escaping by default), plain
//! forms for approve / reject with one-click label toggles (per head, and a stance) so it
//! works without JavaScript, a Teach tab (the queue's teach order), and a small script for
//! the keyboard shortcuts moderators know from Coral Talk (`j`/`k`, `f` approve, `d` reject,
//! `?` help; `1`–`9` toggle a label). Sign-in takes a moderator key once and keeps a session
//! in a secure, HTTP-only, same-site cookie; the key never appears in a URL.

mod appeals;
mod highlight;
mod pages;
mod statement;
mod targets;
mod transparency;

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::MethodRouter;
use axum::{Extension, Form};
use serde::Deserialize;

use crate::domain::{ModeratorAction, Role};
use crate::service::labels::{decision_labels, LabelsRefused};
use crate::service::statements::check_ground;
use crate::service::{AppState, Caller, KeyRefused};
use crate::store::{hash_key, now_ms, ApiKeyInfo, DecisionInput, StoreError};

pub(crate) use appeals::{appeals_page, decide_appeal};
pub use highlight::{segments, Segment};
pub(crate) use pages::{detail_page, queue_page};
pub(crate) use statement::{appeal_form, statement_page};
pub(crate) use targets::{attach as attach_articles, create as create_target, targets_page};
pub(crate) use transparency::transparency_page;

const COOKIE: &str = "vigie_session";
const SESSION_MS: i64 = 12 * 3600 * 1000;

/// A page anyone may load: the security headers, no session needed.
pub fn page(handler: MethodRouter<AppState>) -> MethodRouter<AppState> {
    handler.layer(axum::middleware::from_fn(security_headers))
}

/// A page for a signed-in moderator: without a session the browser goes to the sign-in
/// page.
pub fn signed_in_page(state: &AppState, handler: MethodRouter<AppState>) -> MethodRouter<AppState> {
    page(handler.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        require_session,
    )))
}

/// The page's keyboard script.
pub async fn script() -> Response {
    asset("text/javascript", include_str!("assets/app.js"))
}

/// The page's stylesheet.
pub async fn stylesheet() -> Response {
    asset("text/css", include_str!("assets/app.css"))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// No inline script or style can run, even if something slipped past escaping; no framing.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `no-referrer` would make browsers send `Origin: null` on form posts.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// Forms may only be posted from this site's own pages.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true; // Same-site cookies already keep cross-site posts out.
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    origin.split_once("://").map(|(_, rest)| rest) == Some(host)
}

async fn require_session(
    State(app): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, Response> {
    let token = session_token(req.headers());
    let found = match token {
        Some(t) => app
            .store
            .find_session(&hash_key(&t), now_ms())
            .await
            .map_err(|e| PageError::from(e).into_response())?,
        None => None,
    };
    let Some(key) = found.filter(|k| k.role >= Role::Moderator) else {
        return Err(Redirect::to("/moderation").into_response());
    };
    if req.method() == Method::POST && !same_origin(req.headers()) {
        return Err((StatusCode::FORBIDDEN, "cross-origin form post refused").into_response());
    }
    req.extensions_mut().insert(Caller {
        name: key.name,
        role: key.role,
    });
    Ok(next.run(req).await)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    message: String,
}

/// What a page shows instead of itself, on the error page: a store failure (503, 404, or 500
/// with the details logged, not shown) or a request the page refuses (422).
pub(crate) enum PageError {
    Store(StoreError),
    Unprocessable(String),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Store(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            PageError::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, m),
            PageError::Store(StoreError::Other(m)) => {
                tracing::error!(error = %m, "moderation page");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error.".to_owned(),
                )
            }
            PageError::Store(e) => {
                let status = match e {
                    StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                    StoreError::NotFound(_) => StatusCode::NOT_FOUND,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                (status, e.to_string())
            }
        };
        (status, render(&ErrorPage { message })).into_response()
    }
}

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
}

pub(crate) async fn login_page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(t) = session_token(&headers) {
        if let Ok(Some(_)) = app.store.find_session(&hash_key(&t), now_ms()).await {
            return Redirect::to("/moderation/queue").into_response();
        }
    }
    render(&LoginPage { error: None })
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    key: String,
}

pub(crate) async fn login(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    if !same_origin(&headers) {
        return Ok((StatusCode::FORBIDDEN, "cross-origin form post refused").into_response());
    }
    let key: Option<ApiKeyInfo> = app.store.find_key(&hash_key(f.key.trim())).await?;
    let Some(key) = key.filter(|k| k.role >= Role::Moderator) else {
        let error = Some("This key is unknown, revoked, or not a moderator key.".to_owned());
        let mut resp = (StatusCode::UNAUTHORIZED, render(&LoginPage { error })).into_response();
        resp.extensions_mut().insert(KeyRefused);
        return Ok(resp);
    };
    let token = crate::store::generate_key();
    let now = now_ms();
    app.store
        .create_session(&hash_key(&token), &key, now, now + SESSION_MS)
        .await?;
    let secure = if app.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={token}; Path=/moderation; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_MS / 1000
    );
    let mut resp = Redirect::to("/moderation/queue").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("ASCII cookie"),
    );
    Ok(resp)
}

pub(crate) async fn logout(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if let Some(t) = session_token(&headers) {
        app.store.end_session(&hash_key(&t), now_ms()).await?;
    }
    let mut resp = Redirect::to("/moderation").into_response();
    let gone = format!("{COOKIE}=; Path=/moderation; HttpOnly; SameSite=Strict; Max-Age=0");
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&gone).expect("ASCII cookie"),
    );
    Ok(resp)
}

/// A card's decision form: the verdict, the version seen, a reason, where to go back, and
/// the labels given beside the verdict: `label=<head>` for each head toggled on (absent: not
/// labeled, never 0) and `stance=favor|against|none` (empty: not given).
struct DecisionForm {
    action: Option<String>,
    version: Option<i64>,
    reason: Option<String>,
    /// A rule code of the site's grounds (the statement of reasons cites it).
    ground: Option<String>,
    return_to: Option<String>,
    labels: serde_json::Map<String, serde_json::Value>,
}

impl DecisionForm {
    /// Read by hand: serde's forms do not collect repeated fields.
    fn parse(body: &[u8]) -> Self {
        let mut f = DecisionForm {
            action: None,
            version: None,
            reason: None,
            ground: None,
            return_to: None,
            labels: serde_json::Map::new(),
        };
        for (k, v) in form_urlencoded::parse(body) {
            let v = v.into_owned();
            match &*k {
                "action" => f.action = Some(v),
                "version" => f.version = v.parse().ok(),
                "reason" => f.reason = Some(v),
                "ground" if !v.is_empty() => f.ground = Some(v),
                "return_to" => f.return_to = Some(v),
                "label" => {
                    f.labels.insert(v, 1.into());
                }
                "stance" if !v.is_empty() => {
                    f.labels.insert("stance".into(), v.into());
                }
                _ => {}
            }
        }
        f
    }
}

/// Where to go back after a form: only pages of this site.
fn back_to(return_to: Option<&str>, notice: &str) -> Response {
    let base = return_to
        .filter(|r| r.starts_with("/moderation/") && !r.starts_with("//"))
        .unwrap_or("/moderation/queue");
    // A new notice replaces an earlier one.
    let base = base
        .find("notice=")
        .map_or(base, |i| base[..i].trim_end_matches(['&', '?']));
    let sep = if base.contains('?') { '&' } else { '?' };
    let notice: String = form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    Redirect::to(&format!("{base}{sep}notice={notice}")).into_response()
}

/// What is wrong with a form's free text or return address, checked before anything is
/// decided: a NUL in the reason (no database stores one) or a control character in the
/// return address (no redirect can carry one), as the API refuses them.
fn form_problem(reason: Option<&str>, return_to: Option<&str>) -> Option<&'static str> {
    if reason.is_some_and(|r| r.contains('\0')) {
        return Some("The reason holds a NUL character; nothing was decided.");
    }
    if return_to.is_some_and(|r| r.chars().any(char::is_control)) {
        return Some("The return address holds a control character; nothing was decided.");
    }
    None
}

fn unprocessable(message: &str) -> Response {
    PageError::Unprocessable(message.into()).into_response()
}

/// What a moderator says with a verdict.
struct Said {
    reason: Option<String>,
    labels: Option<serde_json::Value>,
    /// Checked against the site's grounds.
    ground: Option<String>,
}

async fn apply(
    app: &AppState,
    me: &Caller,
    id: &str,
    action: ModeratorAction,
    version: i64,
    said: Said,
) -> Result<(), String> {
    let Said {
        reason,
        labels,
        ground,
    } = said;
    let reason = reason
        .map(|r| r.trim().chars().take(2000).collect::<String>())
        .filter(|r| !r.is_empty());
    app.store
        .decide(DecisionInput {
            id: id.to_owned(),
            action,
            reason,
            labels,
            ground,
            version,
            moderator: me.name.clone(),
            now_ms: now_ms(),
        })
        .await
        .map(|_| ())
        .map_err(|e| decision_failed(id, e))
}

/// What the page says of a decision the store refused.
fn decision_failed(id: &str, e: StoreError) -> String {
    match e {
        StoreError::VersionConflict { .. } => format!("{id} changed meanwhile; look again"),
        StoreError::Claimed { by, .. } => format!("{id} is being reviewed by {by}"),
        StoreError::NotFound(_) => format!("{id}: no such comment"),
        other => {
            // The database's own words stay in the log.
            tracing::error!(error = %other, id, "decision from the page failed");
            format!("{id}: the decision could not be saved; try again")
        }
    }
}

/// A card's decision, with the labels toggled beside it (checked as the API checks them).
pub(crate) async fn decide(
    State(app): State<AppState>,
    Extension(me): Extension<Caller>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let f = DecisionForm::parse(&body);
    if let Some(problem) = form_problem(f.reason.as_deref(), f.return_to.as_deref()) {
        return unprocessable(problem);
    }
    let Some(action) = f.action.and_then(|a| a.parse::<ModeratorAction>().ok()) else {
        return unprocessable("Unknown action.");
    };
    let Some(version) = f.version else {
        return unprocessable("The form has no version; reload the page.");
    };
    let labels = match decision_labels(&app, &id, &f.labels).await {
        Ok(labels) => labels,
        Err(LabelsRefused::Invalid(e)) => return unprocessable(&e.to_string()),
        Err(LabelsRefused::Store(e)) => {
            return back_to(f.return_to.as_deref(), &decision_failed(&id, e))
        }
    };
    let ground = match check_ground(&app, f.ground.as_deref()) {
        Ok(g) => g,
        Err(e) => return unprocessable(&e.to_string()),
    };
    let said = Said {
        reason: f.reason,
        labels,
        ground,
    };
    let notice = match apply(&app, &me, &id, action, version, said).await {
        Ok(()) => format!("{id} {}", action.status()),
        Err(m) => m,
    };
    back_to(f.return_to.as_deref(), &notice)
}

pub(crate) async fn bulk(
    State(app): State<AppState>,
    Extension(me): Extension<Caller>,
    body: axum::body::Bytes,
) -> Response {
    // Repeated `item=<id>:<version>` fields: parsed by hand, as serde forms do not collect them.
    let mut items = Vec::new();
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(&body) {
        if k == "item" {
            if let Some((id, ver)) = v.rsplit_once(':') {
                if let Ok(ver) = ver.parse::<i64>() {
                    items.push((id.to_owned(), ver));
                }
            }
        } else {
            fields.insert(k.into_owned(), v.into_owned());
        }
    }
    let field = |name: &str| fields.get(name).map(String::as_str);
    if let Some(problem) = form_problem(field("reason"), field("return_to")) {
        return unprocessable(problem);
    }
    let Some(action) = field("action").and_then(|a| a.parse::<ModeratorAction>().ok()) else {
        return unprocessable("Unknown action.");
    };
    let (mut done, mut failed) = (0, Vec::new());
    for (id, version) in &items {
        match apply(
            &app,
            &me,
            id,
            action,
            *version,
            Said {
                reason: fields.get("reason").cloned(),
                labels: None,
                ground: None,
            },
        )
        .await
        {
            Ok(()) => done += 1,
            Err(m) => failed.push(m),
        }
    }
    let verb = if action == ModeratorAction::Approve {
        "approved"
    } else {
        "rejected"
    };
    let mut notice = format!("{done} {verb}");
    if !failed.is_empty() {
        notice.push_str(&format!("; {} not: {}", failed.len(), failed.join("; ")));
    }
    back_to(fields.get("return_to").map(String::as_str), &notice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(r: Response) -> String {
        r.headers()[header::LOCATION].to_str().unwrap().to_owned()
    }

    #[test]
    fn forms_return_to_pages_of_this_site_only() {
        assert_eq!(
            location(back_to(
                Some("/moderation/queue?status=rejected&notice=old"),
                "new one"
            )),
            "/moderation/queue?status=rejected&notice=new+one"
        );
        assert_eq!(
            location(back_to(Some("/moderation/comments/a"), "done")),
            "/moderation/comments/a?notice=done"
        );
        for elsewhere in [
            "https://evil.example/",
            "//evil.example/moderation/",
            "/admin",
            "",
        ] {
            assert_eq!(
                location(back_to(Some(elsewhere), "x")),
                "/moderation/queue?notice=x",
                "{elsewhere}"
            );
        }
        assert_eq!(location(back_to(None, "x")), "/moderation/queue?notice=x");
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; vigie_session=tok; b=2"),
        );
        assert_eq!(session_token(&h).as_deref(), Some("tok"));
        assert_eq!(session_token(&HeaderMap::new()), None);
    }
}
