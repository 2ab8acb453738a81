//! The moderator's page: server-rendered askama templates (escaping by default), plain
//! forms for approve / reject so it works without JavaScript, and a small script for the
//! keyboard shortcuts moderators know from Coral Talk (`j`/`k`, `f` approve, `d` reject,
//! `?` help). Sign-in takes a moderator key once and keeps a session in a secure,
//! HTTP-only, same-site cookie; the key never appears in a URL.

mod highlight;

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;

use crate::domain::{ModeratorAction, Role};
use crate::service::queue::{queue_query, QueueParams};
use crate::service::views::EventView;
use crate::service::{AppState, Caller, KeyRefused};
use crate::store::{hash_key, now_ms, ApiKeyInfo, DecisionInput, StoreError, StoredComment};
use crate::util::rfc3339;

pub use highlight::{segments, Segment};

const COOKIE: &str = "vigie_session";
const SESSION_MS: i64 = 12 * 3600 * 1000;

/// Every page route; those needing a session redirect to the sign-in page without one.
pub const ROUTES: &[(Method, &str, bool)] = &[
    (Method::GET, "/moderation", false),
    (Method::POST, "/moderation/login", false),
    (Method::POST, "/moderation/logout", true),
    (Method::GET, "/moderation/queue", true),
    (Method::POST, "/moderation/bulk", true),
    (Method::GET, "/moderation/comments/{id}", true),
    (Method::POST, "/moderation/comments/{id}/decision", true),
    (Method::GET, "/moderation/assets/app.js", false),
    (Method::GET, "/moderation/assets/app.css", false),
];

pub fn router(state: AppState) -> Router<AppState> {
    let signed_in = Router::new()
        .route("/moderation/logout", post(logout))
        .route("/moderation/queue", get(queue_page))
        .route("/moderation/bulk", post(bulk))
        .route("/moderation/comments/{id}", get(detail_page))
        .route("/moderation/comments/{id}/decision", post(decide))
        .route_layer(axum::middleware::from_fn_with_state(state, require_session));
    Router::new()
        .route("/moderation", get(login_page))
        .route("/moderation/login", post(login))
        .route(
            "/moderation/assets/app.js",
            get(|| async { asset("text/javascript", include_str!("assets/app.js")) }),
        )
        .route(
            "/moderation/assets/app.css",
            get(|| async { asset("text/css", include_str!("assets/app.css")) }),
        )
        .merge(signed_in)
        .layer(axum::middleware::from_fn(security_headers))
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
            .map_err(page_error)?,
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

fn page_error(e: StoreError) -> Response {
    let status = match e {
        StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        StoreError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let message = match &e {
        StoreError::Other(m) => {
            tracing::error!(error = %m, "moderation page");
            "Internal error.".to_owned()
        }
        other => other.to_string(),
    };
    (status, render(&ErrorPage { message })).into_response()
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

async fn login_page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(t) = session_token(&headers) {
        if let Ok(Some(_)) = app.store.find_session(&hash_key(&t), now_ms()).await {
            return Redirect::to("/moderation/queue").into_response();
        }
    }
    render(&LoginPage { error: None })
}

#[derive(Deserialize)]
struct LoginForm {
    key: String,
}

async fn login(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin form post refused").into_response();
    }
    let key: Option<ApiKeyInfo> = match app.store.find_key(&hash_key(f.key.trim())).await {
        Ok(k) => k,
        Err(e) => return page_error(e),
    };
    let Some(key) = key.filter(|k| k.role >= Role::Moderator) else {
        let error = Some("This key is unknown, revoked, or not a moderator key.".to_owned());
        let mut resp = (StatusCode::UNAUTHORIZED, render(&LoginPage { error })).into_response();
        resp.extensions_mut().insert(KeyRefused);
        return resp;
    };
    let token = crate::store::generate_key();
    let now = now_ms();
    if let Err(e) = app
        .store
        .create_session(&hash_key(&token), &key, now, now + SESSION_MS)
        .await
    {
        return page_error(e);
    }
    let secure = if app.cookie_secure { "; Secure" } else { "" };
    let cookie = format!(
        "{COOKIE}={token}; Path=/moderation; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_MS / 1000
    );
    let mut resp = Redirect::to("/moderation/queue").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("ASCII cookie"),
    );
    resp
}

async fn logout(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(t) = session_token(&headers) {
        if let Err(e) = app.store.end_session(&hash_key(&t), now_ms()).await {
            return page_error(e);
        }
    }
    let mut resp = Redirect::to("/moderation").into_response();
    let gone = format!("{COOKIE}=; Path=/moderation; HttpOnly; SameSite=Strict; Max-Age=0");
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&gone).expect("ASCII cookie"),
    );
    resp
}

/// A comment as a card or detail view shows it.
struct Card {
    id: String,
    version: i64,
    status: String,
    segments: Vec<Segment>,
    scores: Vec<ScoreRow>,
    stance: Option<String>,
    article: Option<String>,
    author: Option<String>,
    author_rate: Option<String>,
    created_at: String,
    claimed_by: Option<String>,
}

