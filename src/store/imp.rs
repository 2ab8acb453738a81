//! The SQL shared by both backends. Statements are written once with `$N` parameters
//! (PostgreSQL's style); SQLite gets them with `?N`, its own numbered form. The trait body
//! is one macro expanded for each backend, so both run the very same logic.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{ApiKeyInfo, Event, StoreError, StoredComment};
use crate::domain::{CommentStatus, Decision, Role};

pub(super) const COLS: &str = "c.seq, c.id, c.text, c.article_id, c.author, c.target, c.lang, c.scores, c.stance, \
c.flagged, c.explanation, c.max_score, c.model_id, c.decision, c.status, c.version, c.created_at, c.updated_at, c.claimed_by, c.claim_expires_at";

/// Every fixed statement, in one dialect.
pub(super) struct Sql {
    pub insert_comment: &'static str,
    pub select_by_id: &'static str,
    pub insert_score: &'static str,
    pub insert_event: &'static str,
    pub select_events: &'static str,
    pub counts: &'static str,
    pub claim: &'static str,
    pub lock_for_decision: &'static str,
    pub apply_decision: &'static str,
    pub author_counts: &'static str,
    pub author_recent: &'static str,
    pub export: &'static str,
    pub insert_key: &'static str,
    pub find_key: &'static str,
    pub list_keys: &'static str,
    pub revoke_key: &'static str,
    pub insert_session: &'static str,
    pub find_session: &'static str,
    pub delete_session: &'static str,
    pub release_claims_of: &'static str,
    pub release_claim: &'static str,
}

/// `for_update`: appended to row-locking selects (PostgreSQL: `FOR UPDATE`, SQLite: empty,
/// its write transactions lock the whole database).
fn statements(for_update: &str, skip_locked: &str) -> Vec<String> {
    vec![
        "INSERT INTO comments (id, text, article_id, author, target, lang, scores, stance, stance_label, flagged, \
         explanation, max_score, model_id, decision, status, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $16) \
         ON CONFLICT (id) DO NOTHING RETURNING seq"
            .into(),
        format!("SELECT {COLS} FROM comments c WHERE c.id = $1"),
        "INSERT INTO comment_scores (comment_seq, head, score) VALUES ($1, $2, $3)".into(),
        "INSERT INTO comment_events (comment_seq, at, actor, action, from_status, to_status, reason, labels, model_id, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            .into(),
        "SELECT at, actor, action, from_status, to_status, reason, labels, model_id, version \
         FROM comment_events WHERE comment_seq = $1 ORDER BY seq"
            .into(),
        "SELECT status, COUNT(*) AS n FROM comments GROUP BY status".into(),
        format!(
            "UPDATE comments SET claimed_by = $1, claim_expires_at = $2 WHERE seq = (\
             SELECT seq FROM comments WHERE status = 'pending' \
             AND (claimed_by IS NULL OR claim_expires_at <= $3) ORDER BY seq LIMIT 1 {skip_locked}) \
             RETURNING seq, id, version, status, model_id"
        ),
        format!("SELECT seq, version, status, claimed_by, claim_expires_at, model_id FROM comments WHERE id = $1 {for_update}"),
        "UPDATE comments SET status = $1, version = version + 1, updated_at = $2, claimed_by = NULL, \
         claim_expires_at = NULL WHERE seq = $3 AND version = $4"
            .into(),
        "SELECT status, COUNT(*) AS n FROM comments WHERE author = $1 GROUP BY status".into(),
        format!("SELECT {COLS} FROM comments c WHERE c.author = $1 ORDER BY c.seq DESC LIMIT 100"),
        format!(
            "SELECT {COLS}, e.action AS e_action, e.labels AS e_labels FROM comment_events e \
             JOIN comments c ON c.seq = e.comment_seq \
             WHERE e.seq IN (SELECT MAX(seq) FROM comment_events WHERE action IN ('approve', 'reject') GROUP BY comment_seq) \
             ORDER BY e.seq"
        ),
        "INSERT INTO api_keys (name, key_hash, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING".into(),
        "SELECT name, role, created_at, revoked_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL".into(),
        "SELECT name, role, created_at, revoked_at FROM api_keys ORDER BY name".into(),
        "UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL".into(),
        "INSERT INTO ui_sessions (token_hash, key_name, role, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)".into(),
        // A session dies with its key.
        "SELECT k.name AS name, k.role AS role, k.created_at AS created_at, k.revoked_at AS revoked_at \
         FROM ui_sessions s JOIN api_keys k ON k.name = s.key_name AND k.revoked_at IS NULL \
         WHERE s.token_hash = $1 AND s.expires_at > $2"
            .into(),
        "DELETE FROM ui_sessions WHERE token_hash = $1 OR expires_at <= $2".into(),
        // A revoked key's claims end with it.
        "UPDATE comments SET claimed_by = NULL, claim_expires_at = NULL WHERE claimed_by = $1".into(),
        "UPDATE comments SET claimed_by = NULL, claim_expires_at = NULL WHERE seq = $1".into(),
    ]
}

