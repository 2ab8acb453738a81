//! Turns scores into a decision. Thresholds per head come from a TOML config file
//! (`models/thresholds.toml` by default); a head the file does not mention uses the
//! thresholds chosen at training time and stored in the model card.
//!
//! ```toml
//! [heads.toxicity]
//! flag = 0.5      # optional: the model's own when absent
//! reject = 0.95   # optional: the model's own when absent
//! ```
//!
//! A reject threshold below the flag threshold in force is raised to it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::domain::Decision;
use crate::model::{ModelCard, Thresholds};

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    heads: BTreeMap<String, Override>,
}

/// What the file says about one head; absent values come from the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub flag: Option<f32>,
    pub reject: Option<f32>,
}

impl Policy {
    pub fn from_toml(s: &str) -> Result<Self, String> {
        let p: Policy = toml::from_str(s).map_err(|e| e.to_string())?;
        for (head, o) in &p.heads {
            for (name, v) in [("flag", o.flag), ("reject", o.reject)] {
                if v.is_some_and(|v| !(0.0..=1.0).contains(&v)) {
                    return Err(format!("heads.{head}.{name} must lie in [0, 1]"));
                }
            }
            if let (Some(f), Some(r)) = (o.flag, o.reject) {
                Thresholds { flag: f, reject: r }
                    .validate()
                    .map_err(|e| format!("heads.{head}: {e}"))?;
            }
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
        let o = self
            .heads
            .get(head.name.as_str())
            .copied()
            .unwrap_or_default();
        let flag = o.flag.unwrap_or(head.thresholds.flag);
        let reject = o.reject.unwrap_or(head.thresholds.reject).max(flag);
        Thresholds { flag, reject }
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
            Override {
                flag: Some(0.4),
                reject: Some(0.9)
            }
        );
        let only_reject = Policy::from_toml("[heads.toxicity]\nreject = 0.9\n").unwrap();
        assert_eq!(only_reject.heads["toxicity"].flag, None);
        for bad in [
            "[heads.toxicity]\nflag = 0.9\nreject = 0.4\n",
            "[heads.toxicity]\nflag = 1.5\n",
            "[heads.toxicity]\nreject = -1\n",
            "[heads.toxicity]\nfalg = 0.5\n",
            "[other]\n",
        ] {
            assert!(Policy::from_toml(bad).is_err(), "{bad}");
        }
        assert_eq!(Policy::from_toml("").unwrap(), Policy::default());
    }
}
