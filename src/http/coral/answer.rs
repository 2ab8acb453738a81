//! What Vigie answers Coral, in the shapes Coral's external phase reads
//! (`server/src/core/server/services/comments/pipeline/phases/external.ts`, coralproject/talk
//! commit 27ac2c0a; rejection reasons from `schema.graphql` at fbf51c41: `code`, and the
//! optional `legalGrounds` (Coral's moderation page shows it as "Law broken"),
//! `detailedExplanation` and `customReason`).
//!
//! Coral's `mergePhaseResult` ends the moderation pipeline on any status, and the external
//! phase runs before the pre-moderation phases. So "nothing to say" must be `204 No Content`,
//! never `{"status": "NONE"}`: that would publish the comments of a pre-moderated story or
//! of a new commenter without their review.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::domain::{Decision, Rule};

/// Coral's answer to one comment.
#[derive(Debug, Clone, PartialEq)]
pub enum CoralAnswer {
    /// `204`: Coral goes on with its own phases (pre-moderation included).
    NoOpinion,
    /// Held for a moderator (`SYSTEM_WITHHELD`), with a toxic flag when the model flagged it.
    Withheld { flagged: bool },
    /// Rejected, with the moderation action that makes Coral record it and tell the author.
    Rejected(RejectionReason),
}

/// Coral's `RejectionReason`: `code` from `REJECTION_REASON_CODE`, the rest optional.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CoralRejectionReason)]
pub struct RejectionReason {
    /// `HATE_SPEECH`, `HARASSMENT_BULLYING`, `ABUSIVE`, `OFFENSIVE` or `OTHER`, from the most
    /// serious head that fired.
    pub code: &'static str,
    /// The heads that fired, their scores and the words behind them; then the rule of the
    /// site's terms the statement of reasons cites.
    pub detailed_explanation: String,
    /// The law the statement's rule names (`law` in the grounds file), when it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub legal_grounds: Option<String>,
}

/// The parts of a scored comment the answer is made of, stored or freshly scored.
pub struct Verdict<'a> {
    pub decision: Decision,
    pub flagged: &'a [String],
    pub scores: &'a BTreeMap<String, f32>,
    /// Per flagged head, the words that drove it (`[{"text", …}]`).
    pub explanation: Option<&'a Value>,
    /// The rule of the site's terms a rejection's statement of reasons cites, and the
    /// comment's language (`fr`, `en`) to quote it in.
    pub ground: Option<(&'a Rule, &'a str)>,
}

impl CoralAnswer {
    pub fn from_verdict(v: &Verdict<'_>) -> CoralAnswer {
        match v.decision {
            Decision::Allow => CoralAnswer::NoOpinion,
            Decision::Flag => CoralAnswer::Withheld {
                flagged: !v.flagged.is_empty(),
            },
            Decision::Reject => CoralAnswer::Rejected(rejection_reason(v)),
        }
    }

    /// The response body; `None` for the 204.
    pub fn response(&self) -> Option<CoralResponse> {
        let toxic = || {
            vec![CoralAction {
                action_type: "FLAG",
                reason: "COMMENT_DETECTED_TOXIC",
            }]
        };
        let withheld = |actions| CoralResponse {
            status: "SYSTEM_WITHHELD",
            actions,
            moderation_action: None,
        };
        match self {
            CoralAnswer::NoOpinion => None,
            CoralAnswer::Withheld { flagged: true } => Some(withheld(toxic())),
            CoralAnswer::Withheld { flagged: false } => Some(withheld(Vec::new())),
            CoralAnswer::Rejected(reason) => Some(CoralResponse {
                status: "REJECTED",
                actions: toxic(),
                moderation_action: Some(ModerationAction {
                    status: "REJECTED",
                    rejection_reason: reason.clone(),
                }),
            }),
        }
    }

    /// The JSON body; `None` for the 204.
    pub fn body(&self) -> Option<Value> {
        self.response()
            .map(|r| serde_json::to_value(r).expect("the answer serialises"))
    }
}

/// Coral's `ExternalModerationResponse`, as Vigie fills it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CoralModerationResponse)]
pub struct CoralResponse {
    /// `SYSTEM_WITHHELD` (a moderator reviews it in Coral) or `REJECTED`.
    pub status: &'static str,
    /// The toxic-comment flag, when a head fired.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub actions: Vec<CoralAction>,
    /// With a rejection: makes Coral record the moderation action and tell the author.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moderation_action: Option<ModerationAction>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CoralAction {
    /// `FLAG`.
    pub action_type: &'static str,
    /// `COMMENT_DETECTED_TOXIC`.
    pub reason: &'static str,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModerationAction {
    /// `REJECTED`.
    pub status: &'static str,
    pub rejection_reason: RejectionReason,
}

impl IntoResponse for CoralAnswer {
    fn into_response(self) -> Response {
        match self.response() {
            None => StatusCode::NO_CONTENT.into_response(),
            Some(body) => axum::Json(body).into_response(),
        }
    }
}

/// Heads from the most to the least serious, with the Coral code each one means. A head a
/// site trained itself (`rejected`, say) is `OTHER`.
const CODES: [(&str, &str); 5] = [
    ("identity_attack", "HATE_SPEECH"),
    ("threat", "HARASSMENT_BULLYING"),
    ("insult", "ABUSIVE"),
    ("toxicity", "OFFENSIVE"),
    ("profanity", "OFFENSIVE"),
];

