//! Storage of comments, their history and API keys behind one trait, [`Store`], with two
//! implementations sharing one body of generic functions (`backend`) over named statements
//! (`statements`): SQLite (default: one file, WAL) and PostgreSQL (several replicas sharing
//! one queue; claims use `FOR UPDATE SKIP LOCKED`). Migrations are versioned per backend
//! and applied at start-up. Only this module touches SQL. [`Observed`] wraps either and
//! reports its database failures (for the metrics).

mod appeals;
mod backend;
mod models;
mod observed;
mod postgres;
mod reports;
mod rows;
mod shim;
mod sqlite;
mod statements;
mod transparency;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::domain::{
    ActivationReason, CommentId, CommentStatus, Decision, ModeratorAction, ParseError, Role,
    Stance, Target,
};

pub use appeals::{Appeal, AppealDecision, AppealFilter, AppealInput, NewAppeal};
pub use models::{Activation, NewModel, StoredModel};
pub use observed::{FailureKind, Observed};
pub use postgres::PgStore;
pub use reports::{NewReport, Report};
pub use sqlite::SqliteStore;
pub use transparency::{PeriodDecision, PeriodRows};

/// A scored comment to store.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub id: CommentId,
    pub text: String,
    pub article_id: Option<String>,
    pub author: Option<String>,
    pub target: Option<String>,
    pub lang: String,
    pub scores: BTreeMap<String, f32>,
    /// `{"target", "label", "probabilities"}` as served.
    pub stance: Option<serde_json::Value>,
    pub stance_label: Option<Stance>,
    pub flagged: Vec<String>,
    /// Per flagged head, the words that drove it, as served by `/v1/score`.
    pub explanation: Option<serde_json::Value>,
    pub model_id: String,
    pub decision: Decision,
    /// Who submitted it (API key name, or "anonymous").
    pub actor: String,
    /// Recorded as the reason of the `submitted` event, e.g. that only a prefix was scored.
    pub note: Option<String>,
    /// The SHA-256 of the comment's statement token (`service::statements`), stored with a
    /// new comment; `None`: the comment has no token (its author sees no statement).
    pub statement_token_hash: Option<String>,
    pub now_ms: i64,
}

impl NewComment {
    /// The comment as `submit` stores it, under `seq`, before any change.
    fn stored(&self, seq: i64, max_score: f64) -> StoredComment {
        StoredComment {
            seq,
            id: self.id.to_string(),
            text: self.text.clone(),
            article_id: self.article_id.clone(),
            author: self.author.clone(),
            target: self.target.clone(),
            lang: self.lang.clone(),
            scores: self.scores.clone(),
            stance: self.stance.clone(),
            flagged: self.flagged.clone(),
            explanation: self.explanation.clone(),
            max_score,
            model_id: self.model_id.clone(),
            decision: self.decision,
            status: CommentStatus::from_decision(self.decision),
            version: 1,
            created_at_ms: self.now_ms,
            updated_at_ms: self.now_ms,
            claimed_by: None,
            claim_expires_at_ms: None,
        }
    }
}

/// The highest score over the flagged heads, or over all heads when none is flagged.
fn max_score(scores: &BTreeMap<String, f32>, flagged: &[String]) -> f64 {
    let pick = |h: &String| flagged.is_empty() || flagged.contains(h);
    scores
        .iter()
        .filter(|(h, _)| pick(h))
        .map(|(_, &s)| f64::from(s))
        .fold(0.0, f64::max)
}

/// A comment as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredComment {
    #[serde(skip)]
    pub seq: i64,
    pub id: String,
    pub text: String,
    pub article_id: Option<String>,
    pub author: Option<String>,
    pub target: Option<String>,
    pub lang: String,
    pub scores: BTreeMap<String, f32>,
    pub stance: Option<serde_json::Value>,
    pub flagged: Vec<String>,
    pub explanation: Option<serde_json::Value>,
    /// The highest score over the flagged heads (over all heads when none is flagged).
    pub max_score: f64,
    pub model_id: String,
    pub decision: Decision,
    pub status: CommentStatus,
    /// Bumped by every change; a decision must name the version it saw.
    pub version: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub claimed_by: Option<String>,
    pub claim_expires_at_ms: Option<i64>,
}

