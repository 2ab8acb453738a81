//! Appeals (Digital Services Act, Art. 20): an author contests the restriction of a comment
//! with a text, and a moderator, never the one who decided, upholds or overturns it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{ModeratorAction, ParseError};

/// How an appeal ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppealOutcome {
    /// The restriction stands, now as a human's decision: the comment is rejected.
    Upheld,
    /// The restriction was wrong: the comment is approved.
    Overturned,
}

impl AppealOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AppealOutcome::Upheld => "upheld",
            AppealOutcome::Overturned => "overturned",
        }
    }

    /// The moderator decision it amounts to in the comment's history (and its labels).
    pub fn action(self) -> ModeratorAction {
        match self {
            AppealOutcome::Upheld => ModeratorAction::Reject,
            AppealOutcome::Overturned => ModeratorAction::Approve,
        }
    }
}

impl FromStr for AppealOutcome {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "upheld" => Ok(AppealOutcome::Upheld),
            "overturned" => Ok(AppealOutcome::Overturned),
            _ => Err(ParseError::new("outcome", s, "upheld or overturned")),
        }
    }
}

impl fmt::Display for AppealOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an author or a moderator writes (an appeal, an appeal's reasons, a report): trimmed,
/// 1 to [`FreeText::MAX_CHARS`] characters, no NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeText(String);

/// Why a free text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FreeTextError {
    #[error("{0} is empty")]
    Empty(&'static str),
    #[error("{what} is {len} characters long; the limit is {max}")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{0} holds a NUL character")]
    Nul(&'static str),
}

impl FreeText {
    pub const MAX_CHARS: usize = 2000;

    /// `what` names the field in the error (`text`, `reason`).
    pub fn parse(what: &'static str, s: &str) -> Result<FreeText, FreeTextError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(FreeTextError::Empty(what));
        }
        if s.contains('\0') {
            return Err(FreeTextError::Nul(what));
        }
        let len = s.chars().count();
        if len > Self::MAX_CHARS {
            return Err(FreeTextError::TooLong {
                what,
                len,
                max: Self::MAX_CHARS,
            });
        }
        Ok(FreeText(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_their_words_and_map_to_decisions() {
        assert_eq!(
            "overturned".parse::<AppealOutcome>().unwrap().action(),
            ModeratorAction::Approve
        );
        assert_eq!(
            "upheld".parse::<AppealOutcome>().unwrap().action(),
            ModeratorAction::Reject
        );
        let e = "maybe".parse::<AppealOutcome>().unwrap_err();
        assert!(e.to_string().contains("upheld or overturned"), "{e}");
    }

    #[test]
    fn free_text_is_trimmed_and_bounded() {
        assert_eq!(FreeText::parse("text", "  ok ").unwrap().as_str(), "ok");
        assert_eq!(
            FreeText::parse("text", " \n "),
            Err(FreeTextError::Empty("text"))
        );
        assert!(matches!(
            FreeText::parse("text", &"é".repeat(2001)),
            Err(FreeTextError::TooLong { len: 2001, .. })
        ));
        assert_eq!(
            FreeText::parse("reason", "a\0b"),
            Err(FreeTextError::Nul("reason"))
        );
    }
}
