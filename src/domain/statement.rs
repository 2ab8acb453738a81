//! Statements of reasons (Digital Services Act, Art. 17): what a restriction of a comment
//! owes its author. A statement is derived from what is stored (the comment's decision,
//! scores, explanation and history) and the site's [`Grounds`]; nothing here knows HTTP or
//! SQL. The grounds are the rules of the site's terms, read from a TOML file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{CommentStatus, Decision};

/// How the comment was restricted (Art. 17(1)(a)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Restriction {
    /// Refused: never shown (a `reject` by threshold, or a moderator's).
    Removed,
    /// Visibility: withheld pending a moderator's review (a `flag`).
    WithheldPendingReview,
}

impl Restriction {
    /// The kind of restriction: every restriction of a comment restricts its visibility.
    pub fn kind(self) -> &'static str {
        "visibility"
    }
}

/// Whether the decision was taken by automated means (Art. 17(3)(c)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AutomatedDecision {
    /// The policy's thresholds decided alone.
    Fully,
    /// Automated means took part in a human's decision.
    Partially,
    /// A human decided.
    Not,
}

/// Who decided. A moderator is never named: the law asks whether a human decided, not who.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// The model's scores against the site's thresholds.
    Automated,
    /// A moderator.
    Moderator,
}

/// One head that fired: its score and the words that drove it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    pub head: String,
    pub score: f32,
    pub words: Vec<String>,
}

/// A rule of the site's terms a restriction can rest on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The code moderators give (`insult`) and statements cite.
    pub code: String,
    /// The rule as the site's terms state it, in French and in English.
    pub fr: String,
    pub en: String,
    /// The heads whose firing this rule covers by default.
    #[serde(default)]
    pub heads: Vec<String>,
    /// The DSA Transparency Database's category (`STATEMENT_CATEGORY_…`).
    pub category: String,
    /// Where the terms state the rule.
    #[serde(default)]
    pub url: Option<String>,
    /// The law the rule also rests on, when the content is illegal too (e.g. `Loi du 29
    /// juillet 1881, art. 33`): Coral's `legalGrounds`, the Transparency Database's
    /// `incompatible_content_illegal`.
    #[serde(default)]
    pub law: Option<String>,
}

/// The site's rules, in the order of its file; the first a head maps to is its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grounds {
    /// The rule a restriction rests on when no other applies (a moderator gave no ground
    /// and the model flagged nothing).
    pub fallback: String,
    /// Where the restriction applies: ISO 3166-1 alpha-2 codes (the Transparency
    /// Database's `territorial_scope`).
    pub territorial_scope: Vec<String>,
    #[serde(rename = "rule")]
    pub rules: Vec<Rule>,
}

/// The Transparency Database's `category` values (API v2).
pub const DSA_CATEGORIES: [&str; 16] = [
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
];

/// The grounds committed with Vigie (`models/grounds.toml`), used when `serve` is given none.
pub const DEFAULT_GROUNDS: &str = include_str!("../../models/grounds.toml");

impl Grounds {
    /// Reads and checks a grounds file: codes unique and non-empty, texts non-empty,
    /// categories the Transparency Database knows, the fallback a listed code.
    pub fn parse(toml_text: &str) -> Result<Grounds, String> {
        let g: Grounds = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        let mut seen = std::collections::BTreeSet::new();
        for r in &g.rules {
            if r.code.trim().is_empty() || r.fr.trim().is_empty() || r.en.trim().is_empty() {
                return Err(format!(
                    "rule {:?}: code, fr and en must not be empty",
                    r.code
                ));
            }
            if !seen.insert(r.code.as_str()) {
                return Err(format!("rule {:?} is listed twice", r.code));
            }
            if !DSA_CATEGORIES.contains(&r.category.as_str()) {
                return Err(format!(
                    "rule {:?}: unknown category {:?}",
                    r.code, r.category
                ));
            }
        }
        if g.get(&g.fallback).is_none() {
            return Err(format!("fallback {:?} is not a listed rule", g.fallback));
        }
        Ok(g)
    }