fn build(list: Vec<String>) -> Sql {
    // Built once per process and dialect, so leaking gives the `'static` strings sqlx wants.
    let mut it = list.into_iter().map(|s| &*Box::leak(s.into_boxed_str()));
    let mut next = || it.next().expect("one statement per field");
    Sql {
        insert_comment: next(),
        select_by_id: next(),
        insert_score: next(),
        insert_event: next(),
        select_events: next(),
        counts: next(),
        claim: next(),
        lock_for_decision: next(),
        apply_decision: next(),
        author_counts: next(),
        author_recent: next(),
        export: next(),
        insert_key: next(),
        find_key: next(),
        list_keys: next(),
        revoke_key: next(),
        insert_session: next(),
        find_session: next(),
        delete_session: next(),
        release_claims_of: next(),
        release_claim: next(),
    }
}

pub(super) fn postgres_sql() -> &'static Sql {
    static S: OnceLock<Sql> = OnceLock::new();
    S.get_or_init(|| build(statements("FOR UPDATE", "FOR UPDATE SKIP LOCKED")))
}

pub(super) fn sqlite_sql() -> &'static Sql {
    static S: OnceLock<Sql> = OnceLock::new();
    S.get_or_init(|| {
        build(
            statements("", "")
                .into_iter()
                .map(|s| s.replace('$', "?"))
                .collect(),
        )
    })
}

fn json<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Other(format!("stored JSON unreadable: {e}")))
}

pub(super) fn parse_decision(s: &str) -> Result<Decision, StoreError> {
    match s {
        "allow" => Ok(Decision::Allow),
        "flag" => Ok(Decision::Flag),
        "reject" => Ok(Decision::Reject),
        other => Err(StoreError::Other(format!(
            "unknown stored decision {other:?}"
        ))),
    }
}

pub(super) fn parse_status(s: &str) -> Result<CommentStatus, StoreError> {
    s.parse().map_err(StoreError::Other)
}

/// Types both backends decode the same way.
pub(super) trait Readable<R: Row>:
    for<'r> Decode<'r, R::Database> + Type<R::Database>
{
}
impl<R: Row, T> Readable<R> for T where T: for<'r> Decode<'r, R::Database> + Type<R::Database> {}

pub(super) fn comment_from_row<R: Row>(r: &R) -> Result<StoredComment, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    f64: Readable<R>,
    String: Readable<R>,
{
    let scores: String = r.try_get("scores")?;
    let stance: Option<String> = r.try_get("stance")?;
    let flagged: String = r.try_get("flagged")?;
    let explanation: Option<String> = r.try_get("explanation")?;
    let decision: String = r.try_get("decision")?;
    let status: String = r.try_get("status")?;
    Ok(StoredComment {
        seq: r.try_get("seq")?,
        id: r.try_get("id")?,
        text: r.try_get("text")?,
        article_id: r.try_get("article_id")?,
        author: r.try_get("author")?,
        target: r.try_get("target")?,
        lang: r.try_get("lang")?,
        scores: json::<BTreeMap<String, f32>>(&scores)?,
        stance: stance.as_deref().map(json).transpose()?,
        flagged: json(&flagged)?,
        explanation: explanation.as_deref().map(json).transpose()?,
        max_score: r.try_get("max_score")?,
        model_id: r.try_get("model_id")?,
        decision: parse_decision(&decision)?,
        status: parse_status(&status)?,
        version: r.try_get("version")?,
        created_at_ms: r.try_get("created_at")?,
        updated_at_ms: r.try_get("updated_at")?,
        claimed_by: r.try_get("claimed_by")?,
        claim_expires_at_ms: r.try_get("claim_expires_at")?,
    })
}

