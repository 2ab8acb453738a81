//! Comments submitted for moderation: `POST /v1/comments`, `GET /v1/comments/{id}`,
//! `POST /v1/comments/{id}/decision`, `GET /v1/authors/{author}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};

use super::auth::{actor, Caller};
use super::error::{ApiError, ErrorBody};
use super::extract::Json;
use super::AppState;
use crate::domain::{CommentId, ModeratorAction};
use crate::scoring::{self, Scored};
use crate::service::labels::decision_labels;
use crate::service::reports::ReportItem;
use crate::service::statements;
use crate::service::targets;
use crate::service::views::{CommentView, EventView};
use crate::store::{now_ms, DecisionInput, NewComment};

/// Longest article id, author name and decision reason accepted, in characters.
const MAX_FIELD: usize = 200;
const MAX_REASON: usize = 2_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// The site's own id: a retry with the same id returns the stored result. Generated
    /// when absent.
    #[serde(default)]
    pub id: Option<String>,
    pub text: String,
    #[serde(default)]
    pub article_id: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
}

fn short_field(
    name: &'static str,
    v: Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match v {
        Some(s) if s.trim().is_empty() => Err(ApiError::Invalid {
            code: "invalid_field",
            message: format!("{name} is empty"),
        }),
        Some(s) if s.contains('\0') => Err(ApiError::Invalid {
            code: "invalid_field",
            message: format!("{name} contains a NUL character"),
        }),
        Some(s) if s.chars().count() > max => Err(ApiError::Invalid {
            code: "invalid_field",
            message: format!("{name} is longer than {max} characters"),
        }),
        other => Ok(other),
    }
}

