//! The transparency report (DSA Art. 15 and 24) of a period, `GET /v1/transparency` and the
//! page `/transparency`: restrictions by ground and by head, automated and human decisions,
//! reports received and acted on, appeals filed, upheld and overturned, the median time from
//! submission to a moderator's decision, and the overturn rate of automated decisions on
//! appeal: the measure of their error. Counts only; nothing names a comment, an author or a
//! moderator.

use std::collections::BTreeMap;

use serde::Serialize;

use super::App;
use crate::domain::AppealOutcome;
use crate::store::{PeriodRows, StoreError};
use crate::util::rfc3339;

/// Decisions of the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DecisionCounts {
    /// Comments restricted by the thresholds alone at submission (removed or withheld).
    pub automated: u64,
    /// Of which removed (`reject`) and withheld pending review (`flag`).
    pub automated_removed: u64,
    pub automated_withheld: u64,
    /// Moderators' decisions (appeals' included).
    pub human: u64,
    pub human_removed: u64,
    pub human_approved: u64,
    /// Restrictions (automated and human removals, withholdings) per rule of the site's
    /// terms.
    pub by_ground: BTreeMap<String, u64>,
    /// Restrictions per head that fired.
    pub by_head: BTreeMap<String, u64>,
    /// Median time from submission to a moderator's decision, in seconds.
    pub median_seconds_to_human_decision: Option<f64>,
}

/// Readers' reports filed in the period, by what became of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReportCounts {
    pub received: u64,
    /// The comment was removed.
    pub acted_on: u64,
    pub no_action: u64,
    pub open: u64,
    pub by_reason: BTreeMap<String, u64>,
}

/// Appeals filed, and decided, in the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AppealCounts {
    pub filed: u64,
    pub upheld: u64,
    pub overturned: u64,
    /// Appeals of automated decisions decided in the period, and overturned.
    pub automated_decided: u64,
    pub automated_overturned: u64,
    /// `automated_overturned / automated_decided`: how often the thresholds were wrong when
    /// a human looked again. Absent with no such appeal.
    pub automated_overturn_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Transparency {
    pub from: String,
    pub to: String,
    pub decisions: DecisionCounts,
    pub reports: ReportCounts,
    pub appeals: AppealCounts,
}

/// The report of `[from_ms, to_ms)`.
pub async fn report(app: &App, from_ms: i64, to_ms: i64) -> Result<Transparency, StoreError> {
    let rows = app.store.period(from_ms, to_ms).await?;
    Ok(Transparency {
        from: rfc3339(from_ms),
        to: rfc3339(to_ms),
        decisions: decisions(app, &rows),
        reports: reports(&rows),
        appeals: appeals(&rows, from_ms, to_ms),
    })
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    *map.entry(key.to_owned()).or_default() += 1;
}

fn decisions(app: &App, rows: &PeriodRows) -> DecisionCounts {
    let grounds = &app.config.grounds;
    let mut d = DecisionCounts::default();
    for (decision, flagged) in &rows.automated {
        d.automated += 1;
        if decision == "reject" {
            d.automated_removed += 1;
        } else {
            d.automated_withheld += 1;
        }
        restricted(&mut d, &grounds.for_heads(flagged).code, flagged);
    }
    for h in &rows.human {
        d.human += 1;
        if h.action == "reject" {
            d.human_removed += 1;
            let ground = h.ground.as_deref().and_then(|g| grounds.get(g));
            let rule = ground.unwrap_or_else(|| grounds.for_heads(&h.flagged));
            restricted(&mut d, &rule.code, &h.flagged);
        } else {
            d.human_approved += 1;
        }
    }
    let delays: Vec<i64> = rows.human.iter().map(|h| h.delay_ms).collect();
    d.median_seconds_to_human_decision = median(delays).map(|ms| ms / 1000.0);
    d
}

/// Counts one restriction under its rule and the heads that fired.
fn restricted(d: &mut DecisionCounts, ground: &str, flagged: &[String]) {
    bump(&mut d.by_ground, ground);
    for h in flagged {
        bump(&mut d.by_head, h);
    }
}

/// The median of `v` (the mean of the middle two for an even count).
fn median(mut v: Vec<i64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
    })
}

fn reports(rows: &PeriodRows) -> ReportCounts {
    let mut c = ReportCounts::default();
    for r in &rows.reports {
        c.received += 1;
        bump(&mut c.by_reason, &r.reason);
        match super::reports::ReportView::from(r).status {
            "removed" => c.acted_on += 1,
            "no_action" => c.no_action += 1,
            _ => c.open += 1,
        }
    }
    c
}

fn appeals(rows: &PeriodRows, from_ms: i64, to_ms: i64) -> AppealCounts {
    let mut c = AppealCounts::default();
    let within = |t: i64| (from_ms..to_ms).contains(&t);
    for a in &rows.appeals {
        if within(a.filed_at_ms) {
            c.filed += 1;
        }
        let Some(d) = a.decision.as_ref().filter(|d| within(d.at_ms)) else {
            continue;
        };
        let overturned = d.outcome == AppealOutcome::Overturned;
        if overturned {
            c.overturned += 1;
        } else {
            c.upheld += 1;
        }
        if a.decided_by.is_none() {
            c.automated_decided += 1;
            c.automated_overturned += u64::from(overturned);
        }
    }
    c.automated_overturn_rate = (c.automated_decided > 0)
        .then(|| c.automated_overturned as f64 / c.automated_decided as f64);
    c
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_takes_the_middle() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5, 1, 3]), Some(3.0));
        assert_eq!(median(vec![4, 1, 3, 2]), Some(2.5));
    }
}