    /// The default grounds.
    pub fn default_grounds() -> Grounds {
        Grounds::parse(DEFAULT_GROUNDS).expect("the committed models/grounds.toml is valid")
    }

    pub fn get(&self, code: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.code == code)
    }

    /// The codes, for an error message.
    pub fn codes(&self) -> String {
        let codes: Vec<&str> = self.rules.iter().map(|r| r.code.as_str()).collect();
        codes.join(", ")
    }

    /// The rule of the most serious head that fired (the first rule, in file order, that
    /// covers one of `heads`), else the fallback.
    pub fn for_heads(&self, heads: &[String]) -> &Rule {
        self.rules
            .iter()
            .find(|r| r.heads.iter().any(|h| heads.contains(h)))
            .or_else(|| self.get(&self.fallback))
            .expect("the fallback is a listed rule")
    }
}

/// A moderator's latest decision on a comment, as the history holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct HumanDecision {
    pub at_ms: i64,
    /// The ground code the moderator named, if any.
    pub ground: Option<String>,
}

/// What a statement is derived from: the stored comment and its history.
#[derive(Debug, Clone)]
pub struct Case<'a> {
    pub comment_id: &'a str,
    pub status: CommentStatus,
    /// The model's decision at submission.
    pub decision: Decision,
    pub lang: &'a str,
    pub scores: &'a BTreeMap<String, f32>,
    pub flagged: &'a [String],
    /// Per flagged head, the words that drove it.
    pub words: BTreeMap<String, Vec<String>>,
    pub created_at_ms: i64,
    /// The latest moderator `reject` when it is what the status is now.
    pub human: Option<HumanDecision>,
}

/// A statement of reasons, with every element of Art. 17(3) and nothing about anyone but
/// the comment it restricts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    pub comment_id: String,
    pub restriction: Restriction,
    /// When the content was posted, ms since the epoch.
    pub content_at_ms: i64,
    /// When the restriction began.
    pub decided_at_ms: i64,
    pub decided_by: DecidedBy,
    pub facts: Vec<Fact>,
    pub automated_detection: bool,
    pub automated_decision: AutomatedDecision,
    pub ground: Rule,
    /// The comment's language (`fr`, `en`).
    pub lang: String,
}

impl Statement {
    /// The statement a comment is owed now: `None` when it is not restricted (published,
    /// approved). Rejected by a moderator: a human decision, detected by automated means
    /// when the model had flagged it; rejected at submission: detected and decided by
    /// automated means; held for review (`flag`): withheld by automated means.
    pub fn derive(case: &Case<'_>, grounds: &Grounds) -> Option<Statement> {
        let detected = case.decision != Decision::Allow;
        let (restriction, decided_by, automated, at_ms, ground) = match case.status {
            CommentStatus::Rejected => match &case.human {
                Some(h) => (
                    Restriction::Removed,
                    DecidedBy::Moderator,
                    AutomatedDecision::Not,
                    h.at_ms,
                    h.ground.as_deref().and_then(|g| grounds.get(g)),
                ),
                None => (
                    Restriction::Removed,
                    DecidedBy::Automated,
                    AutomatedDecision::Fully,
                    case.created_at_ms,
                    None,
                ),
            },
            CommentStatus::Pending if case.decision == Decision::Flag => (
                Restriction::WithheldPendingReview,
                DecidedBy::Automated,
                AutomatedDecision::Fully,
                case.created_at_ms,
                None,
            ),
            _ => return None,
        };
        let ground = ground.unwrap_or_else(|| grounds.for_heads(case.flagged));
        Some(Statement {
            comment_id: case.comment_id.to_owned(),
            restriction,
            content_at_ms: case.created_at_ms,
            decided_at_ms: at_ms,
            decided_by,
            facts: facts(case),
            automated_detection: detected,
            automated_decision: automated,
            ground: ground.clone(),
            lang: case.lang.to_owned(),
        })
    }
}

