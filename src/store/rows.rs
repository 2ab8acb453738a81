//! Rows into stored things, the same for both backends: JSON columns are read back with
//! serde, domain columns with their `FromStr`.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::de::DeserializeOwned;
use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{
    Activation, ApiKeyInfo, Event, ExportRow, SiteTarget, StoreError, StoredComment, StoredModel,
    Suggestion,
};
use crate::domain::{ParseError, Target};

/// Types both backends decode the same way.
pub(super) trait Readable<R: Row>:
    for<'r> Decode<'r, R::Database> + Type<R::Database>
{
}
impl<R: Row, T> Readable<R> for T where T: for<'r> Decode<'r, R::Database> + Type<R::Database> {}

fn json<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Other(format!("stored JSON unreadable: {e}")))
}

/// A domain value stored as its `as_str()`.
pub(super) fn domain<T: FromStr<Err = ParseError>>(s: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|e| StoreError::Other(format!("stored value unreadable: {e}")))
}

/// A JSON column that may be NULL.
fn json_opt<T: DeserializeOwned>(s: Option<String>) -> Result<Option<T>, StoreError> {
    s.as_deref().map(json).transpose()
}

pub(super) fn comment<R: Row>(r: &R) -> Result<StoredComment, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    f64: Readable<R>,
    String: Readable<R>,
{
    Ok(StoredComment {
        seq: r.try_get("seq")?,
        id: r.try_get("id")?,
        text: r.try_get("text")?,
        article_id: r.try_get("article_id")?,
        author: r.try_get("author")?,
        target: r.try_get("target")?,
        lang: r.try_get("lang")?,
        scores: json::<BTreeMap<String, f32>>(&r.try_get::<String, _>("scores")?)?,
        stance: json_opt(r.try_get("stance")?)?,
        flagged: json(&r.try_get::<String, _>("flagged")?)?,
        explanation: json_opt(r.try_get("explanation")?)?,
        max_score: r.try_get("max_score")?,
        model_id: r.try_get("model_id")?,
        decision: domain(&r.try_get::<String, _>("decision")?)?,
        status: domain(&r.try_get::<String, _>("status")?)?,
        version: r.try_get("version")?,
        created_at_ms: r.try_get("created_at")?,
        updated_at_ms: r.try_get("updated_at")?,
        claimed_by: r.try_get("claimed_by")?,
        claim_expires_at_ms: r.try_get("claim_expires_at")?,
    })
}

pub(super) fn event<R: Row>(r: &R) -> Result<Event, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    String: Readable<R>,
{
    Ok(Event {
        at_ms: r.try_get("at")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        from_status: r.try_get("from_status")?,
        to_status: r.try_get("to_status")?,
        reason: r.try_get("reason")?,
        labels: json_opt(r.try_get("labels")?)?,
        model_id: r.try_get("model_id")?,
        version: r.try_get("version")?,
        ground: r.try_get("ground")?,
    })
}

pub(super) fn key<R: Row>(r: &R) -> Result<ApiKeyInfo, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    String: Readable<R>,
{
    Ok(ApiKeyInfo {
        name: r.try_get("name")?,
        role: domain(&r.try_get::<String, _>("role")?)?,
        created_at_ms: r.try_get("created_at")?,
        revoked_at_ms: r.try_get("revoked_at")?,
    })
}

/// The claim columns of a comment locked for a change (`lock_for_decision`).
pub(super) struct Locked {
    pub seq: i64,
    pub version: i64,
    pub status: String,
    pub model_id: String,
    /// The live claim's holder and end, if any is recorded.
    pub claim: Option<(String, i64)>,
}

pub(super) fn locked<R: Row>(r: &R) -> Result<Locked, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    String: Readable<R>,
{
    let by: Option<String> = r.try_get("claimed_by")?;
    let until: Option<i64> = r.try_get("claim_expires_at")?;
    Ok(Locked {
        seq: r.try_get("seq")?,
        version: r.try_get("version")?,
        status: r.try_get("status")?,
        model_id: r.try_get("model_id")?,
        claim: by.zip(until),
    })
}

/// Per status, the `n` of rows `(status, n)`, every status present (0 when absent).
pub(super) fn status_counts<R: Row>(rows: &[R]) -> Result<BTreeMap<String, i64>, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    String: Readable<R>,
{
    let mut out: BTreeMap<String, i64> = crate::domain::CommentStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    for r in rows {
        out.insert(r.try_get("status")?, r.try_get("n")?);
    }
    Ok(out)
}

/// A row of the `export` statement: a comment with its latest decision's action and labels.
pub(super) fn export<R: Row>(r: &R) -> Result<ExportRow, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    f64: Readable<R>,
    String: Readable<R>,
{
    Ok(ExportRow {
        comment: comment(r)?,
        action: domain(&r.try_get::<String, _>("e_action")?)?,
        labels: json_opt(r.try_get("e_labels")?)?,
        moderator: r.try_get("e_actor")?,
        at_ms: r.try_get("e_at")?,
    })
}

pub(super) fn suggestion<R: Row>(r: &R) -> Result<Suggestion, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    String: Readable<R>,
{
    Ok(Suggestion {
        seq: r.try_get("seq")?,
        at_ms: r.try_get("at")?,
        key_name: r.try_get("key_name")?,
        text: r.try_get("text")?,
        lang: r.try_get("lang")?,
        labels: json(&r.try_get::<String, _>("labels")?)?,
        community_id: r.try_get("community_id")?,
        client_token: r.try_get("client_token")?,
    })
}

/// A registered model, without its activations (`activations` is empty).
pub(super) fn model<R: Row>(r: &R) -> Result<StoredModel, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    String: Readable<R>,
{
    Ok(StoredModel {
        model_id: r.try_get("model_id")?,
        file: r.try_get("file")?,
        sha256: r.try_get("sha256")?,
        registered_at_ms: r.try_get("registered_at")?,
        registered_by: r.try_get("registered_by")?,
        report: json_opt(r.try_get("report")?)?,
        activations: Vec::new(),
    })
}

pub(super) fn activation<R: Row>(r: &R) -> Result<Activation, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    String: Readable<R>,
{
    Ok(Activation {
        model_id: r.try_get("model_id")?,
        at_ms: r.try_get("at")?,
        actor: r.try_get("actor")?,
        reason: domain(&r.try_get::<String, _>("reason")?)?,
    })
}

pub(super) fn target<R: Row>(r: &R) -> Result<SiteTarget, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    String: Readable<R>,
{
    Ok(SiteTarget {
        name: stored_target(&r.try_get::<String, _>("name")?)?,
        description: r.try_get("description")?,
        created_by: r.try_get("created_by")?,
        created_at_ms: r.try_get("created_at")?,
        articles: vec![],
    })
}

pub(super) fn stored_target(s: &str) -> Result<Target, StoreError> {
    Target::parse(s).map_err(|e| StoreError::Other(format!("stored value unreadable: {e}")))
}
