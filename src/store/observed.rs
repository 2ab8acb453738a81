//! [`Observed`]: any [`Store`], with each database failure (unavailable, or an error the
//! database gave) reported to a callback as it passes. Failures that are answers (not found,
//! version conflict, claimed, id conflict, key exists) are not reported. The service counts
//! them for its metrics this way, whatever door (API, page, Coral, Perspective) asked.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{
    Activation, ApiKeyInfo, Appeal, AppealFilter, AppealInput, AuthorStats, AuthorSummary,
    DecisionInput, Event, ExportRow, LabelMarks, NewAppeal, NewComment, NewModel, NewReport,
    NewSuggestion, NewTarget, Page, PeriodRows, QueueQuery, Report, SiteTarget, Store, StoreError,
    StoredComment, StoredModel, Suggestion,
};
use crate::domain::{ActivationReason, Role, Target};

/// The kind of a database failure, as reported to the callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The database could not be reached, or is shutting down ([`StoreError::Unavailable`]).
    Unavailable,
    /// The database answered with an error, or stored data could not be read
    /// ([`StoreError::Other`]).
    Error,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Unavailable => "unavailable",
            FailureKind::Error => "error",
        }
    }

    /// The kind of `e`, when it is a database failure rather than an answer.
    pub fn of(e: &StoreError) -> Option<FailureKind> {
        match e {
            StoreError::Unavailable(_) => Some(FailureKind::Unavailable),
            StoreError::Other(_) => Some(FailureKind::Error),
            _ => None,
        }
    }
}

type OnFailure = Box<dyn Fn(FailureKind) + Send + Sync>;

/// A store that reports its database failures to `on_failure`.
pub struct Observed {
    inner: Arc<dyn Store>,
    on_failure: OnFailure,
}

impl Observed {
    pub fn new(
        inner: Arc<dyn Store>,
        on_failure: impl Fn(FailureKind) + Send + Sync + 'static,
    ) -> Self {
        Self {
            inner,
            on_failure: Box::new(on_failure),
        }
    }

    fn seen<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Some(kind) = r.as_ref().err().and_then(FailureKind::of) {
            (self.on_failure)(kind);
        }
        r
    }
}

#[async_trait::async_trait]
impl Store for Observed {
    async fn submit(&self, c: NewComment) -> Result<(StoredComment, bool), StoreError> {
        self.seen(self.inner.submit(c).await)
    }

    async fn get(&self, id: &str) -> Result<Option<(StoredComment, Vec<Event>)>, StoreError> {
        self.seen(self.inner.get(id).await)
    }

    async fn queue(&self, q: &QueueQuery) -> Result<Page, StoreError> {
        self.seen(self.inner.queue(q).await)
    }

    async fn counts(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        self.seen(self.inner.counts().await)
    }

    async fn claim(
        &self,
        moderator: &str,
        lease_ms: i64,
        now_ms: i64,
    ) -> Result<Option<StoredComment>, StoreError> {
        self.seen(self.inner.claim(moderator, lease_ms, now_ms).await)
    }

    async fn release(
        &self,
        id: &str,
        actor: &str,
        force: bool,
        now_ms: i64,
    ) -> Result<StoredComment, StoreError> {
        self.seen(self.inner.release(id, actor, force, now_ms).await)
    }

    async fn decide(&self, d: DecisionInput) -> Result<StoredComment, StoreError> {
        self.seen(self.inner.decide(d).await)
    }

    async fn author(&self, author: &str) -> Result<AuthorSummary, StoreError> {
        self.seen(self.inner.author(author).await)
    }

    async fn export(&self) -> Result<Vec<ExportRow>, StoreError> {
        self.seen(self.inner.export().await)
    }

    async fn statement_comment(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        self.seen(self.inner.statement_comment(token_hash).await)
    }