/// One entry of a comment's append-only history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub at_ms: i64,
    pub actor: String,
    /// `submitted`, `claimed`, `released`, `approve` or `reject`.
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub labels: Option<serde_json::Value>,
    pub model_id: Option<String>,
    /// The comment's version after this event.
    pub version: i64,
    /// The rule of the site's terms a moderator's decision rests on (a code of the grounds).
    pub ground: Option<String>,
}

/// Queue order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueOrder {
    /// Highest score first (the filtered head's score when `head` is given).
    #[default]
    Score,
    /// Oldest first.
    Oldest,
    /// The comments whose labels would teach the model most first (`service::teach`). The
    /// store itself gives the candidates oldest first; the service ranks them.
    Informative,
}

impl std::str::FromStr for QueueOrder {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "score" => Ok(QueueOrder::Score),
            "oldest" => Ok(QueueOrder::Oldest),
            "informative" => Ok(QueueOrder::Informative),
            _ => Err(ParseError::new("order", s, "score, oldest or informative")),
        }
    }
}

/// Where the previous page ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cursor {
    pub score: f64,
    pub seq: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{:016x}.{:x}", self.score.to_bits(), self.seq)
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let (a, b) = s.split_once('.')?;
        let score = f64::from_bits(u64::from_str_radix(a, 16).ok()?);
        let seq = i64::from_str_radix(b, 16).ok()?;
        (score.is_finite() && seq >= 0).then_some(Cursor { score, seq })
    }
}

#[derive(Debug, Clone, Default)]
pub struct QueueQuery {
    pub status: Option<CommentStatus>,
    pub head: Option<String>,
    pub min_score: Option<f64>,
    pub max_score: Option<f64>,
    pub article_id: Option<String>,
    pub author: Option<String>,
    pub stance: Option<Stance>,
    /// Only comments with an open reader report (any status, unless `status` is given).
    pub reported: bool,
    pub order: QueueOrder,
    pub limit: u32,
    pub cursor: Option<Cursor>,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<StoredComment>,
    pub next: Option<Cursor>,
}

#[derive(Debug, Clone)]
pub struct DecisionInput {
    pub id: String,
    pub action: ModeratorAction,
    pub reason: Option<String>,
    pub labels: Option<serde_json::Value>,
    /// The rule of the site's terms the decision rests on (checked against the grounds).
    pub ground: Option<String>,
    pub version: i64,
    pub moderator: String,
    pub now_ms: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuthorSummary {
    pub author: String,
    pub total: i64,
    pub by_status: BTreeMap<String, i64>,
    /// Rejected over all decided comments (rejected + approved + published); 0 with none.
    pub rejection_rate: f64,
    /// The most recent comments, newest first (at most 100).
    pub comments: Vec<StoredComment>,
}

/// A moderator decision as training material.
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub comment: StoredComment,
    pub action: ModeratorAction,
    pub labels: Option<serde_json::Value>,
    /// Who decided (API key name) and when.
    pub moderator: String,
    pub at_ms: i64,
}

/// Labels a client suggested for a text (Perspective's `comments:suggestscore`), to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSuggestion {
    pub text: String,
    /// `fr` or `en`.
    pub lang: String,
    /// Canonical labels, e.g. `{"toxicity": 1, "insult": 0}`.
    pub labels: serde_json::Value,
    pub community_id: Option<String>,
    pub client_token: Option<String>,
    /// The API key that sent it.
    pub key_name: String,
    pub now_ms: i64,
}

/// How many labels the site has given so far: moderator decisions (every `approve` or
/// `reject` event, re-decisions included) and `suggestscore` suggestions. Both tables only
/// grow, so a change of either count is a new label: a cheap mark to count labels since a
/// moment, or to know that what was computed from them is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LabelMarks {
    pub decisions: i64,
    pub suggestions: i64,
}

impl LabelMarks {
    pub fn total(&self) -> i64 {
        self.decisions + self.suggestions
    }
}

/// A stored suggestion: what was sent, under its sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub seq: i64,
    pub at_ms: i64,
    pub key_name: String,
    pub text: String,
    pub lang: String,
    pub labels: serde_json::Value,
    pub community_id: Option<String>,
    pub client_token: Option<String>,
}

