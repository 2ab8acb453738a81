use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ParseError;

/// Where a stored comment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentStatus {
    /// Allowed by the model and shown.
    Published,
    /// Flagged by the model, held for a moderator.
    Pending,
    /// Approved by a moderator.
    Approved,
    /// Over a reject threshold, or rejected by a moderator.
    Rejected,
}

impl CommentStatus {
    pub const ALL: [CommentStatus; 4] = [
        CommentStatus::Published,
        CommentStatus::Pending,
        CommentStatus::Approved,
        CommentStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommentStatus::Published => "published",
            CommentStatus::Pending => "pending",
            CommentStatus::Approved => "approved",
            CommentStatus::Rejected => "rejected",
        }
    }

    /// The status the model's decision gives a new comment.
    pub fn from_decision(d: super::Decision) -> Self {
        match d {
            super::Decision::Allow => CommentStatus::Published,
            super::Decision::Flag => CommentStatus::Pending,
            super::Decision::Reject => CommentStatus::Rejected,
        }
    }
}

impl FromStr for CommentStatus {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        CommentStatus::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ParseError::new("status", s, "published, pending, approved or rejected"))
    }
}

impl fmt::Display for CommentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A moderator's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModeratorAction {
    Approve,
    Reject,
}

impl ModeratorAction {
    pub fn status(self) -> CommentStatus {
        match self {
            ModeratorAction::Approve => CommentStatus::Approved,
            ModeratorAction::Reject => CommentStatus::Rejected,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ModeratorAction::Approve => "approve",
            ModeratorAction::Reject => "reject",
        }
    }
}

impl FromStr for ModeratorAction {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "approve" => Ok(ModeratorAction::Approve),
            "reject" => Ok(ModeratorAction::Reject),
            _ => Err(ParseError::new("action", s, "approve or reject")),
        }
    }
}

impl fmt::Display for ModeratorAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A comment's id: the site's own id when it gives one (so retries are idempotent), else
/// one Vigie generates. 1 to 128 ASCII letters, digits, `.`, `_`, `:` or `-`, so it can
/// stand in a URL path as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CommentId(String);

impl CommentId {
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        // `.` and `..` are path segments: a browser rewrites `/moderation/comments/../decide`
        // before sending it, so such a comment could never be decided from its card.
        if s == "." || s == ".." {
            return Err(format!(
                "invalid comment id {s:?}: \".\" and \"..\" are path segments, not ids"
            ));
        }
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "invalid comment id {s:?}: use 1 to 128 ASCII letters, digits, '.', '_', ':' or '-'"
            ))
        }
    }

    /// A new time-ordered id (UUID v7).
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CommentId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        CommentId::parse(&s)
    }
}

impl From<CommentId> for String {
    fn from(c: CommentId) -> String {
        c.0
    }
}

impl fmt::Display for CommentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an API key may do. Each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Score comments and submit them.
    Scorer,
    /// Also: the queue, decisions, histories.
    Moderator,
    /// Also: model reload, label export, keys.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Scorer => "scorer",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "scorer" => Ok(Role::Scorer),
            "moderator" => Ok(Role::Moderator),
            "admin" => Ok(Role::Admin),
            _ => Err(ParseError::new("role", s, "scorer, moderator or admin")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Decision;

    #[test]
    fn statuses_round_trip() {
        for s in CommentStatus::ALL {
            assert_eq!(s.as_str().parse::<CommentStatus>(), Ok(s));
        }
        assert!("deleted".parse::<CommentStatus>().is_err());
        assert_eq!(
            CommentStatus::from_decision(Decision::Flag),
            CommentStatus::Pending
        );
        assert_eq!(
            CommentStatus::from_decision(Decision::Allow),
            CommentStatus::Published
        );
        assert_eq!(ModeratorAction::Reject.status(), CommentStatus::Rejected);
    }

    #[test]
    fn comment_ids() {
        assert!(CommentId::parse("coral:comment-42_a.b").is_ok());
        assert!(CommentId::parse("").is_err());
        assert!(CommentId::parse("a/b").is_err());
        assert!(CommentId::parse("a b").is_err());
        assert!(CommentId::parse("é").is_err());
        assert!(CommentId::parse(".").is_err());
        assert!(CommentId::parse("..").is_err());
        assert!(CommentId::parse("...").is_ok());
        assert!(CommentId::parse(&"x".repeat(129)).is_err());
        let a = CommentId::generate();
        assert!(CommentId::parse(a.as_str()).is_ok());
        assert_ne!(a, CommentId::generate());
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Scorer < Role::Moderator && Role::Moderator < Role::Admin);
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn actions_round_trip_and_name_the_bad_word() {
        for a in [ModeratorAction::Approve, ModeratorAction::Reject] {
            assert_eq!(a.as_str().parse::<ModeratorAction>(), Ok(a));
        }
        let e = "Approve".parse::<ModeratorAction>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown action \"Approve\": expected approve or reject"
        );
        assert_eq!(
            "x".parse::<CommentStatus>().unwrap_err().to_string(),
            "unknown status \"x\": expected published, pending, approved or rejected"
        );
    }
}
