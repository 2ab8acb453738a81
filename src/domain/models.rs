use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ParseError;

/// A model's id (`ModelCard::model_id`) as the model registry keeps it: 1 to 128 ASCII
/// letters, digits, `.`, `_` or `-`, not starting with `.`, so `<id>.vigie` is a plain file
/// name in the models directory (no path separator, no hidden file, no `..`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ModelId(String);

impl ModelId {
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && !s.starts_with('.')
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "model id {s:?} cannot name a file: use 1 to 128 ASCII letters, digits, '.', '_' \
                 or '-', not starting with '.'"
            ))
        }
    }

    /// The model's file in the models directory: `<id>.vigie`.
    pub fn file_name(&self) -> String {
        format!("{}.vigie", self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ModelId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        ModelId::parse(&s)
    }
}

impl From<ModelId> for String {
    fn from(m: ModelId) -> String {
        m.0
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a model was made the one to serve (an entry of its activation history).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivationReason {
    /// `serve` started with it and no model was active yet.
    Startup,
    /// `POST /v1/admin/model/reload` read it from `serve --model`'s path.
    Reload,
    /// An admin chose it (`POST /v1/admin/models/{id}/activate`): back to an earlier
    /// model, or forward again.
    Rollback,
    /// A retraining promoted it over the model serving.
    Retrain,
}

impl ActivationReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivationReason::Startup => "startup",
            ActivationReason::Reload => "reload",
            ActivationReason::Rollback => "rollback",
            ActivationReason::Retrain => "retrain",
        }
    }
}

impl FromStr for ActivationReason {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "startup" => Ok(ActivationReason::Startup),
            "reload" => Ok(ActivationReason::Reload),
            "rollback" => Ok(ActivationReason::Rollback),
            "retrain" => Ok(ActivationReason::Retrain),
            _ => Err(ParseError::new(
                "activation reason",
                s,
                "startup, reload, rollback or retrain",
            )),
        }
    }
}

impl fmt::Display for ActivationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_are_plain_file_names() {
        let id = ModelId::parse("default-0a1b2c3d4e5f").unwrap();
        assert_eq!(id.file_name(), "default-0a1b2c3d4e5f.vigie");
        assert!(ModelId::parse("site_v2.1").is_ok());
        for bad in ["", ".", "..", ".hidden", "a/b", "..\\x", "a b", "é", "a\0b"] {
            assert!(ModelId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ModelId::parse(&"x".repeat(128)).is_ok());
        assert!(ModelId::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn activation_reasons_round_trip_and_name_the_bad_word() {
        use ActivationReason::*;
        for r in [Startup, Reload, Rollback, Retrain] {
            assert_eq!(r.as_str().parse::<ActivationReason>(), Ok(r));
        }
        assert_eq!(
            "boot".parse::<ActivationReason>().unwrap_err().to_string(),
            "unknown activation reason \"boot\": expected startup, reload, rollback or retrain"
        );
    }
}