/// The code of the most serious flagged head, and the flagged heads' scores and words.
fn rejection_reason(v: &Verdict<'_>) -> RejectionReason {
    let code = CODES
        .iter()
        .find(|(head, _)| v.flagged.iter().any(|f| f == head))
        .map_or("OTHER", |(_, code)| code);
    let mut detailed_explanation = explain(v);
    if let Some((rule, lang)) = v.ground {
        let text = if lang == "fr" { &rule.fr } else { &rule.en };
        detailed_explanation.push_str(&format!(". Rule {}: {text}", rule.code));
    }
    RejectionReason {
        code,
        detailed_explanation,
        legal_grounds: v.ground.and_then(|(rule, _)| rule.law.clone()),
    }
}

/// `Automated moderation (Vigie): insult 96 % ("connards", "guignols"); toxicity 93 %`.
fn explain(v: &Verdict<'_>) -> String {
    let parts: Vec<String> = v
        .flagged
        .iter()
        .map(|head| {
            let score = v.scores.get(head).copied().unwrap_or(0.0);
            let words: Vec<String> = v
                .explanation
                .and_then(|e| e[head.as_str()].as_array())
                .into_iter()
                .flatten()
                .filter_map(|item| item["text"].as_str())
                .take(3)
                .map(|w| format!("\"{w}\""))
                .collect();
            let pct = (score * 100.0).round();
            if words.is_empty() {
                format!("{head} {pct} %")
            } else {
                format!("{head} {pct} % ({})", words.join(", "))
            }
        })
        .collect();
    format!("Automated moderation (Vigie): {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn verdict<'a>(
        decision: Decision,
        flagged: &'a [String],
        scores: &'a BTreeMap<String, f32>,
        explanation: Option<&'a Value>,
    ) -> CoralAnswer {
        CoralAnswer::from_verdict(&Verdict {
            decision,
            flagged,
            scores,
            explanation,
            ground: None,
        })
    }

    #[test]
    fn allowing_says_nothing_so_premoderation_still_runs() {
        let a = verdict(Decision::Allow, &[], &BTreeMap::new(), None);
        assert_eq!(a, CoralAnswer::NoOpinion);
        assert_eq!(a.body(), None);
        assert_eq!(a.into_response().status(), StatusCode::NO_CONTENT);
    }

    #[test]
    fn rejections_name_the_most_serious_head_and_its_words() {
        let flagged = vec!["toxicity".to_owned(), "identity_attack".to_owned()];
        let scores: BTreeMap<String, f32> =
            [("toxicity".into(), 0.93), ("identity_attack".into(), 0.92)].into();
        let explanation = json!({"identity_attack": [{"text": "bougnoules"}], "toxicity": [{"text": "a"}, {"text": "b"}, {"text": "c"}, {"text": "d"}]});
        let a = verdict(Decision::Reject, &flagged, &scores, Some(&explanation));
        let body = a.body().unwrap();
        assert_eq!(body["status"], "REJECTED");
        let reason = &body["moderationAction"]["rejectionReason"];
        assert_eq!(body["moderationAction"]["status"], "REJECTED");
        assert_eq!(reason["code"], "HATE_SPEECH");
        assert_eq!(
            reason["detailedExplanation"],
            "Automated moderation (Vigie): toxicity 93 % (\"a\", \"b\", \"c\"); identity_attack 92 % (\"bougnoules\")"
        );
    }

    #[test]
    fn every_head_maps_to_a_coral_code() {
        let scores = BTreeMap::new();
        for (head, code) in [
            ("threat", "HARASSMENT_BULLYING"),
            ("insult", "ABUSIVE"),
            ("profanity", "OFFENSIVE"),
            ("toxicity", "OFFENSIVE"),
            ("rejected", "OTHER"),
        ] {
            let flagged = vec![head.to_owned()];
            let CoralAnswer::Rejected(r) = verdict(Decision::Reject, &flagged, &scores, None)
            else {
                panic!("a reject decision rejects");
            };
            assert_eq!(r.code, code, "{head}");
            assert_eq!(
                r.detailed_explanation,
                format!("Automated moderation (Vigie): {head} 0 %")
            );
        }
    }

    #[test]
    fn a_rejection_quotes_the_rule_of_its_statement_and_its_law() {
        let grounds = crate::domain::Grounds::default_grounds();
        let flagged = vec!["insult".to_owned()];
        let scores: BTreeMap<String, f32> = [("insult".into(), 0.96)].into();
        let mut rule = grounds.for_heads(&flagged).clone();
        let answer = |rule: &Rule| {
            CoralAnswer::from_verdict(&Verdict {
                decision: Decision::Reject,
                flagged: &flagged,
                scores: &scores,
                explanation: None,
                ground: Some((rule, "fr")),
            })
            .body()
            .unwrap()
        };
        let reason = answer(&rule)["moderationAction"]["rejectionReason"].clone();
        assert_eq!(reason["code"], "ABUSIVE");
        assert_eq!(
            reason["detailedExplanation"],
            format!(
                "Automated moderation (Vigie): insult 96 %. Rule insult: {}",
                rule.fr
            )
        );
        assert!(reason.get("legalGrounds").is_none(), "{reason}");
        rule.law = Some("Loi du 29 juillet 1881, art. 33".to_owned());
        let reason = answer(&rule)["moderationAction"]["rejectionReason"].clone();
        assert_eq!(reason["legalGrounds"], "Loi du 29 juillet 1881, art. 33");
    }

    #[test]
    fn flags_are_withheld_without_a_moderation_action() {
        // Coral sends the author a rejection notice whenever a moderation action is present.
        let flagged = vec!["insult".to_owned()];
        let body = verdict(Decision::Flag, &flagged, &BTreeMap::new(), None)
            .body()
            .unwrap();
        assert_eq!(
            body,
            json!({"status": "SYSTEM_WITHHELD", "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]})
        );
    }
}
