//! What the API shows of stored things: ids, statuses and RFC 3339 times.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::store::{Event, StoredComment};
use crate::util::rfc3339;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentView {
    pub id: String,
    /// `published`, `pending`, `approved` or `rejected`.
    pub status: String,
    /// The model's decision at submission: `allow`, `flag` or `reject`.
    pub decision: String,
    /// Give it back with a decision (optimistic concurrency).
    pub version: i64,
    pub text: String,
    pub article_id: Option<String>,
    pub author: Option<String>,
    pub target: Option<String>,
    pub lang: String,
    pub scores: BTreeMap<String, f32>,
    #[schema(value_type = Option<Object>)]
    pub stance: Option<serde_json::Value>,
    /// `scored`, or `not_yet_learned` when the comment has a site target the model that
    /// scored it had no stance head for; absent without a target.
    pub stance_state: Option<&'static str>,
    pub flagged: Vec<String>,
    #[schema(value_type = Option<Object>)]
    pub explanation: Option<serde_json::Value>,
    pub model_id: String,
    pub created_at: String,
    pub updated_at: String,
    pub claimed_by: Option<String>,
    pub claim_expires_at: Option<String>,
}

/// See [`CommentView::stance_state`].
pub fn stance_state(c: &StoredComment) -> Option<&'static str> {
    match (&c.target, &c.stance) {
        (_, Some(_)) => Some("scored"),
        (Some(_), None) => Some("not_yet_learned"),
        (None, None) => None,
    }
}

impl From<StoredComment> for CommentView {
    fn from(c: StoredComment) -> Self {
        let stance_state = stance_state(&c);
        Self {
            id: c.id,
            status: c.status.as_str().to_owned(),
            decision: c.decision.as_str().to_owned(),
            version: c.version,
            text: c.text,
            article_id: c.article_id,
            author: c.author,
            stance_state,
            target: c.target,
            lang: c.lang,
            scores: c.scores,
            stance: c.stance,
            flagged: c.flagged,
            explanation: c.explanation,
            model_id: c.model_id,
            created_at: rfc3339(c.created_at_ms),
            updated_at: rfc3339(c.updated_at_ms),
            claimed_by: c.claimed_by,
            claim_expires_at: c.claim_expires_at_ms.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub at: String,
    /// API key name of whoever acted.
    pub actor: String,
    /// `submitted`, `claimed`, `approve` or `reject`.
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub labels: Option<serde_json::Value>,
    pub model_id: Option<String>,
    pub version: i64,
    /// The rule of the site's terms a decision named (a code of the grounds).
    pub ground: Option<String>,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        Self {
            at: rfc3339(e.at_ms),
            actor: e.actor,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            reason: e.reason,
            labels: e.labels,
            model_id: e.model_id,
            version: e.version,
            ground: e.ground,
        }
    }
}