/// A stance target an editor created, to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTarget {
    pub name: Target,
    pub description: String,
    /// The API key that created it.
    pub created_by: String,
    pub now_ms: i64,
}

/// A stored stance target and the articles attached to it now (sorted).
#[derive(Debug, Clone, PartialEq)]
pub struct SiteTarget {
    pub name: Target,
    pub description: String,
    pub created_by: String,
    pub created_at_ms: i64,
    pub articles: Vec<String>,
}

/// Comment counts of one author.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuthorStats {
    pub total: i64,
    pub rejected: i64,
    /// Rejected over decided (published, approved, rejected); 0 with none.
    pub rejection_rate: f64,
    decided: i64,
}

impl AuthorStats {
    /// From counts per status.
    fn of(by_status: &BTreeMap<String, i64>) -> Self {
        let mut stats = AuthorStats::default();
        for (status, &n) in by_status {
            stats.add(status, n);
        }
        stats
    }

    /// Counts `n` more comments of `status`; the one place the rejection rate is computed.
    fn add(&mut self, status: &str, n: i64) {
        self.total += n;
        if status == "rejected" {
            self.rejected += n;
        }
        if status != "pending" {
            self.decided += n;
        }
        self.rejection_rate = if self.decided == 0 {
            0.0
        } else {
            self.rejected as f64 / self.decided as f64
        };
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKeyInfo {
    pub name: String,
    pub role: Role,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no comment with id {0:?}")]
    NotFound(String),
    #[error("version conflict: the comment is at version {current}")]
    VersionConflict { current: i64 },
    #[error("claimed by {by} until {until_ms}")]
    Claimed { by: String, until_ms: i64 },
    #[error("id {0:?} was already used for another text, author, article or language")]
    IdConflict(String),
    #[error("a key named {0:?} already exists")]
    KeyExists(String),
    #[error("model id {0:?} is already registered for another file (another SHA-256)")]
    ModelConflict(String),
    #[error("a target named {0:?} already exists")]
    TargetExists(String),
    #[error("no target named {0:?}")]
    TargetNotFound(String),
    #[error("comment {0:?} has already been appealed: an appeal is filed once")]
    AppealExists(String),
    #[error("no appeal with id {0}")]
    AppealNotFound(i64),
    #[error("appeal {0} has already been decided")]
    AppealDecided(i64),
    #[error("appeal {0}: you took the decision appealed; another moderator must decide it")]
    SameModerator(i64),
    #[error(
        "appeal {0}: the comment was approved by another decision since the appeal was filed; \
         there is no restriction left to uphold (overturn the appeal to close it)"
    )]
    AppealOvertaken(i64),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            // PostgreSQL going away mid-query: connection exceptions (class 08) and
            // shutdowns (57P01-57P03). SQLite: the file is busy beyond the timeout.
            sqlx::Error::Database(ref d)
                if d.code().is_some_and(|c| {
                    c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03" | "5" | "6")
                }) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            other => StoreError::Other(other.to_string()),
        }
    }
}

