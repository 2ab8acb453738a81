//! A statement in the submission format of the DSA Transparency Database
//! (<https://transparency.dsa.ec.europa.eu/page/api-documentation>, API v2 at
//! `/page/api-documentation-two`; attribute meanings at
//! `/page/additional-explanation-for-statement-attributes`): field names and enumeration
//! values as the Commission's documentation spells them. `tests/fixtures/dsa/` holds the
//! JSON Schema written from that documentation, against which a test checks this output.
//!
//! No personal data goes in (Art. 24(5)): no text, no author, no words of the comment; the
//! facts name the heads and their scores only.

use serde::Serialize;

use super::{case, App};
use crate::domain::{AutomatedDecision, Grounds, Restriction, Statement};
use crate::store::StoreError;
use crate::util::rfc3339;

/// One statement of reasons, as `POST /api/v1/statement` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = DsaStatementOfReasons)]
pub struct DsaStatement {
    /// `DECISION_VISIBILITY_CONTENT_REMOVED`, or `DECISION_VISIBILITY_OTHER` for a comment
    /// withheld pending review.
    pub decision_visibility: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_visibility_other: Option<String>,
    /// `DECISION_GROUND_INCOMPATIBLE_CONTENT`: the site's terms.
    pub decision_ground: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_ground_reference_url: Option<String>,
    pub incompatible_content_ground: String,
    pub incompatible_content_explanation: String,
    /// `Yes` when the rule names a law (`law` in the grounds file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incompatible_content_illegal: Option<&'static str>,
    /// `CONTENT_TYPE_TEXT`.
    pub content_type: Vec<&'static str>,
    pub category: String,
    pub territorial_scope: Vec<String>,
    /// `FR` or `EN`.
    pub content_language: String,
    /// `YYYY-MM-DD`.
    pub content_date: String,
    pub application_date: String,
    pub decision_facts: String,
    /// `SOURCE_VOLUNTARY`: Vigie's own detection or a moderator's initiative.
    pub source_type: &'static str,
    /// `Yes` or `No`.
    pub automated_detection: &'static str,
    /// `AUTOMATED_DECISION_FULLY`, `…_PARTIALLY` or `…_NOT_AUTOMATED`.
    pub automated_decision: &'static str,
    /// Unique per statement: the comment id (hex-encoded when it holds characters the
    /// database refuses) and the restriction.
    pub puid: String,
}

/// The statement in the database's format.
pub fn to_dsa(s: &Statement, grounds: &Grounds) -> DsaStatement {
    let (visibility, other) = match s.restriction {
        Restriction::Removed => ("DECISION_VISIBILITY_CONTENT_REMOVED", None),
        Restriction::WithheldPendingReview => (
            "DECISION_VISIBILITY_OTHER",
            Some("Withheld pending review by a moderator".to_owned()),
        ),
    };
    DsaStatement {
        decision_visibility: vec![visibility],
        decision_visibility_other: other,
        decision_ground: "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        decision_ground_reference_url: s.ground.url.clone(),
        incompatible_content_ground: cut(&format!("Site terms, rule {}", s.ground.code), 500),
        incompatible_content_explanation: cut(&s.ground.en, 2000),
        incompatible_content_illegal: s.ground.law.as_ref().map(|_| "Yes"),
        content_type: vec!["CONTENT_TYPE_TEXT"],
        category: s.ground.category.clone(),
        territorial_scope: grounds.territorial_scope.clone(),
        content_language: s.lang.to_ascii_uppercase(),
        content_date: day(s.content_at_ms),
        application_date: day(s.decided_at_ms),
        decision_facts: cut(&facts(s), 5000),
        source_type: "SOURCE_VOLUNTARY",
        automated_detection: if s.automated_detection { "Yes" } else { "No" },
        automated_decision: match s.automated_decision {
            AutomatedDecision::Fully => "AUTOMATED_DECISION_FULLY",
            AutomatedDecision::Partially => "AUTOMATED_DECISION_PARTIALLY",
            AutomatedDecision::Not => "AUTOMATED_DECISION_NOT_AUTOMATED",
        },
        puid: puid(&s.comment_id, s.restriction),
    }
}

/// The facts without personal data: which heads fired and how strongly, and who decided.
fn facts(s: &Statement) -> String {
    let heads: Vec<String> = s
        .facts
        .iter()
        .map(|f| format!("{} {:.2}", f.head, f.score))
        .collect();
    let detected = if heads.is_empty() {
        "No automated classifier score was over the site's thresholds.".to_owned()
    } else {
        format!(
            "Automated classifier scores over the site's thresholds: {}.",
            heads.join(", ")
        )
    };
    let decided = match (s.restriction, s.automated_decision) {
        (Restriction::WithheldPendingReview, _) => {
            "The comment is withheld until a moderator reviews it."
        }
        (_, AutomatedDecision::Fully) => "The scores were over the site's rejection thresholds.",
        _ => "A moderator rejected the comment.",
    };
    format!("{detected} {decided}")
}

/// At most `max` characters.
fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// `YYYY-MM-DD` (UTC).
fn day(ms: i64) -> String {
    rfc3339(ms)[..10].to_owned()
}

/// The database takes `[A-Za-z0-9_-]` only: other ids are hex-encoded (`x…`), so two ids
/// never share a puid.
fn puid(id: &str, r: Restriction) -> String {
    let clean = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let id = if clean && !id.starts_with('x') {
        id.to_owned()
    } else {
        format!("x{}", crate::util::hex(id.as_bytes()))
    };
    let kind = match r {
        Restriction::Removed => "removed",
        Restriction::WithheldPendingReview => "withheld",
    };
    format!("{id}-{kind}")
}

/// Most statements one export returns.
pub const MAX_EXPORT: i64 = 10_000;

/// The statements of the comments restricted or last changed in `[from_ms, to_ms)`.
pub async fn export(app: &App, from_ms: i64, to_ms: i64) -> Result<Vec<DsaStatement>, StoreError> {
    let grounds = &app.config.grounds;
    let restricted = app.store.restricted(from_ms, to_ms, MAX_EXPORT).await?;
    Ok(restricted
        .iter()
        .filter_map(|(c, events)| Statement::derive(&case(c, events), grounds))
        .map(|s| to_dsa(&s, grounds))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn puids_hold_only_what_the_database_takes_and_stay_unique() {
        let ok = |p: &str| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        let a = puid("art42:c1", Restriction::Removed);
        let b = puid("art42.c1", Restriction::Removed);
        assert!(ok(&a) && ok(&b) && a != b, "{a} {b}");
        assert_eq!(puid("c-1", Restriction::Removed), "c-1-removed");
        assert_ne!(
            puid("c-1", Restriction::Removed),
            puid("c-1", Restriction::WithheldPendingReview)
        );
        assert_ne!(
            puid("x41", Restriction::Removed),
            puid("A", Restriction::Removed)
        );
    }
}