/// Score a comment and store it: `published` when allowed, `pending` when held for a
/// moderator, `rejected` over a reject threshold. The write is committed before the answer.
#[utoipa::path(
    post,
    path = "/v1/comments", tag = "moderation",
    request_body = SubmitRequest,
    responses(
        (status = 201, description = "Stored, with the statement token", body = SubmitView),
        (status = 200, description = "Already stored under this id (a retry): the stored result, no token", body = SubmitView),
        (status = 409, description = "The id was used for another text, author, article or language", body = ErrorBody),
        (status = 422, description = "Invalid comment", body = ErrorBody),
        (status = 503, description = "Database unavailable: nothing was stored", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn submit(
    State(app): State<AppState>,
    caller: Option<Extension<Caller>>,
    Json(req): Json<SubmitRequest>,
) -> Result<(StatusCode, Json<SubmitView>), ApiError> {
    let id = match req.id {
        Some(id) => CommentId::parse(&id).map_err(|m| ApiError::Invalid {
            code: "invalid_id",
            message: m,
        })?,
        None => CommentId::generate(),
    };
    let article_id = short_field("article_id", req.article_id, MAX_FIELD)?;
    let author = short_field("author", req.author, MAX_FIELD)?;
    let model = app.model.load_full();
    let prepared = targets::prepare(
        &app,
        &model,
        req.text,
        req.target.as_deref(),
        req.lang.as_deref(),
        article_id.as_deref(),
    )
    .await?;
    let scored = scoring::score(&model, &app.policy, &prepared.input);
    app.metrics.decided(scored.decision, &scored.flagged);
    let mut new = to_new_comment(
        id,
        article_id,
        author,
        actor(caller.as_deref()),
        prepared.input.text.as_str().to_owned(),
        scored,
    );
    prepared.mark(&mut new);
    let (token, token_hash) = statements::new_token();
    new.statement_token_hash = Some(token_hash);
    let (stored, created) = app.store.submit(new).await?;
    log_stored(&app, &stored, created);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    // A retry gets no token: only its hash was stored, with the first submission.
    let token = created.then_some(token);
    Ok((
        status,
        Json(SubmitView {
            statement_url: token
                .as_deref()
                .map(|t| statements::author_link(&stored.id, t)),
            statement_token: token,
            comment: stored.into(),
        }),
    ))
}

/// A stored comment, and for a new one the token of its statement of reasons.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubmitView {
    #[serde(flatten)]
    pub comment: CommentView,
    /// Shown once, to the submitting site only: the comment's author reads the statement
    /// of reasons of any restriction (and will appeal) at `statement_url`. Absent on a
    /// retry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_token: Option<String>,
    /// The author's page for that statement, with the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_url: Option<String>,
}

/// One info line per stored comment, for operators following the flow; the text (its
/// first 80 characters) only without `--redact-logs`.
pub fn log_stored(app: &super::App, c: &crate::store::StoredComment, created: bool) {
    if app.config.redact_logs {
        tracing::info!(id = %c.id, status = %c.status.as_str(), decision = ?c.decision, created, "comment stored");
    } else {
        let excerpt: String = c.text.chars().take(80).collect();
        tracing::info!(id = %c.id, status = %c.status.as_str(), decision = ?c.decision, created, text = %excerpt, "comment stored");
    }
}

/// A scored comment, ready to store: the API's submissions and the Coral phase both store
/// through this.
pub fn to_new_comment(
    id: CommentId,
    article_id: Option<String>,
    author: Option<String>,
    actor: String,
    text: String,
    scored: Scored,
) -> NewComment {
    NewComment {
        id,
        text,
        article_id,
        author,
        target: scored.stance.as_ref().map(|s| s.target.clone()),
        lang: scored.lang.code().to_owned(),
        stance_label: scored.stance.as_ref().map(|s| s.label),
        stance: scored
            .stance
            .as_ref()
            .map(|s| serde_json::to_value(s).expect("stance serialises")),
        explanation: (!scored.explanation.is_empty())
            .then(|| serde_json::to_value(&scored.explanation).expect("explanation serialises")),
        scores: scored.scores,
        flagged: scored.flagged,
        model_id: scored.model_id,
        decision: scored.decision,
        actor,
        note: None,
        statement_token_hash: None,
        now_ms: now_ms(),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentDetail {
    pub comment: CommentView,
    /// Everything that happened to it, oldest first: who, what, when, with which model.
    pub history: Vec<EventView>,
    /// Readers' reports of it, oldest first.
    pub reports: Vec<ReportItem>,
}

/// A comment, its scores and its full history.
#[utoipa::path(
    get,
    path = "/v1/comments/{id}", tag = "moderation",
    params(("id" = String, Path, description = "Comment id")),
    responses((status = 200, description = "The comment, its scores and its whole history", body = CommentDetail), (status = 404, description = "No such comment or key", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_comment(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CommentDetail>, ApiError> {
    let (c, events) = app
        .store
        .get(&id)
        .await?
        .ok_or(ApiError::CommentNotFound(id))?;
    let reports = app.store.reports_of(std::slice::from_ref(&c.id)).await?;
    Ok(Json(CommentDetail {
        comment: c.into(),
        history: events.into_iter().map(Into::into).collect(),
        reports: reports.iter().map(ReportItem::from).collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `approve` or `reject`.
    #[schema(value_type = String)]
    pub action: ModeratorAction,
    #[serde(default)]
    pub reason: Option<String>,
    /// Labels beside the verdict, e.g. `{"insult": 1, "threat": 0, "stance": "against"}`:
    /// 0 or 1 for any binary head of the serving model, and `stance` (`favor`, `against` or
    /// `none`) for a comment with a stance target. A head left out is not labeled (never 0).
    /// Stored with the decision; the label export and retraining read them.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub labels: Option<serde_json::Map<String, serde_json::Value>>,
    /// The rule of the site's terms the decision rests on: a code of the grounds file
    /// (`insult`, `threat`, …); an unknown code gets 422. Cited by the statement of reasons;
    /// without it, the rule of the heads that fired.
    #[serde(default)]
    pub ground: Option<String>,
    /// The version the moderator saw; a stale one gets 409 and changes nothing.
    pub version: i64,
}

/// Approve or reject a comment. Recorded in its history; nothing is deleted.
#[utoipa::path(
    post,
    path = "/v1/comments/{id}/decision", tag = "moderation",
    params(("id" = String, Path, description = "Comment id")),
    request_body = DecisionRequest,
    responses(
        (status = 200, description = "The comment after the decision", body = CommentView),
        (status = 404, description = "No such comment or key", body = ErrorBody),
        (status = 409, description = "Stale version, or another moderator holds the claim", body = ErrorBody),
        (status = 422, description = "Invalid request: see the error code", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn decide(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Json(req): Json<DecisionRequest>,
) -> Result<Json<CommentView>, ApiError> {
    let labels = match &req.labels {
        Some(given) => decision_labels(&app, &id, given).await?,
        None => None,
    };
    let reason = short_field("reason", req.reason, MAX_REASON)?;
    let ground = statements::check_ground(&app, req.ground.as_deref())?;
    let c = app
        .store
        .decide(DecisionInput {
            id,
            action: req.action,
            reason,
            labels,
            ground,
            version: req.version,
            moderator: caller.name,
            now_ms: now_ms(),
        })
        .await?;
    Ok(Json(c.into()))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthorView {
    pub author: String,
    pub total: i64,
    /// Comments per status.
    pub by_status: std::collections::BTreeMap<String, i64>,
    /// Rejected over decided (published, approved, rejected); 0 with none.
    pub rejection_rate: f64,
    /// Newest first, at most 100.
    pub comments: Vec<CommentView>,
}

/// An author's comments and rejection rate.
#[utoipa::path(
    get,
    path = "/v1/authors/{author}", tag = "moderation",
    params(("author" = String, Path, description = "Author name as submitted")),
    responses((status = 200, description = "The author's comments and rejection rate", body = AuthorView)),
    security(("bearer" = []))
)]
pub async fn author(
    State(app): State<AppState>,
    Path(author): Path<String>,
) -> Result<Json<AuthorView>, ApiError> {
    let a = app.store.author(&author).await?;
    Ok(Json(AuthorView {
        author: a.author,
        total: a.total,
        by_status: a.by_status,
        rejection_rate: a.rejection_rate,
        comments: a.comments.into_iter().map(Into::into).collect(),
    }))
}
