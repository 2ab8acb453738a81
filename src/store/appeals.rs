//! Appeals as stored: `appeals` (filed once per comment) and `appeal_decisions` (decided
//! once), both append-only. Filing and deciding each run in one transaction with the
//! comment locked, and each appends to the comment's history: `appealed` when filed, the
//! decision it amounts to (`reject` when upheld, `approve` when overturned) when decided, so
//! the statement of reasons, the label export and retraining read it as any decision.

use sqlx::{ColumnIndex, Encode, Executor, IntoArguments, Row, Type};

use super::backend::{Backend, Db, NewEvent};
use super::rows::{self, Readable};
use super::{StoreError, StoredComment};
use crate::domain::{AppealOutcome, CommentStatus};

/// An appeal to file.
#[derive(Debug, Clone)]
pub struct NewAppeal {
    pub comment_id: String,
    /// The author's text, checked (`domain::FreeText`).
    pub text: String,
    /// Who took the decision appealed; `None`: the policy's thresholds alone.
    pub decided_by: Option<String>,
    pub now_ms: i64,
}

/// How an appeal was decided.
#[derive(Debug, Clone, PartialEq)]
pub struct AppealDecision {
    pub outcome: AppealOutcome,
    pub reason: String,
    /// The moderator's key name: for moderators only, never shown to the author.
    pub moderator: String,
    pub at_ms: i64,
}

/// A stored appeal, with its decision once there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Appeal {
    pub id: i64,
    pub comment_id: String,
    pub text: String,
    pub filed_at_ms: i64,
    /// The comment's status when the appeal was filed.
    pub from_status: String,
    /// Who took the decision appealed; `None`: automated (the thresholds alone).
    pub decided_by: Option<String>,
    pub decision: Option<AppealDecision>,
}

/// A decision on an appeal, to apply.
#[derive(Debug, Clone)]
pub struct AppealInput {
    pub appeal_id: i64,
    pub outcome: AppealOutcome,
    pub reason: String,
    /// The ground the comment's restriction rests on (kept when upheld).
    pub ground: Option<String>,
    pub moderator: String,
    pub now_ms: i64,
}

/// Which appeals to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealFilter {
    /// Not decided yet, oldest first.
    Open,
    /// Every appeal, newest first.
    All,
}

/// The appeal columns of a row (`a` is `appeals`, `d` its decision).
pub(super) const APPEAL_COLUMNS: &str =
    "a.seq AS a_seq, a.text AS a_text, a.filed_at AS a_filed_at, \
a.from_status AS a_from_status, a.decided_by AS a_decided_by, d.outcome AS d_outcome, \
d.reason AS d_reason, d.moderator AS d_moderator, d.at AS d_at";

fn appeal<R: Row>(r: &R) -> Result<(Appeal, StoredComment), StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    f64: Readable<R>,
    String: Readable<R>,
{
    let c = rows::comment(r)?;
    let outcome: Option<String> = r.try_get("d_outcome")?;
    let decision = match outcome {
        Some(o) => Some(AppealDecision {
            outcome: rows::domain(&o)?,
            reason: r.try_get("d_reason")?,
            moderator: r.try_get("d_moderator")?,
            at_ms: r.try_get("d_at")?,
        }),
        None => None,
    };
    let a = Appeal {
        id: r.try_get("a_seq")?,
        comment_id: c.id.clone(),
        text: r.try_get("a_text")?,
        filed_at_ms: r.try_get("a_filed_at")?,
        from_status: r.try_get("a_from_status")?,
        decided_by: r.try_get("a_decided_by")?,
        decision,
    };
    Ok((a, c))
}

