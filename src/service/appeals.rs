//! Appeals (DSA Art. 20) as the doors serve them: the author files one with the comment's
//! statement token (`POST /v1/comments/{id}/appeal`, the statement page's form); moderators
//! list them (`GET /v1/appeals`, the page's Appeals tab) and decide them
//! (`POST /v1/appeals/{id}/decision`), never the moderator of the decision appealed, so an
//! automated decision always reaches a human and a human's reaches another. What the author
//! is shown of an appeal ([`AppealView`]) names no moderator.

use serde::Serialize;

use super::statements::{self, StatementRefused};
use super::views::CommentView;
use super::App;
use crate::domain::{AppealOutcome, DecidedBy, FreeText, FreeTextError};
use crate::store::{Appeal, AppealFilter, AppealInput, NewAppeal, StoreError, StoredComment};
use crate::util::rfc3339;

/// At most this many appeals a list.
pub const MAX_LIST: i64 = 500;

/// Why an appeal was not filed or decided.
#[derive(Debug, thiserror::Error)]
pub enum AppealRefused {
    /// No such comment, a token not its own, or no restriction to appeal.
    #[error(transparent)]
    Statement(#[from] StatementRefused),
    #[error(transparent)]
    Text(#[from] FreeTextError),
    /// Already appealed, already decided, the same moderator, no such appeal, or the
    /// database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Files the author's appeal against the restriction of comment `id`.
pub async fn file(app: &App, id: &str, token: &str, text: &str) -> Result<Appeal, AppealRefused> {
    let text = FreeText::parse("text", text)?;
    let (statement, events) = statements::author_statement(app, id, token).await?;
    let decided_by = match statement.decided_by {
        DecidedBy::Moderator => events
            .iter()
            .rev()
            .find(|e| e.action == "approve" || e.action == "reject")
            .map(|e| e.actor.clone()),
        DecidedBy::Automated => None,
    };
    let appeal = app
        .store
        .file_appeal(NewAppeal {
            comment_id: id.to_owned(),
            text: text.into_string(),
            decided_by,
            now_ms: crate::store::now_ms(),
        })
        .await?;
    Ok(appeal)
}

/// A moderator's decision on appeal `appeal_id`.
pub async fn decide(
    app: &App,
    appeal_id: i64,
    moderator: &str,
    outcome: AppealOutcome,
    reason: &str,
) -> Result<(Appeal, StoredComment), AppealRefused> {
    let reason = FreeText::parse("reason", reason)?;
    let decided = app
        .store
        .decide_appeal(AppealInput {
            appeal_id,
            outcome,
            reason: reason.into_string(),
            ground: None,
            moderator: moderator.to_owned(),
            now_ms: crate::store::now_ms(),
        })
        .await?;
    Ok(decided)
}

/// The appeals moderators see: the open ones (oldest first), or all (newest first).
pub async fn list(app: &App, open_only: bool) -> Result<Vec<AppealItem>, StoreError> {
    let filter = if open_only {
        AppealFilter::Open
    } else {
        AppealFilter::All
    };
    let found = app.store.appeals(filter, MAX_LIST).await?;
    Ok(found
        .into_iter()
        .map(|(a, c)| AppealItem::new(a, c))
        .collect())
}

/// An appeal as the author sees it: its state and, once decided, the outcome and its
/// reasons; never who decided.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppealView {
    /// `open`, `upheld` or `overturned`.
    pub status: &'static str,
    pub filed_at: String,
    pub text: String,
    pub decided_at: Option<String>,
    /// The moderator's reasons for the outcome.
    pub reason: Option<String>,
    /// `moderator` once decided: an appeal is always decided by a human.
    pub decided_by: Option<&'static str>,
}

impl From<&Appeal> for AppealView {
    fn from(a: &Appeal) -> Self {
        let d = a.decision.as_ref();
        AppealView {
            status: d.map_or("open", |d| d.outcome.as_str()),
            filed_at: rfc3339(a.filed_at_ms),
            text: a.text.clone(),
            decided_at: d.map(|d| rfc3339(d.at_ms)),
            reason: d.map(|d| d.reason.clone()),
            decided_by: d.map(|_| "moderator"),
        }
    }
}

/// How a moderator decided an appeal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppealDecisionView {
    /// `upheld` or `overturned`.
    pub outcome: &'static str,
    pub reason: String,
    /// The deciding moderator's key name.
    pub moderator: String,
    pub decided_at: String,
}

/// An appeal as moderators see it, with its comment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppealItem {
    pub id: i64,
    pub comment: CommentView,
    /// The author's text.
    pub text: String,
    pub filed_at: String,
    /// The comment's status when appealed.
    pub from_status: String,
    /// The decision appealed was the policy's thresholds alone: any moderator may decide.
    pub automated: bool,
    /// Who took the decision appealed (absent when automated): they may not decide it.
    pub decided_by: Option<String>,
    pub decision: Option<AppealDecisionView>,
}

impl AppealItem {
    pub fn new(a: Appeal, c: StoredComment) -> Self {
        AppealItem {
            id: a.id,
            comment: c.into(),
            filed_at: rfc3339(a.filed_at_ms),
            from_status: a.from_status,
            automated: a.decided_by.is_none(),
            decided_by: a.decided_by,
            decision: a.decision.map(|d| AppealDecisionView {
                outcome: d.outcome.as_str(),
                reason: d.reason,
                moderator: d.moderator,
                decided_at: rfc3339(d.at_ms),
            }),
            text: a.text,
        }
    }
}