    async fn restricted(
        &self,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> Result<Vec<(StoredComment, Vec<Event>)>, StoreError> {
        self.seen(self.inner.restricted(from_ms, to_ms, limit).await)
    }

    async fn file_appeal(&self, a: NewAppeal) -> Result<Appeal, StoreError> {
        self.seen(self.inner.file_appeal(a).await)
    }

    async fn open_appeals(&self) -> Result<i64, StoreError> {
        self.seen(self.inner.open_appeals().await)
    }

    async fn appeal_of(&self, comment_id: &str) -> Result<Option<Appeal>, StoreError> {
        self.seen(self.inner.appeal_of(comment_id).await)
    }

    async fn appeals(
        &self,
        filter: AppealFilter,
        limit: i64,
    ) -> Result<Vec<(Appeal, StoredComment)>, StoreError> {
        self.seen(self.inner.appeals(filter, limit).await)
    }

    async fn decide_appeal(&self, d: AppealInput) -> Result<(Appeal, StoredComment), StoreError> {
        self.seen(self.inner.decide_appeal(d).await)
    }

    async fn add_report(&self, r: NewReport) -> Result<Report, StoreError> {
        self.seen(self.inner.add_report(r).await)
    }

    async fn report(&self, id: i64, token_hash: &str) -> Result<Option<Report>, StoreError> {
        self.seen(self.inner.report(id, token_hash).await)
    }

    async fn reports_of(&self, comment_ids: &[String]) -> Result<Vec<Report>, StoreError> {
        self.seen(self.inner.reports_of(comment_ids).await)
    }

    async fn reported_count(&self) -> Result<i64, StoreError> {
        self.seen(self.inner.reported_count().await)
    }

    async fn period(&self, from_ms: i64, to_ms: i64) -> Result<PeriodRows, StoreError> {
        self.seen(self.inner.period(from_ms, to_ms).await)
    }

    async fn add_suggestion(&self, s: NewSuggestion) -> Result<i64, StoreError> {
        self.seen(self.inner.add_suggestion(s).await)
    }

    async fn suggestions(&self) -> Result<Vec<Suggestion>, StoreError> {
        self.seen(self.inner.suggestions().await)
    }

    async fn label_marks(&self) -> Result<LabelMarks, StoreError> {
        self.seen(self.inner.label_marks().await)
    }

    async fn create_target(&self, t: NewTarget) -> Result<(), StoreError> {
        self.seen(self.inner.create_target(t).await)
    }

    async fn targets(&self) -> Result<Vec<SiteTarget>, StoreError> {
        self.seen(self.inner.targets().await)
    }

    async fn attach_articles(
        &self,
        target: &Target,
        article_ids: &[String],
        actor: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let r = self
            .inner
            .attach_articles(target, article_ids, actor, now_ms);
        self.seen(r.await)
    }

    async fn article_target(&self, article_id: &str) -> Result<Option<Target>, StoreError> {
        self.seen(self.inner.article_target(article_id).await)
    }

    async fn create_key(
        &self,
        name: &str,
        key_hash: &str,
        role: Role,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.seen(self.inner.create_key(name, key_hash, role, now_ms).await)
    }

    async fn find_key(&self, key_hash: &str) -> Result<Option<ApiKeyInfo>, StoreError> {
        self.seen(self.inner.find_key(key_hash).await)
    }

    async fn list_keys(&self) -> Result<Vec<ApiKeyInfo>, StoreError> {
        self.seen(self.inner.list_keys().await)
    }

    async fn revoke_key(&self, name: &str, now_ms: i64) -> Result<bool, StoreError> {
        self.seen(self.inner.revoke_key(name, now_ms).await)
    }

    async fn author_stats(
        &self,
        authors: &[String],
    ) -> Result<BTreeMap<String, AuthorStats>, StoreError> {
        self.seen(self.inner.author_stats(authors).await)
    }

    async fn create_session(
        &self,
        token_hash: &str,
        key: &ApiKeyInfo,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        let r = self
            .inner
            .create_session(token_hash, key, now_ms, expires_ms);
        self.seen(r.await)
    }

    async fn find_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<ApiKeyInfo>, StoreError> {
        self.seen(self.inner.find_session(token_hash, now_ms).await)
    }

    async fn end_session(&self, token_hash: &str, now_ms: i64) -> Result<(), StoreError> {
        self.seen(self.inner.end_session(token_hash, now_ms).await)
    }

    async fn register_model(&self, m: &NewModel) -> Result<bool, StoreError> {
        self.seen(self.inner.register_model(m).await)
    }

    async fn model(&self, model_id: &str) -> Result<Option<StoredModel>, StoreError> {
        self.seen(self.inner.model(model_id).await)
    }

    async fn models(&self) -> Result<Vec<StoredModel>, StoreError> {
        self.seen(self.inner.models().await)
    }

    async fn activate_model(
        &self,
        model_id: &str,
        actor: &str,
        reason: ActivationReason,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let r = self.inner.activate_model(model_id, actor, reason, now_ms);
        self.seen(r.await)
    }

    async fn active_model(&self) -> Result<Option<Activation>, StoreError> {
        self.seen(self.inner.active_model().await)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.seen(self.inner.ping().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn only_database_failures_are_reported() {
        let cases = [
            (StoreError::Unavailable("down".into()), Some("unavailable")),
            (StoreError::Other("syntax".into()), Some("error")),
            (StoreError::NotFound("x".into()), None),
            (StoreError::VersionConflict { current: 2 }, None),
            (StoreError::IdConflict("x".into()), None),
            (StoreError::KeyExists("k".into()), None),
            (StoreError::ModelConflict("m".into()), None),
        ];
        for (e, kind) in cases {
            assert_eq!(FailureKind::of(&e).map(FailureKind::as_str), kind, "{e}");
        }
    }

    #[tokio::test]
    async fn a_failing_call_reports_once_and_a_working_one_not_at_all() {
        let store = Arc::new(crate::store::SqliteStore::in_memory().await.unwrap());
        let seen = Arc::new(AtomicUsize::new(0));
        let count = seen.clone();
        let observed = Observed::new(store, move |_| {
            count.fetch_add(1, Ordering::SeqCst);
        });
        observed.ping().await.unwrap();
        assert_eq!(observed.get("absent").await.unwrap(), None);
        assert_eq!(seen.load(Ordering::SeqCst), 0);
        // A failure passes through unchanged, reported once (the integration tests make
        // the database itself fail).
        let r = observed.seen::<()>(Err(StoreError::Other("boom".into())));
        assert!(matches!(r, Err(StoreError::Other(m)) if m == "boom"));
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }
}
