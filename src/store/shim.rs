//! The thin shim between [`Store`](super::Store) and the generic `backend::Db`.

/// Implements [`Store`](super::Store) for `$store`, which has `db: Db<_>` and
/// `async fn submit_one(&self, NewComment)` (how a submission reaches
/// `Db::submit_in`: a transaction of its own, or a group commit). Every other method
/// forwards to the `Db` method of the same name.
macro_rules! impl_store {
    ($store:ty) => {
        $crate::store::shim::forward! {
            $store;
            get(id: &str) -> Option<(StoredComment, Vec<Event>)>;
            queue(q: &QueueQuery) -> Page;
            counts() -> BTreeMap<String, i64>;
            claim(moderator: &str, lease_ms: i64, now_ms: i64) -> Option<StoredComment>;
            release(id: &str, actor: &str, force: bool, now_ms: i64) -> StoredComment;
            decide(d: DecisionInput) -> StoredComment;
            author(author: &str) -> AuthorSummary;
            export() -> Vec<ExportRow>;
            statement_comment(token_hash: &str) -> Option<String>;
            restricted(from_ms: i64, to_ms: i64, limit: i64) -> Vec<(StoredComment, Vec<Event>)>;
            file_appeal(a: NewAppeal) -> Appeal;
            open_appeals() -> i64;
            appeal_of(comment_id: &str) -> Option<Appeal>;
            appeals(filter: AppealFilter, limit: i64) -> Vec<(Appeal, StoredComment)>;
            decide_appeal(d: AppealInput) -> (Appeal, StoredComment);
            add_report(r: NewReport) -> Report;
            report(id: i64, token_hash: &str) -> Option<Report>;
            reports_of(comment_ids: &[String]) -> Vec<Report>;
            reported_count() -> i64;
            period(from_ms: i64, to_ms: i64) -> PeriodRows;
            add_suggestion(s: NewSuggestion) -> i64;
            suggestions() -> Vec<Suggestion>;
            label_marks() -> LabelMarks;
            create_target(t: NewTarget) -> ();
            targets() -> Vec<SiteTarget>;
            attach_articles(target: &Target, article_ids: &[String], actor: &str, now_ms: i64) -> ();
            article_target(article_id: &str) -> Option<Target>;
            create_key(name: &str, key_hash: &str, role: Role, now_ms: i64) -> ();
            find_key(key_hash: &str) -> Option<ApiKeyInfo>;
            list_keys() -> Vec<ApiKeyInfo>;
            revoke_key(name: &str, now_ms: i64) -> bool;
            author_stats(authors: &[String]) -> BTreeMap<String, AuthorStats>;
            create_session(token_hash: &str, key: &ApiKeyInfo, now_ms: i64, expires_ms: i64) -> ();
            find_session(token_hash: &str, now_ms: i64) -> Option<ApiKeyInfo>;
            end_session(token_hash: &str, now_ms: i64) -> ();
            register_model(m: &NewModel) -> bool;
            model(model_id: &str) -> Option<StoredModel>;
            models() -> Vec<StoredModel>;
            activate_model(model_id: &str, actor: &str, reason: ActivationReason, now_ms: i64) -> bool;
            active_model() -> Option<Activation>;
            ping() -> ();
        }
    };
}

/// The `Store` impl `impl_store!` lists, expanded in full before `async_trait` reads it.
macro_rules! forward {
    ($store:ty; $($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {
        const _: () = {
            use std::collections::BTreeMap;
            use $crate::domain::{ActivationReason, Role, Target};
            use $crate::store::{
                Activation, ApiKeyInfo, Appeal, AppealFilter, AppealInput, NewAppeal, NewReport, PeriodRows, Report, AuthorStats, AuthorSummary, DecisionInput, Event, ExportRow,
                LabelMarks, NewComment, NewModel, NewSuggestion, NewTarget, Page, QueueQuery, SiteTarget,
                StoreError, StoredComment, StoredModel, Suggestion,
            };

            #[async_trait::async_trait]
            impl $crate::store::Store for $store {
                async fn submit(&self, c: NewComment) -> Result<(StoredComment, bool), StoreError> {
                    self.submit_one(c).await
                }
                $(
                    async fn $name(&self, $($arg: $ty),*) -> Result<$out, StoreError> {
                        self.db.$name($($arg),*).await
                    }
                )*
            }
        };
    };
}

pub(super) use {forward, impl_store};