pub(super) fn event_from_row<R: Row>(r: &R) -> Result<Event, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    String: Readable<R>,
{
    let labels: Option<String> = r.try_get("labels")?;
    Ok(Event {
        at_ms: r.try_get("at")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        from_status: r.try_get("from_status")?,
        to_status: r.try_get("to_status")?,
        reason: r.try_get("reason")?,
        labels: labels.as_deref().map(json).transpose()?,
        model_id: r.try_get("model_id")?,
        version: r.try_get("version")?,
    })
}

pub(super) fn key_from_row<R: Row>(r: &R) -> Result<ApiKeyInfo, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    String: Readable<R>,
{
    let role: String = r.try_get("role")?;
    Ok(ApiKeyInfo {
        name: r.try_get("name")?,
        role: role.parse::<Role>().map_err(StoreError::Other)?,
        created_at_ms: r.try_get("created_at")?,
        revoked_at_ms: r.try_get("revoked_at")?,
    })
}

/// The highest score over the flagged heads, or over all heads when none is flagged.
pub(super) fn max_score(scores: &BTreeMap<String, f32>, flagged: &[String]) -> f64 {
    let pick = |h: &String| flagged.is_empty() || flagged.contains(h);
    scores
        .iter()
        .filter(|(h, _)| pick(h))
        .map(|(_, &s)| s as f64)
        .fold(0.0, f64::max)
}