impl Card {
    fn new(c: StoredComment, stats: Option<&crate::store::AuthorStats>) -> Self {
        let scores = c
            .scores
            .iter()
            .map(|(h, &s)| ScoreRow {
                head: h.clone(),
                value: format!("{s:.2}"),
                flagged: c.flagged.contains(h),
            })
            .collect();
        Card {
            segments: segments(&c.text, c.explanation.as_ref()),
            stance: c
                .stance
                .as_ref()
                .and_then(|s| s["label"].as_str())
                .map(str::to_owned),
            author_rate: stats
                .map(|s| format!("{:.0}% rejected of {}", s.rejection_rate * 100.0, s.total)),
            created_at: rfc3339(c.created_at_ms),
            id: c.id,
            version: c.version,
            status: c.status.as_str().to_owned(),
            scores,
            article: c.article_id,
            author: c.author,
            claimed_by: c.claimed_by,
        }
    }
}

/// A tab or an option of a select: its value, a count where it has one, and whether it is
/// the current one.
struct Choice {
    value: String,
    count: i64,
    current: bool,
}

impl Choice {
    fn list<'a>(
        values: impl IntoIterator<Item = &'a str>,
        current: &str,
        count: impl Fn(&str) -> i64,
    ) -> Vec<Choice> {
        values
            .into_iter()
            .map(|v| Choice {
                value: v.to_owned(),
                count: count(v),
                current: v == current,
            })
            .collect()
    }
}

struct ScoreRow {
    head: String,
    /// Two decimals, for the bar and the label.
    value: String,
    flagged: bool,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    moderator: String,
    status: String,
    /// (status, count, current)
    tabs: Vec<Choice>,
    heads: Vec<Choice>,
    stances: Vec<Choice>,
    /// The filter values as typed, to show them back.
    f: BTreeMap<&'static str, String>,
    cards: Vec<Card>,
    next: Option<String>,
    prev: Option<String>,
    this_page: String,
    notice: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct Filters {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    head: Option<String>,
    #[serde(default)]
    min: Option<String>,
    #[serde(default)]
    max: Option<String>,
    #[serde(default)]
    article: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    stance: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
    /// Cursors of the pages before this one, comma-separated, for "previous".
    #[serde(default)]
    prev: Option<String>,
    #[serde(default)]
    notice: Option<String>,
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

impl Filters {
    fn shown(&self) -> BTreeMap<&'static str, String> {
        [
            ("head", &self.head),
            ("min", &self.min),
            ("max", &self.max),
            ("article", &self.article),
            ("author", &self.author),
            ("stance", &self.stance),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.clone().unwrap_or_default()))
        .collect()
    }

    /// The query string of this filter set with another cursor trail.
    fn query(&self, cursor: Option<&str>, prev: Option<&str>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("status", &self.status),
            ("head", &self.head),
            ("min", &self.min),
            ("max", &self.max),
            ("article", &self.article),
            ("author", &self.author),
            ("stance", &self.stance),
        ] {
            if let Some(v) = non_empty(v) {
                q.append_pair(k, &v);
            }
        }
        if let Some(c) = cursor {
            q.append_pair("cursor", c);
        }
        if let Some(p) = prev.filter(|p| !p.is_empty()) {
            q.append_pair("prev", p);
        }
        format!("/moderation/queue?{}", q.finish())
    }
}

async fn queue_page(
    State(app): State<AppState>,
    Extension(me): Extension<Caller>,
    axum::extract::Query(f): axum::extract::Query<Filters>,
) -> Response {
    let parse = |v: &Option<String>| non_empty(v).map(|s| s.parse::<f64>());
    let (min, max) = match (parse(&f.min).transpose(), parse(&f.max).transpose()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&ErrorPage {
                    message: "Scores are numbers between 0 and 1.".into(),
                }),
            )
                .into_response()
        }
    };
    let params = QueueParams {
        status: non_empty(&f.status),
        head: non_empty(&f.head),
        min_score: min,
        max_score: max,
        article: non_empty(&f.article),
        author: non_empty(&f.author),
        stance: non_empty(&f.stance),
        order: None,
        limit: Some(25),
        cursor: non_empty(&f.cursor),
    };
    let q = match queue_query(&app, params) {
        Ok(q) => q,
        Err(e) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&ErrorPage {
                    message: e.to_string(),
                }),
            )
                .into_response()
        }
    };
    let (page, counts) = match (app.store.queue(&q).await, app.store.counts().await) {
        (Ok(p), Ok(c)) => (p, c),
        (Err(e), _) | (_, Err(e)) => return page_error(e),
    };
    let authors: Vec<String> = page
        .items
        .iter()
        .filter_map(|c| c.author.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let stats = match app.store.author_stats(&authors).await {
        Ok(s) => s,
        Err(e) => return page_error(e),
    };
    let cards = page
        .items
        .into_iter()
        .map(|c| {
            let s = c.author.as_ref().and_then(|a| stats.get(a));
            Card::new(c, s)
        })
        .collect();
    // "Next" pushes this page's cursor on the trail; "previous" pops it.
    let trail: Vec<&str> = f
        .prev
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .collect();
    let here = f.cursor.clone().unwrap_or_default();
    let next = page.next.map(|n| {
        let mut t = trail.clone();
        t.push(if here.is_empty() { "-" } else { &here });
        f.query(Some(&n.encode()), Some(&t.join(",")))
    });
    let prev = (!here.is_empty()).then(|| {
        let mut t = trail.clone();
        let back = t.pop().filter(|c| *c != "-");
        f.query(back, Some(&t.join(",")))
    });
    let model = app.model.load();
    let status = non_empty(&f.status).unwrap_or_else(|| "pending".into());
    let shown = f.shown();
    render(&QueuePage {
        moderator: me.name,
        tabs: Choice::list(
            ["pending", "approved", "rejected", "published"],
            &status,
            |s| counts.get(s).copied().unwrap_or(0),
        ),
        heads: Choice::list(
            model.card.heads.iter().map(|h| h.name.as_str()),
            &shown["head"],
            |_| 0,
        ),
        stances: Choice::list(["favor", "against", "none"], &shown["stance"], |_| 0),
        status,
        this_page: f.query(f.cursor.as_deref(), f.prev.as_deref()),
        notice: non_empty(&f.notice),
        f: shown,
        cards,
        next,
        prev,
    })
}

