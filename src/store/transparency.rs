//! What a transparency report (DSA Art. 15 and 24) counts, read for a period: the
//! automated restrictions of comments submitted in it, the moderator decisions taken in it
//! (appeals' included), and the reports and appeals filed or decided in it. The counting is
//! `service::transparency`'s.

use sqlx::{ColumnIndex, Encode, Executor, IntoArguments, Row, Type};

use super::backend::{Backend, Db};
use super::rows::Readable;
use super::{Appeal, Report, StoreError};

/// A moderator's decision of the period.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodDecision {
    /// `approve` or `reject`.
    pub action: String,
    pub ground: Option<String>,
    /// The heads that had fired on the comment.
    pub flagged: Vec<String>,
    /// From the comment's submission to this decision.
    pub delay_ms: i64,
}

/// The rows of one period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeriodRows {
    /// Per comment submitted in the period and restricted by the thresholds: its decision
    /// (`reject` or `flag`) and the heads that fired.
    pub automated: Vec<(String, Vec<String>)>,
    pub human: Vec<PeriodDecision>,
    /// Filed in the period.
    pub reports: Vec<Report>,
    /// Filed or decided in the period.
    pub appeals: Vec<Appeal>,
}

fn flagged(s: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Other(format!("stored JSON unreadable: {e}")))
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
    pub async fn period(&self, from_ms: i64, to_ms: i64) -> Result<PeriodRows, StoreError> {
        let sql = Self::sql();
        let mut out = PeriodRows::default();
        for r in sqlx::query(sql.period_automated)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&self.pool)
            .await?
        {
            let f = flagged(&r.try_get::<String, _>("flagged")?)?;
            out.automated.push((r.try_get("decision")?, f));
        }
        for r in sqlx::query(sql.period_decisions)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&self.pool)
            .await?
        {
            out.human.push(PeriodDecision {
                action: r.try_get("action")?,
                ground: r.try_get("ground")?,
                flagged: flagged(&r.try_get::<String, _>("flagged")?)?,
                delay_ms: r.try_get::<i64, _>("at")? - r.try_get::<i64, _>("created_at")?,
            });
        }
        out.reports = self.reports_between(from_ms, to_ms).await?;
        out.appeals = self.appeals_between(from_ms, to_ms).await?;
        Ok(out)
    }
}
