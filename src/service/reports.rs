//! Reader reports (DSA Art. 16 notices): `POST /v1/comments/{id}/reports` from anyone, with
//! a reason among the site's grounds, an optional text and contact, rate-limited per client
//! address. The reporter gets an id and a token (stored as its SHA-256) to read the outcome
//! at `GET /v1/reports/{id}?token=`. A reported comment is in the queue's `reported` filter
//! (the page's Reported tab) until a moderator decides it; its card shows its reports.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::ratelimit::RateLimit;
use super::statements::{check_ground, UnknownGround};
use super::App;
use crate::domain::{CommentStatus, FreeText, FreeTextError};
use crate::store::{NewReport, Report, StoreError};
use crate::util::{rfc3339, sha256_hex};

/// Ten reports in a burst from one address, then one every 30 seconds.
pub const DEFAULT_LIMIT: RateLimit = RateLimit {
    per_second: 1.0 / 30.0,
    burst: 10.0,
};

/// Why a report was not taken or is not shown.
#[derive(Debug, thiserror::Error)]
pub enum ReportRefused {
    #[error("a report needs a reason: one of {0}")]
    NoReason(String),
    #[error(transparent)]
    UnknownReason(#[from] UnknownGround),
    #[error(transparent)]
    Text(#[from] FreeTextError),
    #[error("too many reports from this address")]
    RateLimited(Duration),
    /// No such report, or a token not its own: the same answer for both.
    #[error("no report with id {0:?}")]
    NotFound(String),
    /// No such comment, or the database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a reader sends.
#[derive(Debug, Clone, Default)]
pub struct Notice<'a> {
    pub reason: Option<&'a str>,
    pub text: Option<&'a str>,
    pub contact: Option<&'a str>,
}

/// An optional free text: absent or blank is none.
fn optional(what: &'static str, s: Option<&str>) -> Result<Option<String>, FreeTextError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok(Some(FreeText::parse(what, s)?.into_string())),
        None => Ok(None),
    }
}

/// Files a report on comment `id` from `client` (its address); the report and its token.
pub async fn file(
    app: &App,
    id: &str,
    client: &str,
    n: Notice<'_>,
) -> Result<(Report, String), ReportRefused> {
    let grounds = &app.config.grounds;
    let reason =
        check_ground(app, n.reason)?.ok_or_else(|| ReportRefused::NoReason(grounds.codes()))?;
    let text = optional("text", n.text)?;
    let contact = optional("contact", n.contact)?;
    if app.report_limiter.enabled() {
        let key = sha256_hex(client.as_bytes());
        app.report_limiter
            .check(&key, Instant::now())
            .map_err(ReportRefused::RateLimited)?;
    }
    let (token, token_hash) = new_token();
    let report = app
        .store
        .add_report(NewReport {
            comment_id: id.to_owned(),
            reason,
            text,
            contact,
            token_hash,
            now_ms: crate::store::now_ms(),
        })
        .await?;
    Ok((report, token))
}

/// A reporter's token: 256 bits from the OS.
fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    let token = format!("rp_{}", crate::util::hex(&bytes));
    let hash = sha256_hex(token.as_bytes());
    (token, hash)
}

/// The report `id` for the holder of its token.
pub async fn for_reporter(app: &App, id: &str, token: &str) -> Result<Report, ReportRefused> {
    let not_found = || ReportRefused::NotFound(id.to_owned());
    let seq: i64 = id.parse().map_err(|_| not_found())?;
    app.store
        .report(seq, &sha256_hex(token.as_bytes()))
        .await?
        .ok_or_else(not_found)
}

/// A report as its reporter sees it: what happened to the comment, never who decided.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    pub id: i64,
    pub comment_id: String,
    pub reason: String,
    pub filed_at: String,
    /// `open` (not reviewed yet), `removed` (the comment is rejected) or `no_action` (a
    /// moderator reviewed it and it stays published).
    pub status: &'static str,
    /// When the comment was decided, once it was.
    pub decided_at: Option<String>,
}

impl From<&Report> for ReportView {
    fn from(r: &Report) -> Self {
        let status = match (r.is_open(), r.comment_status) {
            (true, _) | (_, CommentStatus::Pending) => "open",
            (false, CommentStatus::Rejected) => "removed",
            (false, _) => "no_action",
        };
        ReportView {
            id: r.id,
            comment_id: r.comment_id.clone(),
            reason: r.reason.clone(),
            filed_at: rfc3339(r.filed_at_ms),
            status,
            decided_at: (status != "open").then(|| rfc3339(r.comment_updated_at_ms)),
        }
    }
}

/// A report as moderators see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportItem {
    pub id: i64,
    pub reason: String,
    pub text: Option<String>,
    /// How to reach the reporter, if given.
    pub contact: Option<String>,
    pub filed_at: String,
    /// Not decided since.
    pub open: bool,
}

impl From<&Report> for ReportItem {
    fn from(r: &Report) -> Self {
        ReportItem {
            id: r.id,
            reason: r.reason.clone(),
            text: r.text.clone(),
            contact: r.contact.clone(),
            filed_at: rfc3339(r.filed_at_ms),
            open: r.is_open(),
        }
    }
}