/// Implements [`super::Store`] for `$store`, which has `pool: sqlx::Pool<$db>`,
/// `sql: &'static Sql`, `async fn begin_write(&self) -> Result<Transaction<'static, $db>, sqlx::Error>`
/// and `async fn submit_one(&self, NewComment)` (how a submission reaches the generated
/// `submit_in`: its own transaction, or a group commit).
macro_rules! impl_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Writes one submission inside `tx`. The outer error is a database failure (the
            /// transaction is then unusable); the inner one a refusal that wrote nothing (an id
            /// reused for another text), which leaves the transaction usable for the next.
            pub(super) async fn submit_in(
                sql: &'static $crate::store::imp::Sql,
                tx: &mut sqlx::Transaction<'static, $db>,
                c: &$crate::store::NewComment,
            ) -> Result<
                Result<($crate::store::StoredComment, bool), $crate::store::StoreError>,
                $crate::store::StoreError,
            > {
                use $crate::store::imp::*;
                use $crate::store::*;
                let scores_json = serde_json::to_string(&c.scores).expect("scores serialise");
                let stance_json = c.stance.as_ref().map(|s| s.to_string());
                let flagged_json = serde_json::to_string(&c.flagged).expect("heads serialise");
                let max = max_score(&c.scores, &c.flagged);
                let status = $crate::domain::CommentStatus::from_decision(c.decision);
                let seq: Option<i64> = sqlx::query_scalar(sql.insert_comment)
                    .bind(c.id.as_str())
                    .bind(&c.text)
                    .bind(&c.article_id)
                    .bind(&c.author)
                    .bind(&c.target)
                    .bind(&c.lang)
                    .bind(&scores_json)
                    .bind(&stance_json)
                    .bind(c.stance_label.map(|s| s.as_str()))
                    .bind(&flagged_json)
                    .bind(c.explanation.as_ref().map(|e| e.to_string()))
                    .bind(max)
                    .bind(&c.model_id)
                    .bind(c.decision.as_str())
                    .bind(status.as_str())
                    .bind(c.now_ms)
                    .fetch_optional(&mut **tx)
                    .await?;
                let Some(seq) = seq else {
                    // The id exists: a retry (same text) gets the stored comment.
                    let row = sqlx::query(sql.select_by_id).bind(c.id.as_str()).fetch_one(&mut **tx).await?;
                    let existing = comment_from_row(&row)?;
                    // Only an exact retry: another author, article or language under the
                    // same id and text would otherwise be silently dropped.
                    let same = existing.text == c.text
                        && existing.author == c.author
                        && existing.article_id == c.article_id
                        && existing.lang == c.lang;
                    return Ok(if same {
                        Ok((existing, false))
                    } else {
                        Err(StoreError::IdConflict(c.id.to_string()))
                    });
                };
                for (head, score) in &c.scores {
                    sqlx::query(sql.insert_score)
                        .bind(seq)
                        .bind(head)
                        .bind(*score as f64)
                        .execute(&mut **tx)
                        .await?;
                }
                sqlx::query(sql.insert_event)
                    .bind(seq)
                    .bind(c.now_ms)
                    .bind(&c.actor)
                    .bind("submitted")
                    .bind(None::<String>)
                    .bind(status.as_str())
                    .bind(&c.note)
                    .bind(None::<String>)
                    .bind(&c.model_id)
                    .bind(1i64)
                    .execute(&mut **tx)
                    .await?;
                Ok(Ok((
                    StoredComment {
                        seq,
                        id: c.id.to_string(),
                        text: c.text.clone(),
                        article_id: c.article_id.clone(),
                        author: c.author.clone(),
                        target: c.target.clone(),
                        lang: c.lang.clone(),
                        scores: c.scores.clone(),
                        stance: c.stance.clone(),
                        flagged: c.flagged.clone(),
                        explanation: c.explanation.clone(),
                        max_score: max,
                        model_id: c.model_id.clone(),
                        decision: c.decision,
                        status,
                        version: 1,
                        created_at_ms: c.now_ms,
                        updated_at_ms: c.now_ms,
                        claimed_by: None,
                        claim_expires_at_ms: None,
                    },
                    true,
                )))
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            async fn submit(
                &self,
                c: $crate::store::NewComment,
            ) -> Result<($crate::store::StoredComment, bool), $crate::store::StoreError> {
                self.submit_one(c).await
            }

            async fn get(
                &self,
                id: &str,
            ) -> Result<Option<($crate::store::StoredComment, Vec<$crate::store::Event>)>, $crate::store::StoreError> {
                use $crate::store::imp::*;
                let Some(row) = sqlx::query(self.sql.select_by_id).bind(id).fetch_optional(&self.pool).await? else {
                    return Ok(None);
                };
                let c = comment_from_row(&row)?;
                let events = sqlx::query(self.sql.select_events)
                    .bind(c.seq)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(event_from_row)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some((c, events)))
            }

            async fn queue(&self, q: &$crate::store::QueueQuery) -> Result<$crate::store::Page, $crate::store::StoreError> {
                use $crate::store::imp::*;
                use $crate::store::*;
                let mut b = sqlx::QueryBuilder::<$db>::new(format!("SELECT {COLS}, "));
                let by_head = q.head.is_some();
                b.push(if by_head { "s.score AS sort_score FROM comments c JOIN comment_scores s ON s.comment_seq = c.seq AND s.head = " } else { "c.max_score AS sort_score FROM comments c" });
                if let Some(h) = &q.head {
                    b.push_bind(h.clone());
                }
                let score_col = if by_head { "s.score" } else { "c.max_score" };
                b.push(" WHERE c.status = ");
                b.push_bind(q.status.unwrap_or($crate::domain::CommentStatus::Pending).as_str());
                if let Some(m) = q.min_score {
                    b.push(format!(" AND {score_col} >= ")).push_bind(m);
                }
                if let Some(m) = q.max_score {
                    b.push(format!(" AND {score_col} <= ")).push_bind(m);
                }
                if let Some(a) = &q.article_id {
                    b.push(" AND c.article_id = ").push_bind(a.clone());
                }
                if let Some(a) = &q.author {
                    b.push(" AND c.author = ").push_bind(a.clone());
                }
                if let Some(s) = q.stance {
                    b.push(" AND c.stance_label = ").push_bind(s.as_str());
                }
                match (q.order, q.cursor) {
                    (QueueOrder::Score, Some(cur)) => {
                        b.push(format!(" AND ({score_col} < ")).push_bind(cur.score);
                        b.push(format!(" OR ({score_col} = ")).push_bind(cur.score);
                        b.push(" AND c.seq > ").push_bind(cur.seq).push("))");
                    }
                    (QueueOrder::Oldest, Some(cur)) => {
                        b.push(" AND c.seq > ").push_bind(cur.seq);
                    }
                    _ => {}
                }
                match q.order {
                    QueueOrder::Score => b.push(format!(" ORDER BY {score_col} DESC, c.seq ASC")),
                    QueueOrder::Oldest => b.push(" ORDER BY c.seq ASC"),
                };
                b.push(" LIMIT ").push_bind(i64::from(q.limit) + 1);
                let rows = b.build().fetch_all(&self.pool).await?;
                let mut items = Vec::with_capacity(rows.len());
                let mut sort_scores = Vec::with_capacity(rows.len());
                for r in &rows {
                    items.push(comment_from_row(r)?);
                    sort_scores.push(sqlx::Row::try_get::<f64, _>(r, "sort_score")?);
                }
                let next = if items.len() > q.limit as usize {
                    items.truncate(q.limit as usize);
                    let last = items.last().expect("limit >= 1");
                    Some(Cursor { score: sort_scores[items.len() - 1], seq: last.seq })
                } else {
                    None
                };
                Ok(Page { items, next })
            }

            async fn counts(&self) -> Result<std::collections::BTreeMap<String, i64>, $crate::store::StoreError> {
                let mut out: std::collections::BTreeMap<String, i64> =
                    $crate::domain::CommentStatus::ALL.iter().map(|s| (s.as_str().to_owned(), 0)).collect();
                for r in sqlx::query(self.sql.counts).fetch_all(&self.pool).await? {
                    out.insert(sqlx::Row::try_get(&r, "status")?, sqlx::Row::try_get(&r, "n")?);
                }
                Ok(out)
            }

            async fn claim(
                &self,
                moderator: &str,
                lease_ms: i64,
                now_ms: i64,
            ) -> Result<Option<$crate::store::StoredComment>, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let Some(row) = sqlx::query(self.sql.claim)
                    .bind(moderator)
                    .bind(now_ms + lease_ms)
                    .bind(now_ms)
                    .fetch_optional(&mut *tx)
                    .await?
                else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                let seq: i64 = sqlx::Row::try_get(&row, "seq")?;
                let id: String = sqlx::Row::try_get(&row, "id")?;
                let version: i64 = sqlx::Row::try_get(&row, "version")?;
                let model_id: String = sqlx::Row::try_get(&row, "model_id")?;
                sqlx::query(self.sql.insert_event)
                    .bind(seq)
                    .bind(now_ms)
                    .bind(moderator)
                    .bind("claimed")
                    .bind("pending")
                    .bind("pending")
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(model_id)
                    .bind(version)
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query(self.sql.select_by_id).bind(&id).fetch_one(&mut *tx).await?;
                let c = $crate::store::imp::comment_from_row(&row)?;
                tx.commit().await?;
                Ok(Some(c))
            }

            async fn release(
                &self,
                id: &str,
                actor: &str,
                force: bool,
                now_ms: i64,
            ) -> Result<$crate::store::StoredComment, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let Some(row) = sqlx::query(self.sql.lock_for_decision).bind(id).fetch_optional(&mut *tx).await? else {
                    return Err($crate::store::StoreError::NotFound(id.to_owned()));
                };
                let seq: i64 = sqlx::Row::try_get(&row, "seq")?;
                let version: i64 = sqlx::Row::try_get(&row, "version")?;
                let status: String = sqlx::Row::try_get(&row, "status")?;
                let claimed_by: Option<String> = sqlx::Row::try_get(&row, "claimed_by")?;
                let until: Option<i64> = sqlx::Row::try_get(&row, "claim_expires_at")?;
                let model_id: String = sqlx::Row::try_get(&row, "model_id")?;
                if let (Some(by), Some(until)) = (claimed_by, until) {
                    if until > now_ms {
                        if by != actor && !force {
                            return Err($crate::store::StoreError::Claimed { by, until_ms: until });
                        }
                        sqlx::query(self.sql.release_claim).bind(seq).execute(&mut *tx).await?;
                        let reason = (by != actor).then(|| format!("claim of {by} broken"));
                        sqlx::query(self.sql.insert_event)
                            .bind(seq)
                            .bind(now_ms)
                            .bind(actor)
                            .bind("released")
                            .bind(&status)
                            .bind(&status)
                            .bind(reason)
                            .bind(None::<String>)
                            .bind(model_id)
                            .bind(version)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                let row = sqlx::query(self.sql.select_by_id).bind(id).fetch_one(&mut *tx).await?;
                let c = $crate::store::imp::comment_from_row(&row)?;
                tx.commit().await?;
                Ok(c)
            }

            async fn decide(
                &self,
                d: $crate::store::DecisionInput,
            ) -> Result<$crate::store::StoredComment, $crate::store::StoreError> {
                use $crate::store::imp::*;
                use $crate::store::*;
                let mut tx = self.begin_write().await?;
                let Some(row) = sqlx::query(self.sql.lock_for_decision).bind(&d.id).fetch_optional(&mut *tx).await? else {
                    return Err(StoreError::NotFound(d.id));
                };
                let seq: i64 = sqlx::Row::try_get(&row, "seq")?;
                let version: i64 = sqlx::Row::try_get(&row, "version")?;
                let from: String = sqlx::Row::try_get(&row, "status")?;
                let claimed_by: Option<String> = sqlx::Row::try_get(&row, "claimed_by")?;
                let until: Option<i64> = sqlx::Row::try_get(&row, "claim_expires_at")?;
                let model_id: String = sqlx::Row::try_get(&row, "model_id")?;
                if version != d.version {
                    return Err(StoreError::VersionConflict { current: version });
                }
                if let (Some(by), Some(until)) = (claimed_by, until) {
                    if by != d.moderator && until > d.now_ms {
                        return Err(StoreError::Claimed { by, until_ms: until });
                    }
                }
                let to = d.action.status();
                let n = sqlx::query(self.sql.apply_decision)
                    .bind(to.as_str())
                    .bind(d.now_ms)
                    .bind(seq)
                    .bind(version)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n != 1 {
                    return Err(StoreError::VersionConflict { current: version + 1 });
                }
                sqlx::query(self.sql.insert_event)
                    .bind(seq)
                    .bind(d.now_ms)
                    .bind(&d.moderator)
                    .bind(d.action.as_str())
                    .bind(from)
                    .bind(to.as_str())
                    .bind(&d.reason)
                    .bind(d.labels.as_ref().map(|l| l.to_string()))
                    .bind(model_id)
                    .bind(version + 1)
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query(self.sql.select_by_id).bind(&d.id).fetch_one(&mut *tx).await?;
                let c = comment_from_row(&row)?;
                tx.commit().await?;
                Ok(c)
            }

            async fn author(&self, author: &str) -> Result<$crate::store::AuthorSummary, $crate::store::StoreError> {
                use $crate::store::imp::*;
                let mut by_status: std::collections::BTreeMap<String, i64> =
                    $crate::domain::CommentStatus::ALL.iter().map(|s| (s.as_str().to_owned(), 0)).collect();
                for r in sqlx::query(self.sql.author_counts).bind(author).fetch_all(&self.pool).await? {
                    by_status.insert(sqlx::Row::try_get(&r, "status")?, sqlx::Row::try_get(&r, "n")?);
                }
                let comments = sqlx::query(self.sql.author_recent)
                    .bind(author)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(comment_from_row)
                    .collect::<Result<Vec<_>, _>>()?;
                let total: i64 = by_status.values().sum();
                let rejected = by_status["rejected"];
                let decided = rejected + by_status["approved"] + by_status["published"];
                Ok($crate::store::AuthorSummary {
                    author: author.to_owned(),
                    total,
                    rejection_rate: if decided == 0 { 0.0 } else { rejected as f64 / decided as f64 },
                    by_status,
                    comments,
                })
            }

            async fn export(&self) -> Result<Vec<$crate::store::ExportRow>, $crate::store::StoreError> {
                use $crate::store::imp::*;
                let rows = sqlx::query(self.sql.export).fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|r| {
                        let action: String = sqlx::Row::try_get(r, "e_action")?;
                        let labels: Option<String> = sqlx::Row::try_get(r, "e_labels")?;
                        Ok($crate::store::ExportRow {
                            comment: comment_from_row(r)?,
                            action: if action == "reject" {
                                $crate::domain::ModeratorAction::Reject
                            } else {
                                $crate::domain::ModeratorAction::Approve
                            },
                            labels: labels
                                .map(|l| serde_json::from_str(&l))
                                .transpose()
                                .map_err(|e| $crate::store::StoreError::Other(e.to_string()))?,
                        })
                    })
                    .collect()
            }

            async fn create_key(
                &self,
                name: &str,
                key_hash: &str,
                role: $crate::domain::Role,
                now_ms: i64,
            ) -> Result<(), $crate::store::StoreError> {
                let n = sqlx::query(self.sql.insert_key)
                    .bind(name)
                    .bind(key_hash)
                    .bind(role.as_str())
                    .bind(now_ms)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                if n == 1 { Ok(()) } else { Err($crate::store::StoreError::KeyExists(name.to_owned())) }
            }

            async fn find_key(&self, key_hash: &str) -> Result<Option<$crate::store::ApiKeyInfo>, $crate::store::StoreError> {
                sqlx::query(self.sql.find_key)
                    .bind(key_hash)
                    .fetch_optional(&self.pool)
                    .await?
                    .as_ref()
                    .map($crate::store::imp::key_from_row)
                    .transpose()
            }

            async fn list_keys(&self) -> Result<Vec<$crate::store::ApiKeyInfo>, $crate::store::StoreError> {
                sqlx::query(self.sql.list_keys)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map($crate::store::imp::key_from_row)
                    .collect()
            }

            async fn revoke_key(&self, name: &str, now_ms: i64) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.begin_write().await?;
                let n = sqlx::query(self.sql.revoke_key).bind(name).bind(now_ms).execute(&mut *tx).await?.rows_affected();
                if n == 1 {
                    // Claims held under the key would otherwise keep its comments from
                    // every other moderator until their leases ran out.
                    sqlx::query(self.sql.release_claims_of).bind(name).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(n == 1)
            }

            async fn author_stats(
                &self,
                authors: &[String],
            ) -> Result<std::collections::BTreeMap<String, $crate::store::AuthorStats>, $crate::store::StoreError> {
                let mut out: std::collections::BTreeMap<String, $crate::store::AuthorStats> = std::collections::BTreeMap::new();
                if authors.is_empty() {
                    return Ok(out);
                }
                let mut b = sqlx::QueryBuilder::<$db>::new("SELECT author, status, COUNT(*) AS n FROM comments WHERE author IN (");
                let mut list = b.separated(", ");
                for a in authors {
                    list.push_bind(a.clone());
                }
                b.push(") GROUP BY author, status");
                for r in b.build().fetch_all(&self.pool).await? {
                    let author: String = sqlx::Row::try_get(&r, "author")?;
                    let status: String = sqlx::Row::try_get(&r, "status")?;
                    let n: i64 = sqlx::Row::try_get(&r, "n")?;
                    out.entry(author).or_default().add(&status, n);
                }
                Ok(out)
            }

            async fn create_session(
                &self,
                token_hash: &str,
                key: &$crate::store::ApiKeyInfo,
                now_ms: i64,
                expires_ms: i64,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query(self.sql.insert_session)
                    .bind(token_hash)
                    .bind(&key.name)
                    .bind(key.role.as_str())
                    .bind(now_ms)
                    .bind(expires_ms)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn find_session(
                &self,
                token_hash: &str,
                now_ms: i64,
            ) -> Result<Option<$crate::store::ApiKeyInfo>, $crate::store::StoreError> {
                sqlx::query(self.sql.find_session)
                    .bind(token_hash)
                    .bind(now_ms)
                    .fetch_optional(&self.pool)
                    .await?
                    .as_ref()
                    .map($crate::store::imp::key_from_row)
                    .transpose()
            }

            async fn end_session(&self, token_hash: &str, now_ms: i64) -> Result<(), $crate::store::StoreError> {
                sqlx::query(self.sql.delete_session).bind(token_hash).bind(now_ms).execute(&self.pool).await?;
                Ok(())
            }

            async fn ping(&self) -> Result<(), $crate::store::StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }
        }
    };
}

pub(super) use impl_store;
