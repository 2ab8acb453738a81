//! The logic both backends share, written once as plain generic functions over sqlx: a
//! [`Db`] holds a pool of either database, its methods run the named [`Statements`] of
//! the backend's dialect. A [`Backend`] brings only what differs: its statements, how a
//! write transaction begins, and how many rows a statement touched. `impl_store!`
//! (`store::shim`) forwards each [`Store`](super::Store) method to them.

use std::collections::BTreeMap;
use std::future::Future;

use sqlx::{
    ColumnIndex, Database, Encode, Executor, IntoArguments, Pool, QueryBuilder, Row, Transaction,
    Type,
};

use super::rows::{self, Locked, Readable};
use super::statements::{queue_select, Statements};
use super::{
    Activation, ApiKeyInfo, AuthorStats, AuthorSummary, Cursor, DecisionInput, Event, ExportRow,
    LabelMarks, NewComment, NewModel, NewSuggestion, NewTarget, Page, QueueQuery, SiteTarget,
    StoreError, StoredComment, StoredModel, Suggestion,
};
use crate::domain::{ActivationReason, CommentStatus, Role, Target};

/// What one database brings to the shared logic.
pub(super) trait Backend: Database {
    /// Its statements, in its dialect.
    fn statements() -> &'static Statements;

    /// Opens a transaction that will write.
    fn begin_write(
        pool: &Pool<Self>,
    ) -> impl Future<Output = Result<Transaction<'static, Self>, sqlx::Error>> + Send;

    /// How many rows a statement inserted, updated or deleted.
    fn rows_affected(r: &Self::QueryResult) -> u64;
}

/// A submission as written: the stored comment and whether it is new, or a refusal that
/// wrote nothing (an id reused for another text).
pub(super) type Written = Result<(StoredComment, bool), StoreError>;

/// A pool of one backend's database, and the store's operations on it.
pub(super) struct Db<B: Database> {
    pub pool: Pool<B>,
}

impl<B: Database> Clone for Db<B> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
        }
    }
}