/// Everything the service stores.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Stores a new comment and its `submitted` event in one transaction. When the id is
    /// already stored with the same text, returns the stored comment and `false`.
    async fn submit(&self, c: NewComment) -> Result<(StoredComment, bool), StoreError>;
    async fn get(&self, id: &str) -> Result<Option<(StoredComment, Vec<Event>)>, StoreError>;
    async fn queue(&self, q: &QueueQuery) -> Result<Page, StoreError>;
    /// Counts per status.
    async fn counts(&self) -> Result<BTreeMap<String, i64>, StoreError>;
    /// Leases the next unclaimed pending comment (oldest first) to `moderator`.
    async fn claim(
        &self,
        moderator: &str,
        lease_ms: i64,
        now_ms: i64,
    ) -> Result<Option<StoredComment>, StoreError>;
    /// Ends the live claim on `id`, if any, recording a `released` event: `actor`'s own claim,
    /// or anyone's with `force` (an admin breaking it). Another's live claim without `force`
    /// is `Claimed`; a comment without a live claim comes back unchanged.
    async fn release(
        &self,
        id: &str,
        actor: &str,
        force: bool,
        now_ms: i64,
    ) -> Result<StoredComment, StoreError>;
    /// Applies a decision if `version` is current and no one else holds a live claim.
    async fn decide(&self, d: DecisionInput) -> Result<StoredComment, StoreError>;
    async fn author(&self, author: &str) -> Result<AuthorSummary, StoreError>;
    /// The latest moderator decision of every decided comment, oldest decision first.
    async fn export(&self) -> Result<Vec<ExportRow>, StoreError>;
    /// The id of the comment whose statement token has this SHA-256.
    async fn statement_comment(&self, token_hash: &str) -> Result<Option<String>, StoreError>;
    /// Restricted comments (rejected, or held for review) with their histories, last
    /// changed in `[from_ms, to_ms)`, oldest change first, at most `limit`.
    async fn restricted(
        &self,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> Result<Vec<(StoredComment, Vec<Event>)>, StoreError>;
    /// Files an appeal against the comment's restriction, appending `appealed` to its
    /// history; `AppealExists` when it was already appealed.
    async fn file_appeal(&self, a: NewAppeal) -> Result<Appeal, StoreError>;
    /// How many appeals wait for a decision.
    async fn open_appeals(&self) -> Result<i64, StoreError>;
    /// The appeal of a comment, if any.
    async fn appeal_of(&self, comment_id: &str) -> Result<Option<Appeal>, StoreError>;
    /// Appeals with their comments (at most `limit`).
    async fn appeals(
        &self,
        filter: AppealFilter,
        limit: i64,
    ) -> Result<Vec<(Appeal, StoredComment)>, StoreError>;
    /// Decides an appeal: `SameModerator` for the moderator of the comment's latest
    /// decision, `AppealDecided` when already decided; the outcome's decision is applied to
    /// the comment and appended to its history.
    async fn decide_appeal(&self, d: AppealInput) -> Result<(Appeal, StoredComment), StoreError>;
    /// Stores a reader's report; `NotFound` when the comment does not exist.
    async fn add_report(&self, r: NewReport) -> Result<Report, StoreError>;
    /// The report `id` if its token has this SHA-256.
    async fn report(&self, id: i64, token_hash: &str) -> Result<Option<Report>, StoreError>;
    /// Every report of these comments, oldest first.
    async fn reports_of(&self, comment_ids: &[String]) -> Result<Vec<Report>, StoreError>;
    /// How many comments have an open report.
    async fn reported_count(&self) -> Result<i64, StoreError>;
    /// What a transparency report counts for `[from_ms, to_ms)`.
    async fn period(&self, from_ms: i64, to_ms: i64) -> Result<PeriodRows, StoreError>;
    /// Stores a client's suggested labels; returns its sequence number.
    async fn add_suggestion(&self, s: NewSuggestion) -> Result<i64, StoreError>;
    /// Every stored suggestion, oldest first.
    async fn suggestions(&self) -> Result<Vec<Suggestion>, StoreError>;
    /// How many labels the site has given so far (two counts, no rows read).
    async fn label_marks(&self) -> Result<LabelMarks, StoreError>;
    /// Stores a new stance target; `TargetExists` when the name is taken.
    async fn create_target(&self, t: NewTarget) -> Result<(), StoreError>;
    /// Every stance target (oldest first) with the articles attached to it now.
    async fn targets(&self) -> Result<Vec<SiteTarget>, StoreError>;
    /// Attaches articles to a target (each article's earlier attachment is superseded, not
    /// rewritten); `TargetNotFound` when it does not exist.
    async fn attach_articles(
        &self,
        target: &Target,
        article_ids: &[String],
        actor: &str,
        now_ms: i64,
    ) -> Result<(), StoreError>;
    /// The target an article is attached to now.
    async fn article_target(&self, article_id: &str) -> Result<Option<Target>, StoreError>;
    async fn create_key(
        &self,
        name: &str,
        key_hash: &str,
        role: Role,
        now_ms: i64,
    ) -> Result<(), StoreError>;
    /// The live (not revoked) key with this hash.
    async fn find_key(&self, key_hash: &str) -> Result<Option<ApiKeyInfo>, StoreError>;
    async fn list_keys(&self) -> Result<Vec<ApiKeyInfo>, StoreError>;
    /// Returns whether a live key of that name existed.
    async fn revoke_key(&self, name: &str, now_ms: i64) -> Result<bool, StoreError>;
    /// Counts and rejection rate of each of `authors` (absent: no comment).
    async fn author_stats(
        &self,
        authors: &[String],
    ) -> Result<BTreeMap<String, AuthorStats>, StoreError>;
    /// Opens a moderator page session for `key` (the cookie token is stored hashed).
    async fn create_session(
        &self,
        token_hash: &str,
        key: &ApiKeyInfo,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError>;
    /// The key behind a live session; a revoked key ends its sessions.
    async fn find_session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<ApiKeyInfo>, StoreError>;
    /// Ends a session (and sweeps expired ones).
    async fn end_session(&self, token_hash: &str, now_ms: i64) -> Result<(), StoreError>;
    /// Registers a model file: `true` when new, `false` when the id is registered with the
    /// same SHA-256; with another, `ModelConflict` (one id names one file).
    async fn register_model(&self, m: &NewModel) -> Result<bool, StoreError>;
    /// A registered model and its activations.
    async fn model(&self, model_id: &str) -> Result<Option<StoredModel>, StoreError>;
    /// Every registered model, newest registration first.
    async fn models(&self) -> Result<Vec<StoredModel>, StoreError>;
    /// Appends an activation (the model becomes the one to serve); `false` when no model
    /// of that id is registered.
    async fn activate_model(
        &self,
        model_id: &str,
        actor: &str,
        reason: ActivationReason,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// The latest activation: which model is to serve, since when, by whom.
    async fn active_model(&self) -> Result<Option<Activation>, StoreError>;
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Opens the store a URL names: `postgres://…` or `sqlite://path`; without a URL, the
/// SQLite file `<data_dir>/vigie.db`, created on first use. Migrations run here.
pub async fn open(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Arc<dyn Store>> {
    match database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Arc::new(PgStore::connect(url).await?))
        }
        Some(url) if url.starts_with("sqlite:") => {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            Ok(Arc::new(SqliteStore::open(Path::new(path)).await?))
        }
        Some(other) => {
            anyhow::bail!("unsupported DATABASE_URL {other:?}: use postgres://… or sqlite://…")
        }
        None => {
            std::fs::create_dir_all(data_dir)?;
            Ok(Arc::new(
                SqliteStore::open(&data_dir.join("vigie.db")).await?,
            ))
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Where comments, decisions and keys are stored.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// `postgres://user@host/db` for PostgreSQL, `sqlite://path` for a SQLite file; by
    /// default the SQLite file `<data-dir>/vigie.db`, created on first start.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    #[arg(long, env = "VIGIE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

impl DbArgs {
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        open(self.database_url.as_deref(), &self.data_dir).await
    }
}

/// An API key's name: 1 to 64 ASCII letters, digits, '.', '_', '-' or '@'.
pub fn check_key_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid key name {name:?}: use 1 to 64 ASCII letters, digits, '.', '_', '-' or '@'"
        ))
    }
}

/// SHA-256 of an API key, hex: what is stored instead of the key.
pub fn hash_key(key: &str) -> String {
    crate::util::sha256_hex(key.as_bytes())
}

/// A new random API key: `vg_` and 64 hex digits (256 bits from the OS).
pub fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    format!("vg_{}", crate::util::hex(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cursor {
            score: 0.8125,
            seq: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("nope"), None);
        assert_eq!(Cursor::decode("zz.1"), None);
        assert_eq!(
            Cursor::decode(&format!("{:016x}.1", f64::NAN.to_bits())),
            None
        );
    }

    #[test]
    fn keys_are_random_and_hashed() {
        let (a, b) = (generate_key(), generate_key());
        assert_ne!(a, b);
        assert!(a.starts_with("vg_") && a.len() == 67);
        assert_eq!(hash_key(&a), hash_key(&a));
        assert_ne!(hash_key(&a), hash_key(&b));
        assert!(!hash_key(&a).contains(&a[3..]));
    }
}
