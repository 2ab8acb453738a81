//! Reader reports as stored: `reports`, append-only. A report is open while the comment has
//! not been decided since (every decision bumps its version past the one the report saw);
//! its outcome is the comment's status then. The queue's `reported` filter lists
//! the comments with an open report.

use sqlx::{ColumnIndex, Encode, Executor, IntoArguments, QueryBuilder, Row, Type};

use super::backend::{Backend, Db};
use super::rows::{self, Readable};
use super::StoreError;
use crate::domain::CommentStatus;

/// A report to store.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub comment_id: String,
    /// A rule code of the site's grounds.
    pub reason: String,
    pub text: Option<String>,
    /// How to reach the reporter: moderators only.
    pub contact: Option<String>,
    /// The SHA-256 of the reporter's token.
    pub token_hash: String,
    pub now_ms: i64,
}

/// A stored report, with its comment's status now.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: i64,
    pub comment_id: String,
    pub reason: String,
    pub text: Option<String>,
    pub contact: Option<String>,
    pub filed_at_ms: i64,
    pub comment_status: CommentStatus,
    /// When the comment last changed (its latest decision, or its submission).
    pub comment_updated_at_ms: i64,
    /// The comment's version when reported, and now.
    pub version_reported: i64,
    pub comment_version: i64,
}

impl Report {
    /// No decision on the comment since the report.
    pub fn is_open(&self) -> bool {
        self.comment_version <= self.version_reported
    }
}

/// The columns of a report (`r`) and of its comment (`c`) it needs.
pub(super) const REPORT_COLUMNS: &str = "r.seq AS r_seq, r.reason AS r_reason, r.text AS r_text, \
r.contact AS r_contact, r.created_at AS r_at, r.comment_version AS r_version, c.id AS c_id, \
c.status AS c_status, c.updated_at AS c_updated_at, c.version AS c_version";

/// A report is open while its comment has not changed since: the queue's `reported` filter.
pub(super) const OPEN_REPORT: &str = "EXISTS (SELECT 1 FROM reports r \
WHERE r.comment_seq = c.seq AND r.comment_version >= c.version)";

fn report<R: Row>(r: &R) -> Result<Report, StoreError>
where
    for<'a> &'a str: ColumnIndex<R>,
    i64: Readable<R>,
    String: Readable<R>,
{
    Ok(Report {
        id: r.try_get("r_seq")?,
        comment_id: r.try_get("c_id")?,
        reason: r.try_get("r_reason")?,
        text: r.try_get("r_text")?,
        contact: r.try_get("r_contact")?,
        filed_at_ms: r.try_get("r_at")?,
        comment_status: rows::domain(&r.try_get::<String, _>("c_status")?)?,
        comment_updated_at_ms: r.try_get("c_updated_at")?,
        version_reported: r.try_get("r_version")?,
        comment_version: r.try_get("c_version")?,
    })
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
    pub async fn add_report(&self, n: NewReport) -> Result<Report, StoreError> {
        let row = sqlx::query(Self::sql().insert_report)
            .bind(n.comment_id.as_str())
            .bind(n.reason)
            .bind(n.text)
            .bind(n.contact)
            .bind(n.token_hash)
            .bind(n.now_ms)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(n.comment_id.clone()))?;
        let seq: i64 = row.try_get("seq")?;
        let row = sqlx::query(Self::sql().report_by_seq)
            .bind(seq)
            .fetch_one(&self.pool)
            .await?;
        report(&row)
    }

    pub async fn report(&self, id: i64, token_hash: &str) -> Result<Option<Report>, StoreError> {
        sqlx::query(Self::sql().report_by_token)
            .bind(id)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(report)
            .transpose()
    }

    pub async fn reports_of(&self, comment_ids: &[String]) -> Result<Vec<Report>, StoreError> {
        if comment_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut b = QueryBuilder::<B>::new(format!(
            "SELECT {REPORT_COLUMNS} FROM reports r JOIN comments c ON c.seq = r.comment_seq \
             WHERE c.id IN ("
        ));
        let mut list = b.separated(", ");
        for id in comment_ids {
            list.push_bind(id.clone());
        }
        b.push(") ORDER BY r.seq");
        b.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(report)
            .collect()
    }

    /// Reports filed in `[from_ms, to_ms)`.
    pub(super) async fn reports_between(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Report>, StoreError> {
        sqlx::query(Self::sql().period_reports)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(report)
            .collect()
    }

    pub async fn reported_count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query(Self::sql().reported_count)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }
}
