//! The review queue's parameters, shared by the API (`GET /v1/queue`) and the page.

use serde::Deserialize;

use super::AppState;
use crate::domain::{CommentStatus, Stance};
use crate::store::{Cursor, Page, QueueOrder, QueueQuery, StoreError};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// `pending` (default), `published`, `approved` or `rejected`.
    pub status: Option<String>,
    /// Only comments whose score on this head is at least `min_score`; orders by it.
    pub head: Option<String>,
    pub min_score: Option<f64>,
    /// Only comments scoring at most this (on `head`, or their highest flagged score).
    pub max_score: Option<f64>,
    pub article: Option<String>,
    pub author: Option<String>,
    /// `favor`, `against` or `none`.
    pub stance: Option<String>,
    /// `true`: only comments with a reader report no moderator has decided since, of any
    /// status unless `status` is given.
    #[serde(default)]
    pub reported: Option<bool>,
    /// `score` (highest first, default), `oldest`, or `informative`: the pending comments
    /// whose labels would teach the model most first (uncertain on some head, unlike each
    /// other, with a share of random picks), ranked among the oldest 500 pending comments
    /// under the other filters. The informative order is one page: no `next_cursor`, no
    /// `cursor`; decide its comments and ask again.
    pub order: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (not with `order=informative`).
    pub cursor: Option<String>,
}

/// Queue parameters that do not make a query; the message says which and why.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidQuery(pub String);

fn invalid(m: impl ToString) -> InvalidQuery {
    InvalidQuery(m.to_string())
}

/// Parses and checks queue parameters against the model serving now.
pub fn queue_query(app: &AppState, p: QueueParams) -> Result<QueueQuery, InvalidQuery> {
    let status = p
        .status
        .as_deref()
        .map(str::parse::<CommentStatus>)
        .transpose()
        .map_err(invalid)?;
    if let Some(h) = &p.head {
        let model = app.model.load();
        if model.head_index(h).is_none() {
            let heads: Vec<&str> = model.card.heads.iter().map(|h| h.name.as_str()).collect();
            return Err(invalid(format!(
                "unknown head {h:?}; the model has {}",
                heads.join(", ")
            )));
        }
    }
    for (name, v) in [("min_score", p.min_score), ("max_score", p.max_score)] {
        if let Some(m) = v {
            if !(0.0..=1.0).contains(&m) {
                return Err(invalid(format!("{name} must lie in [0, 1], got {m}")));
            }
        }
    }
    let stance = p
        .stance
        .as_deref()
        .map(str::parse::<Stance>)
        .transpose()
        .map_err(invalid)?;
    let order = p
        .order
        .as_deref()
        .map(str::parse::<QueueOrder>)
        .transpose()
        .map_err(invalid)?
        .unwrap_or_default();
    let limit = p.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(invalid(format!("limit must be 1 to 200, got {limit}")));
    }
    let cursor = p
        .cursor
        .as_deref()
        .map(|c| Cursor::decode(c).ok_or_else(|| invalid(format!("invalid cursor {c:?}"))))
        .transpose()?;
    if order == QueueOrder::Informative {
        if status.is_some_and(|s| s != CommentStatus::Pending) {
            return Err(invalid("order=informative lists pending comments only"));
        }
        if cursor.is_some() {
            return Err(invalid(
                "order=informative is one page and takes no cursor: decide its comments and ask again",
            ));
        }
    }
    Ok(QueueQuery {
        status,
        head: p.head,
        min_score: p.min_score,
        max_score: p.max_score,
        article_id: p.article,
        author: p.author,
        stance,
        reported: p.reported.unwrap_or(false),
        order,
        limit,
        cursor,
    })
}

/// A page of the queue in the query's order: the store's own, or the teach order
/// (`service::teach`) for `order=informative`.
pub async fn fetch(app: &AppState, q: &QueueQuery) -> Result<Page, StoreError> {
    match q.order {
        QueueOrder::Informative => super::teach::informative(app, q).await,
        QueueOrder::Score | QueueOrder::Oldest => app.store.queue(q).await,
    }
}
