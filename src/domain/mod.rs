//! The moderation vocabulary: what a comment is, what a score says, what a decision is.
//! Nothing here knows about HTTP or SQL; every newtype validates in `parse()`, every enum
//! reads its own words with `FromStr`, whose error is a [`ParseError`].

mod appeal;
mod comment;
mod models;
mod queue;
mod scores;
mod statement;

pub use appeal::{AppealOutcome, FreeText, FreeTextError};
pub use comment::{CommentText, Lang, ScorablePrefix, Target, TextError};
pub use models::{ActivationReason, ModelId};
pub use queue::{CommentId, CommentStatus, ModeratorAction, Role};
pub use scores::{Decision, HeadName, Stance};
pub use statement::{
    AutomatedDecision, Case, DecidedBy, Fact, Grounds, HumanDecision, Restriction, Rule, Statement,
    DSA_CATEGORIES,
};

/// A word that names none of a domain enum's values: which enum, the word, and the words
/// it knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}: expected {expected}")]
pub struct ParseError {
    /// What was being read, e.g. `status`.
    pub what: &'static str,
    pub value: String,
    /// The accepted words, e.g. `scorer, moderator or admin`.
    pub expected: &'static str,
}

impl ParseError {
    pub fn new(what: &'static str, value: &str, expected: &'static str) -> Self {
        Self {
            what,
            value: value.to_owned(),
            expected,
        }
    }
}
