use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ParseError;

/// Stance toward a target, as in SemEval-2016 Task 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stance {
    Favor,
    Against,
    None,
}

impl Stance {
    /// Class order used by every stance model: index = position here.
    pub const ALL: [Stance; 3] = [Stance::Favor, Stance::Against, Stance::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Stance::Favor => "favor",
            Stance::Against => "against",
            Stance::None => "none",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl FromStr for Stance {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "favor" | "favour" => Ok(Stance::Favor),
            "against" => Ok(Stance::Against),
            "none" | "neutral" => Ok(Stance::None),
            other => Err(ParseError::new("stance", other, "favor, against or none")),
        }
    }
}

impl fmt::Display for Stance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the policy says about a scored comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Publish.
    Allow,
    /// Hold for a moderator.
    Flag,
    /// Over a reject threshold: refuse.
    Reject,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Flag => "flag",
            Decision::Reject => "reject",
        }
    }
}

impl FromStr for Decision {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "allow" => Ok(Decision::Allow),
            "flag" => Ok(Decision::Flag),
            "reject" => Ok(Decision::Reject),
            _ => Err(ParseError::new("decision", s, "allow, flag or reject")),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A binary head's name (`toxicity`, `insult`, or one a site trains, like `rejected`):
/// lowercase ASCII letters, digits and `_`, starting with a letter, at most 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HeadName(String);

impl HeadName {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut bytes = s.bytes();
        let ok = s.len() <= 64
            && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
            && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok && s != "stance" {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "invalid head name {s:?}: use lowercase letters, digits and '_', starting with a letter (and not 'stance')"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for HeadName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        HeadName::parse(&s)
    }
}

impl From<HeadName> for String {
    fn from(h: HeadName) -> String {
        h.0
    }
}

impl fmt::Display for HeadName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stance_round_trips_and_orders() {
        for s in Stance::ALL {
            assert_eq!(s.as_str().parse::<Stance>(), Ok(s));
            assert_eq!(Stance::ALL[s.index()], s);
        }
        assert!("pro".parse::<Stance>().is_err());
    }

    #[test]
    fn decisions_order_by_severity_and_round_trip() {
        assert!(Decision::Allow < Decision::Flag && Decision::Flag < Decision::Reject);
        for d in [Decision::Allow, Decision::Flag, Decision::Reject] {
            assert_eq!(d.as_str().parse::<Decision>(), Ok(d));
        }
        assert_eq!(
            "block".parse::<Decision>().unwrap_err(),
            ParseError::new("decision", "block", "allow, flag or reject")
        );
    }

    #[test]
    fn head_names() {
        assert!(HeadName::parse("identity_attack").is_ok());
        assert!(HeadName::parse("rejected").is_ok());
        assert!(HeadName::parse("stance").is_err());
        assert!(HeadName::parse("1abc").is_err());
        assert!(HeadName::parse("Toxicity").is_err());
        assert!(HeadName::parse("").is_err());
    }
}