/// The heads that fired, highest score first, with their words.
fn facts(case: &Case<'_>) -> Vec<Fact> {
    let mut facts: Vec<Fact> = case
        .flagged
        .iter()
        .map(|h| Fact {
            head: h.clone(),
            score: case.scores.get(h).copied().unwrap_or(0.0),
            words: case.words.get(h).cloned().unwrap_or_default(),
        })
        .collect();
    facts.sort_by(|a, b| b.score.total_cmp(&a.score));
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case<'a>(
        status: CommentStatus,
        decision: Decision,
        scores: &'a BTreeMap<String, f32>,
        flagged: &'a [String],
        human: Option<HumanDecision>,
    ) -> Case<'a> {
        Case {
            comment_id: "c1",
            status,
            decision,
            lang: "fr",
            scores,
            flagged,
            words: BTreeMap::from([("insult".to_owned(), vec!["c0nnard".to_owned()])]),
            created_at_ms: 1_000,
            human,
        }
    }

    #[test]
    fn the_default_grounds_load_and_map_heads() {
        let g = Grounds::default_grounds();
        assert_eq!(g.for_heads(&["insult".to_owned()]).code, "insult");
        assert_eq!(g.for_heads(&[]).code, g.fallback);
        assert!(g.territorial_scope.contains(&"FR".to_owned()));
    }

    #[test]
    fn bad_grounds_are_refused() {
        let bad_category = "fallback = \"x\"\nterritorial_scope = [\"FR\"]\n[[rule]]\ncode = \"x\"\nfr = \"a\"\nen = \"b\"\ncategory = \"STATEMENT_CATEGORY_NOPE\"\n";
        assert!(Grounds::parse(bad_category)
            .unwrap_err()
            .contains("category"));
        let bad_fallback = bad_category
            .replace("STATEMENT_CATEGORY_NOPE", "STATEMENT_CATEGORY_VIOLENCE")
            .replace("fallback = \"x\"", "fallback = \"y\"");
        assert!(Grounds::parse(&bad_fallback)
            .unwrap_err()
            .contains("fallback"));
    }

    #[test]
    fn each_restriction_gets_its_statement() {
        let g = Grounds::default_grounds();
        let scores = BTreeMap::from([("insult".to_owned(), 0.97), ("toxicity".to_owned(), 0.5)]);
        let flagged = ["insult".to_owned()];
        let auto = Statement::derive(
            &case(
                CommentStatus::Rejected,
                Decision::Reject,
                &scores,
                &flagged,
                None,
            ),
            &g,
        )
        .unwrap();
        assert_eq!(auto.restriction, Restriction::Removed);
        assert_eq!(auto.automated_decision, AutomatedDecision::Fully);
        assert!(auto.automated_detection);
        assert_eq!(auto.facts[0].words, ["c0nnard"]);
        assert_eq!(auto.ground.code, "insult");

        let human = HumanDecision {
            at_ms: 5_000,
            ground: Some("threat".to_owned()),
        };
        let by_hand = Statement::derive(
            &case(
                CommentStatus::Rejected,
                Decision::Allow,
                &scores,
                &[],
                Some(human),
            ),
            &g,
        )
        .unwrap();
        assert_eq!(
            (
                by_hand.decided_by,
                by_hand.automated_decision,
                by_hand.automated_detection
            ),
            (DecidedBy::Moderator, AutomatedDecision::Not, false)
        );
        assert_eq!(
            (by_hand.ground.code.as_str(), by_hand.decided_at_ms),
            ("threat", 5_000)
        );

        let held = Statement::derive(
            &case(
                CommentStatus::Pending,
                Decision::Flag,
                &scores,
                &flagged,
                None,
            ),
            &g,
        )
        .unwrap();
        assert_eq!(held.restriction, Restriction::WithheldPendingReview);

        for status in [CommentStatus::Published, CommentStatus::Approved] {
            assert!(
                Statement::derive(&case(status, Decision::Allow, &scores, &[], None), &g).is_none()
            );
        }
    }
}