impl<B> Db<B>
where
    B: Backend,
    for<'c> &'c mut B::Connection: Executor<'c, Database = B>,
    B::Arguments: IntoArguments<B>,
    for<'a> &'a str: ColumnIndex<B::Row>,
    i64: Readable<B::Row>,
    f64: Readable<B::Row>,
    String: Readable<B::Row>,
    for<'q, 'a> &'a str: Encode<'q, B> + Type<B>,
    for<'q> String: Encode<'q, B> + Type<B>,
    for<'q> Option<String>: Encode<'q, B>,
    for<'q> i64: Encode<'q, B> + Type<B>,
    for<'q> f64: Encode<'q, B> + Type<B>,
{
    pub async fn file_appeal(&self, a: NewAppeal) -> Result<Appeal, StoreError> {
        let mut tx = B::begin_write(&self.pool).await?;
        let locked = Self::lock(&mut tx, &a.comment_id).await?;
        let inserted = sqlx::query(Self::sql().insert_appeal)
            .bind(locked.seq)
            .bind(&a.text)
            .bind(a.now_ms)
            .bind(locked.status.as_str())
            .bind(a.decided_by.clone())
            .fetch_optional(&mut *tx)
            .await?;
        if inserted.is_none() {
            return Err(StoreError::AppealExists(a.comment_id));
        }
        let event = NewEvent {
            seq: locked.seq,
            at_ms: a.now_ms,
            actor: "author",
            action: "appealed",
            from_status: Some(locked.status.as_str()),
            to_status: &locked.status,
            reason: None,
            labels: None,
            model_id: &locked.model_id,
            version: locked.version,
            ground: None,
        };
        Self::record(&mut tx, event).await?;
        let row = sqlx::query(Self::sql().appeal_by_comment)
            .bind(a.comment_id.as_str())
            .fetch_one(&mut *tx)
            .await?;
        let (filed, _) = appeal(&row)?;
        tx.commit().await?;
        Ok(filed)
    }

    /// Appeals filed or decided in `[from_ms, to_ms)`.
    pub(super) async fn appeals_between(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Appeal>, StoreError> {
        sqlx::query(Self::sql().period_appeals)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| appeal(r).map(|(a, _)| a))
            .collect()
    }

    pub async fn open_appeals(&self) -> Result<i64, StoreError> {
        let row = sqlx::query(Self::sql().open_appeals_count)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    pub async fn appeal_of(&self, comment_id: &str) -> Result<Option<Appeal>, StoreError> {
        let found = sqlx::query(Self::sql().appeal_by_comment)
            .bind(comment_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.as_ref().map(appeal).transpose()?.map(|(a, _)| a))
    }

    pub async fn appeals(
        &self,
        filter: AppealFilter,
        limit: i64,
    ) -> Result<Vec<(Appeal, StoredComment)>, StoreError> {
        let sql = match filter {
            AppealFilter::Open => Self::sql().open_appeals,
            AppealFilter::All => Self::sql().all_appeals,
        };
        sqlx::query(sql)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(appeal)
            .collect()
    }

    /// Refuses the moderator who took the comment's latest decision; applies the decision
    /// the outcome amounts to; records the appeal's decision once.
    pub async fn decide_appeal(
        &self,
        d: AppealInput,
    ) -> Result<(Appeal, StoredComment), StoreError> {
        let mut tx = B::begin_write(&self.pool).await?;
        let row = sqlx::query(Self::sql().appeal_by_seq)
            .bind(d.appeal_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::AppealNotFound(d.appeal_id))?;
        let (found, comment) = appeal(&row)?;
        if found.decision.is_some() {
            return Err(StoreError::AppealDecided(d.appeal_id));
        }
        let locked = Self::lock(&mut tx, &comment.id).await?;
        let last: Option<String> = sqlx::query(Self::sql().last_decider)
            .bind(locked.seq)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("actor"))
            .transpose()?;
        if last.as_deref() == Some(d.moderator.as_str()) {
            return Err(StoreError::SameModerator(d.appeal_id));
        }
        // Upholding would restrict again a comment another decision has allowed since.
        if d.outcome == AppealOutcome::Upheld && locked.status == CommentStatus::Approved.as_str() {
            return Err(StoreError::AppealOvertaken(d.appeal_id));
        }
        Self::apply_appeal(&mut tx, &d, &locked).await?;
        let row = sqlx::query(Self::sql().appeal_by_seq)
            .bind(d.appeal_id)
            .fetch_one(&mut *tx)
            .await?;
        let decided = appeal(&row)?;
        tx.commit().await?;
        Ok(decided)
    }

    async fn apply_appeal(
        tx: &mut sqlx::Transaction<'static, B>,
        d: &AppealInput,
        locked: &rows::Locked,
    ) -> Result<(), StoreError> {
        let action = d.outcome.action();
        let to = action.status();
        let done = sqlx::query(Self::sql().apply_decision)
            .bind(to.as_str())
            .bind(d.now_ms)
            .bind(locked.seq)
            .bind(locked.version)
            .execute(&mut **tx)
            .await?;
        if B::rows_affected(&done) != 1 {
            return Err(StoreError::VersionConflict {
                current: locked.version + 1,
            });
        }
        let event = NewEvent {
            seq: locked.seq,
            at_ms: d.now_ms,
            actor: &d.moderator,
            action: action.as_str(),
            from_status: Some(locked.status.as_str()),
            to_status: to.as_str(),
            reason: Some(format!("appeal {}: {}", d.outcome, d.reason)),
            labels: None,
            model_id: &locked.model_id,
            version: locked.version + 1,
            ground: d.ground.clone(),
        };
        Self::record(tx, event).await?;
        let done = sqlx::query(Self::sql().insert_appeal_decision)
            .bind(d.appeal_id)
            .bind(d.outcome.as_str())
            .bind(d.reason.as_str())
            .bind(d.moderator.as_str())
            .bind(d.now_ms)
            .execute(&mut **tx)
            .await?;
        if B::rows_affected(&done) != 1 {
            return Err(StoreError::AppealDecided(d.appeal_id));
        }
        Ok(())
    }
}