#[derive(Template)]
#[template(path = "detail.html")]
struct DetailPage {
    moderator: String,
    card: Card,
    history: Vec<EventView>,
    this_page: String,
    notice: Option<String>,
}

#[derive(Deserialize)]
struct NoticeParam {
    #[serde(default)]
    notice: Option<String>,
}

async fn detail_page(
    State(app): State<AppState>,
    Extension(me): Extension<Caller>,
    Path(id): Path<String>,
    axum::extract::Query(n): axum::extract::Query<NoticeParam>,
) -> Response {
    let (c, events) = match app.store.get(&id).await {
        Ok(Some(x)) => x,
        Ok(None) => return page_error(StoreError::NotFound(id)),
        Err(e) => return page_error(e),
    };
    let stats = match &c.author {
        Some(a) => app
            .store
            .author_stats(std::slice::from_ref(a))
            .await
            .ok()
            .and_then(|mut m| m.remove(a)),
        None => None,
    };
    let this_page = format!("/moderation/comments/{}", c.id);
    render(&DetailPage {
        moderator: me.name,
        card: Card::new(c, stats.as_ref()),
        history: events.into_iter().map(Into::into).collect(),
        this_page,
        notice: non_empty(&n.notice),
    })
}

#[derive(Deserialize)]
struct DecisionForm {
    action: String,
    version: i64,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    return_to: Option<String>,
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
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        render(&ErrorPage {
            message: message.into(),
        }),
    )
        .into_response()
}

fn action_of(s: &str) -> Option<ModeratorAction> {
    match s {
        "approve" => Some(ModeratorAction::Approve),
        "reject" => Some(ModeratorAction::Reject),
        _ => None,
    }
}

async fn apply(
    app: &AppState,
    me: &Caller,
    id: &str,
    action: ModeratorAction,
    version: i64,
    reason: Option<String>,
) -> Result<(), String> {
    let reason = reason
        .map(|r| r.trim().chars().take(2000).collect::<String>())
        .filter(|r| !r.is_empty());
    app.store
        .decide(DecisionInput {
            id: id.to_owned(),
            action,
            reason,
            labels: None,
            version,
            moderator: me.name.clone(),
            now_ms: now_ms(),
        })
        .await
        .map(|_| ())
        .map_err(|e| match e {
            StoreError::VersionConflict { .. } => format!("{id} changed meanwhile; look again"),
            StoreError::Claimed { by, .. } => format!("{id} is being reviewed by {by}"),
            StoreError::NotFound(_) => format!("{id}: no such comment"),
            other => {
                // The database's own words stay in the log.
                tracing::error!(error = %other, id, "decision from the page failed");
                format!("{id}: the decision could not be saved; try again")
            }
        })
}

async fn decide(
    State(app): State<AppState>,
    Extension(me): Extension<Caller>,
    Path(id): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Response {
    if let Some(problem) = form_problem(f.reason.as_deref(), f.return_to.as_deref()) {
        return unprocessable(problem);
    }
    let Some(action) = action_of(&f.action) else {
        return unprocessable("Unknown action.");
    };
    let notice = match apply(&app, &me, &id, action, f.version, f.reason).await {
        Ok(()) => format!(
            "{id} {}",
            if action == ModeratorAction::Approve {
                "approved"
            } else {
                "rejected"
            }
        ),
        Err(m) => m,
    };
    back_to(f.return_to.as_deref(), &notice)
}

async fn bulk(
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
    let Some(action) = fields.get("action").and_then(|a| action_of(a)) else {
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
            fields.get("reason").cloned(),
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
