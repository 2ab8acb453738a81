//! Turns scores into a decision. Thresholds per head come from a TOML config file
//! (`models/thresholds.toml` by default); a head the file does not mention uses the
//! thresholds chosen at training time and stored in the model card.
//!
//! ```toml
//! [heads.toxicity]
//! flag = 0.5
//! reject = 0.95
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::domain::Decision;
use crate::model::{ModelCard, Thresholds};

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    heads: BTreeMap<String, Thresholds>,
}

impl Policy {
    pub fn from_toml(s: &str) -> Result<Self, String> {
        let p: Policy = toml::from_str(s).map_err(|e| e.to_string())?;
        for (head, t) in &p.heads {
            t.validate().map_err(|e| format!("heads.{head}: {e}"))?;
        }
        Ok(p)
    }

    pub fn load(path: &Path) -> Result<Self, String> {
        let s = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_toml(&s).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Heads the file names that the model does not have (worth a warning).
    pub fn unknown_heads(&self, card: &ModelCard) -> Vec<String> {
        self.heads
            .keys()
            .filter(|h| card.head(h).is_none())
            .cloned()
            .collect()
    }

    /// The thresholds in force for head number `i` of the model.
    pub fn thresholds(&self, card: &ModelCard, i: usize) -> Thresholds {
        let head = &card.heads[i];
        self.heads
            .get(head.name.as_str())
            .copied()
            .unwrap_or(head.thresholds)
    }

    /// Reject if any head reaches its reject threshold, flag if any reaches its flag
    /// threshold, else allow. Also returns the indices of the heads at or over `flag`.
    pub fn decide(&self, card: &ModelCard, probabilities: &[f32]) -> (Decision, Vec<usize>) {
        let mut decision = Decision::Allow;
        let mut flagged = Vec::new();
        for (i, &p) in probabilities.iter().enumerate() {
            let t = self.thresholds(card, i);
            if p >= t.reject {
                decision = Decision::Reject;
            } else if p >= t.flag && decision == Decision::Allow {
                decision = Decision::Flag;
            }
            if p >= t.flag {
                flagged.push(i);
            }
        }
        (decision, flagged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let p = Policy::from_toml("[heads.toxicity]\nflag = 0.4\nreject = 0.9\n").unwrap();
        assert_eq!(
            p.heads["toxicity"],
            Thresholds {
                flag: 0.4,
                reject: 0.9
            }
        );
        assert!(Policy::from_toml("[heads.toxicity]\nflag = 0.9\nreject = 0.4\n").is_err());
        assert!(Policy::from_toml("[heads.toxicity]\nflag = 1.5\nreject = 2\n").is_err());
        assert!(Policy::from_toml("[heads.toxicity]\nflag = 0.5\n").is_err());
        assert!(Policy::from_toml("[other]\n").is_err());
        assert_eq!(Policy::from_toml("").unwrap(), Policy::default());
    }
}