/// An event to append to a comment's history.
pub(super) struct NewEvent<'a> {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: &'a str,
    pub reason: Option<String>,
    pub labels: Option<String>,
    pub model_id: &'a str,
    pub version: i64,
    pub ground: Option<String>,
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
    pub(super) fn sql() -> &'static Statements {
        B::statements()
    }

    /// Writes one submission inside `tx`. The outer error is a database failure (the
    /// transaction is then unusable); the inner one a refusal that wrote nothing, which
    /// leaves the transaction usable for the next.
    pub async fn submit_in(
        tx: &mut Transaction<'static, B>,
        c: &NewComment,
    ) -> Result<Written, StoreError> {
        let max = super::max_score(&c.scores, &c.flagged);
        let status = CommentStatus::from_decision(c.decision);
        let inserted = sqlx::query(Self::sql().insert_comment)
            .bind(c.id.as_str())
            .bind(&c.text)
            .bind(&c.article_id)
            .bind(&c.author)
            .bind(&c.target)
            .bind(&c.lang)
            .bind(serde_json::to_string(&c.scores).expect("scores serialise"))
            .bind(c.stance.as_ref().map(|s| s.to_string()))
            .bind(c.stance_label.map(|s| s.as_str().to_owned()))
            .bind(serde_json::to_string(&c.flagged).expect("heads serialise"))
            .bind(c.explanation.as_ref().map(|e| e.to_string()))
            .bind(max)
            .bind(&c.model_id)
            .bind(c.decision.as_str())
            .bind(status.as_str())
            .bind(c.now_ms)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(row) = inserted else {
            return Self::resubmitted(tx, c).await;
        };
        let seq: i64 = row.try_get("seq")?;
        for (head, score) in &c.scores {
            sqlx::query(Self::sql().insert_score)
                .bind(seq)
                .bind(head)
                .bind(f64::from(*score))
                .execute(&mut **tx)
                .await?;
        }
        let event = NewEvent {
            seq,
            at_ms: c.now_ms,
            actor: &c.actor,
            action: "submitted",
            from_status: None,
            to_status: status.as_str(),
            reason: c.note.clone(),
            labels: None,
            model_id: &c.model_id,
            version: 1,
            ground: None,
        };
        Self::record(tx, event).await?;
        if let Some(hash) = &c.statement_token_hash {
            sqlx::query(Self::sql().insert_statement_token)
                .bind(seq)
                .bind(hash)
                .bind(c.now_ms)
                .execute(&mut **tx)
                .await?;
        }
        Ok(Ok((c.stored(seq, max), true)))
    }

    /// The id exists: an exact retry (same text, author, article and language) gets the
    /// stored comment; anything else under the same id would otherwise be silently dropped.
    async fn resubmitted(
        tx: &mut Transaction<'static, B>,
        c: &NewComment,
    ) -> Result<Written, StoreError> {
        let existing = Self::comment_in(tx, c.id.as_str()).await?;
        let same = existing.text == c.text
            && existing.author == c.author
            && existing.article_id == c.article_id
            && existing.lang == c.lang;
        Ok(if same {
            Ok((existing, false))
        } else {
            Err(StoreError::IdConflict(c.id.to_string()))
        })
    }

    /// Appends an event to a comment's history.
    pub(super) async fn record(
        tx: &mut Transaction<'static, B>,
        e: NewEvent<'_>,
    ) -> Result<(), StoreError> {
        sqlx::query(Self::sql().insert_event)
            .bind(e.seq)
            .bind(e.at_ms)
            .bind(e.actor)
            .bind(e.action)
            .bind(e.from_status.map(str::to_owned))
            .bind(e.to_status)
            .bind(e.reason)
            .bind(e.labels)
            .bind(e.model_id)
            .bind(e.version)
            .bind(e.ground)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// The comment `id`, which the transaction knows exists.
    async fn comment_in(
        tx: &mut Transaction<'static, B>,
        id: &str,
    ) -> Result<StoredComment, StoreError> {
        let row = sqlx::query(Self::sql().select_by_id)
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
        rows::comment(&row)
    }

    /// Locks the comment `id` for a change.
    pub(super) async fn lock(
        tx: &mut Transaction<'static, B>,
        id: &str,
    ) -> Result<Locked, StoreError> {
        let row = sqlx::query(Self::sql().lock_for_decision)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(id.to_owned()))?;
        rows::locked(&row)
    }

    pub async fn get(&self, id: &str) -> Result<Option<(StoredComment, Vec<Event>)>, StoreError> {
        let Some(row) = sqlx::query(Self::sql().select_by_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let c = rows::comment(&row)?;
        let events = self.events(c.seq).await?;
        Ok(Some((c, events)))
    }

    /// The history of the comment `seq`, oldest first.
    async fn events(&self, seq: i64) -> Result<Vec<Event>, StoreError> {
        sqlx::query(Self::sql().select_events)
            .bind(seq)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::event)
            .collect()
    }

    pub async fn queue(&self, q: &QueueQuery) -> Result<Page, StoreError> {
        let mut b = queue_select::<B>(q);
        let found = b.build().fetch_all(&self.pool).await?;
        let mut items = Vec::with_capacity(found.len());
        let mut sort_scores = Vec::with_capacity(found.len());
        for r in &found {
            items.push(rows::comment(r)?);
            sort_scores.push(r.try_get::<f64, _>("sort_score")?);
        }
        let limit = q.limit as usize;
        if items.len() <= limit {
            return Ok(Page { items, next: None });
        }
        items.truncate(limit);
        let last = items.last().expect("limit >= 1");
        let next = Cursor {
            score: sort_scores[limit - 1],
            seq: last.seq,
        };
        Ok(Page {
            items,
            next: Some(next),
        })
    }

    pub async fn counts(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        let found = sqlx::query(Self::sql().counts)
            .fetch_all(&self.pool)
            .await?;
        rows::status_counts(&found)
    }

    pub async fn claim(
        &self,
        moderator: &str,
        lease_ms: i64,
        now_ms: i64,
    ) -> Result<Option<StoredComment>, StoreError> {
        let mut tx = B::begin_write(&self.pool).await?;
        let Some(row) = sqlx::query(Self::sql().claim)
            .bind(moderator)
            .bind(now_ms + lease_ms)
            .bind(now_ms)
            .fetch_optional(&mut *tx)
            .await?
        else {
            tx.rollback().await?;
            return Ok(None);
        };
        let id: String = row.try_get("id")?;
        let model_id: String = row.try_get("model_id")?;
        let event = NewEvent {
            seq: row.try_get("seq")?,
            at_ms: now_ms,
            actor: moderator,
            action: "claimed",
            from_status: Some("pending"),
            to_status: "pending",
            reason: None,
            labels: None,
            model_id: &model_id,
            version: row.try_get("version")?,
            ground: None,
        };
        Self::record(&mut tx, event).await?;
        let c = Self::comment_in(&mut tx, &id).await?;
        tx.commit().await?;
        Ok(Some(c))
    }

    pub async fn release(
        &self,
        id: &str,
        actor: &str,
        force: bool,
        now_ms: i64,
    ) -> Result<StoredComment, StoreError> {
        let mut tx = B::begin_write(&self.pool).await?;
        let locked = Self::lock(&mut tx, id).await?;
        if let Some((by, until)) = locked.claim.clone().filter(|(_, until)| *until > now_ms) {
            if by != actor && !force {
                return Err(StoreError::Claimed {
                    by,
                    until_ms: until,
                });
            }
            sqlx::query(Self::sql().release_claim)
                .bind(locked.seq)
                .execute(&mut *tx)
                .await?;
            let event = NewEvent {
                seq: locked.seq,
                at_ms: now_ms,
                actor,
                action: "released",
                from_status: Some(locked.status.as_str()),
                to_status: &locked.status,
                reason: (by != actor).then(|| format!("claim of {by} broken")),
                labels: None,
                model_id: &locked.model_id,
                version: locked.version,
                ground: None,
            };
            Self::record(&mut tx, event).await?;
        }
        let c = Self::comment_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(c)
    }

    pub async fn decide(&self, d: DecisionInput) -> Result<StoredComment, StoreError> {
        let mut tx = B::begin_write(&self.pool).await?;
        let locked = Self::lock(&mut tx, &d.id).await?;
        if locked.version != d.version {
            return Err(StoreError::VersionConflict {
                current: locked.version,
            });
        }
        if let Some((by, until)) = locked.claim.clone() {
            if by != d.moderator && until > d.now_ms {
                return Err(StoreError::Claimed {
                    by,
                    until_ms: until,
                });
            }
        }
        let to = d.action.status();
        let done = sqlx::query(Self::sql().apply_decision)
            .bind(to.as_str())
            .bind(d.now_ms)
            .bind(locked.seq)
            .bind(locked.version)
            .execute(&mut *tx)
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
            action: d.action.as_str(),
            from_status: Some(locked.status.as_str()),
            to_status: to.as_str(),
            reason: d.reason.clone(),
            labels: d.labels.as_ref().map(|l| l.to_string()),
            model_id: &locked.model_id,
            version: locked.version + 1,
            ground: d.ground.clone(),
        };
        Self::record(&mut tx, event).await?;
        let c = Self::comment_in(&mut tx, &d.id).await?;
        tx.commit().await?;
        Ok(c)
    }

    pub async fn author(&self, author: &str) -> Result<AuthorSummary, StoreError> {
        let counts = sqlx::query(Self::sql().author_counts)
            .bind(author)
            .fetch_all(&self.pool)
            .await?;
        let by_status = rows::status_counts(&counts)?;
        let comments = sqlx::query(Self::sql().author_recent)
            .bind(author)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::comment)
            .collect::<Result<Vec<_>, _>>()?;
        let stats = AuthorStats::of(&by_status);
        Ok(AuthorSummary {
            author: author.to_owned(),
            total: stats.total,
            rejection_rate: stats.rejection_rate,
            by_status,
            comments,
        })
    }

    pub async fn export(&self) -> Result<Vec<ExportRow>, StoreError> {
        let found = sqlx::query(Self::sql().export)
            .fetch_all(&self.pool)
            .await?;
        found.iter().map(rows::export).collect()
    }

    pub async fn statement_comment(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        let found = sqlx::query(Self::sql().statement_token)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match found {
            Some(r) => Some(r.try_get("id")?),
            None => None,
        })
    }

    pub async fn restricted(
        &self,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> Result<Vec<(StoredComment, Vec<Event>)>, StoreError> {
        let rows = sqlx::query(Self::sql().restricted)
            .bind(from_ms)
            .bind(to_ms)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let c = rows::comment(r)?;
            let events = self.events(c.seq).await?;
            out.push((c, events));
        }
        Ok(out)
    }

    pub async fn add_suggestion(&self, s: NewSuggestion) -> Result<i64, StoreError> {
        let row = sqlx::query(Self::sql().insert_suggestion)
            .bind(s.now_ms)
            .bind(s.key_name)
            .bind(s.text)
            .bind(s.lang)
            .bind(s.labels.to_string())
            .bind(s.community_id)
            .bind(s.client_token)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("seq")?)
    }

    pub async fn suggestions(&self) -> Result<Vec<Suggestion>, StoreError> {
        sqlx::query(Self::sql().select_suggestions)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::suggestion)
            .collect()
    }

    pub async fn label_marks(&self) -> Result<LabelMarks, StoreError> {
        let row = sqlx::query(Self::sql().label_marks)
            .fetch_one(&self.pool)
            .await?;
        Ok(LabelMarks {
            decisions: row.try_get("decisions")?,
            suggestions: row.try_get("suggestions")?,
        })
    }

    pub async fn create_target(&self, t: NewTarget) -> Result<(), StoreError> {
        let done = sqlx::query(Self::sql().insert_target)
            .bind(t.name.as_str())
            .bind(t.description)
            .bind(t.created_by)
            .bind(t.now_ms)
            .execute(&self.pool)
            .await?;
        match B::rows_affected(&done) {
            1 => Ok(()),
            _ => Err(StoreError::TargetExists(t.name.to_string())),
        }
    }

    pub async fn targets(&self) -> Result<Vec<SiteTarget>, StoreError> {
        let found = sqlx::query(Self::sql().select_targets)
            .fetch_all(&self.pool)
            .await?;
        let mut targets: Vec<SiteTarget> =
            found.iter().map(rows::target).collect::<Result<_, _>>()?;
        let attached = sqlx::query(Self::sql().select_article_targets)
            .fetch_all(&self.pool)
            .await?;
        for r in &attached {
            let (article, target): (String, String) =
                (r.try_get("article_id")?, r.try_get("target")?);
            if let Some(t) = targets.iter_mut().find(|t| t.name.as_str() == target) {
                t.articles.push(article);
            }
        }
        Ok(targets)
    }

    pub async fn attach_articles(
        &self,
        target: &Target,
        article_ids: &[String],
        actor: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let known = self.targets().await?;
        if !known.iter().any(|t| &t.name == target) {
            return Err(StoreError::TargetNotFound(target.to_string()));
        }
        let mut tx = B::begin_write(&self.pool).await?;
        for article in article_ids {
            sqlx::query(Self::sql().insert_article_target)
                .bind(article.as_str())
                .bind(target.as_str())
                .bind(actor)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn article_target(&self, article_id: &str) -> Result<Option<Target>, StoreError> {
        let found = sqlx::query(Self::sql().article_target)
            .bind(article_id)
            .fetch_optional(&self.pool)
            .await?;
        match found {
            Some(r) => Ok(Some(rows::stored_target(
                &r.try_get::<String, _>("target")?,
            )?)),
            None => Ok(None),
        }
    }

    pub async fn create_key(
        &self,
        name: &str,
        key_hash: &str,
        role: Role,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(Self::sql().insert_key)
            .bind(name)
            .bind(key_hash)
            .bind(role.as_str())
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        match B::rows_affected(&done) {
            1 => Ok(()),
            _ => Err(StoreError::KeyExists(name.to_owned())),
        }
    }

    pub async fn find_key(&self, key_hash: &str) -> Result<Option<ApiKeyInfo>, StoreError> {
        sqlx::query(Self::sql().find_key)
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(rows::key)
            .transpose()
    }

    pub async fn list_keys(&self) -> Result<Vec<ApiKeyInfo>, StoreError> {
        sqlx::query(Self::sql().list_keys)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::key)
            .collect()
    }

    pub async fn revoke_key(&self, name: &str, now_ms: i64) -> Result<bool, StoreError> {
        let mut tx = B::begin_write(&self.pool).await?;
        let done = sqlx::query(Self::sql().revoke_key)
            .bind(name)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        let revoked = B::rows_affected(&done) == 1;
        if revoked {
            // Claims held under the key would otherwise keep its comments from every
            // other moderator until their leases ran out.
            sqlx::query(Self::sql().release_claims_of)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    pub async fn author_stats(
        &self,
        authors: &[String],
    ) -> Result<BTreeMap<String, AuthorStats>, StoreError> {
        let mut out: BTreeMap<String, AuthorStats> = BTreeMap::new();
        if authors.is_empty() {
            return Ok(out);
        }
        let mut b = QueryBuilder::<B>::new(
            "SELECT author, status, COUNT(*) AS n FROM comments WHERE author IN (",
        );
        let mut list = b.separated(", ");
        for a in authors {
            list.push_bind(a.clone());
        }
        b.push(") GROUP BY author, status");
        for r in b.build().fetch_all(&self.pool).await? {
            let author: String = r.try_get("author")?;
            let status: String = r.try_get("status")?;
            out.entry(author).or_default().add(&status, r.try_get("n")?);
        }
        Ok(out)
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        key: &ApiKeyInfo,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(Self::sql().insert_session)
            .bind(token_hash)
            .bind(&key.name)
            .bind(key.role.as_str())
            .bind(now_ms)
            .bind(expires_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn find_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<ApiKeyInfo>, StoreError> {
        sqlx::query(Self::sql().find_session)
            .bind(token_hash)
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(rows::key)
            .transpose()
    }

    pub async fn end_session(&self, token_hash: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(Self::sql().delete_session)
            .bind(token_hash)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn register_model(&self, m: &NewModel) -> Result<bool, StoreError> {
        let done = sqlx::query(Self::sql().insert_model)
            .bind(&m.model_id)
            .bind(&m.file)
            .bind(&m.sha256)
            .bind(m.now_ms)
            .bind(&m.registered_by)
            .bind(m.report.as_ref().map(|r| r.to_string()))
            .execute(&self.pool)
            .await?;
        if B::rows_affected(&done) == 1 {
            return Ok(true);
        }
        match self.model(&m.model_id).await? {
            Some(known) if known.sha256 == m.sha256 => Ok(false),
            _ => Err(StoreError::ModelConflict(m.model_id.clone())),
        }
    }

    pub async fn model(&self, model_id: &str) -> Result<Option<StoredModel>, StoreError> {
        let Some(row) = sqlx::query(Self::sql().select_model)
            .bind(model_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let mut model = rows::model(&row)?;
        model.activations = sqlx::query(Self::sql().model_activations)
            .bind(model_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::activation)
            .collect::<Result<_, _>>()?;
        Ok(Some(model))
    }

    pub async fn models(&self) -> Result<Vec<StoredModel>, StoreError> {
        let mut models = sqlx::query(Self::sql().list_models)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::model)
            .collect::<Result<Vec<_>, _>>()?;
        let mut history: BTreeMap<String, Vec<Activation>> = BTreeMap::new();
        for r in sqlx::query(Self::sql().all_activations)
            .fetch_all(&self.pool)
            .await?
        {
            let a = rows::activation(&r)?;
            history.entry(a.model_id.clone()).or_default().push(a);
        }
        for m in &mut models {
            m.activations = history.remove(&m.model_id).unwrap_or_default();
        }
        Ok(models)
    }

    pub async fn activate_model(
        &self,
        model_id: &str,
        actor: &str,
        reason: ActivationReason,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(Self::sql().insert_activation)
            .bind(model_id)
            .bind(now_ms)
            .bind(actor)
            .bind(reason.as_str())
            .execute(&self.pool)
            .await?;
        Ok(B::rows_affected(&done) == 1)
    }

    pub async fn active_model(&self) -> Result<Option<Activation>, StoreError> {
        sqlx::query(Self::sql().active_model)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(rows::activation)
            .transpose()
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
