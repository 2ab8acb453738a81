//! Training-set manifests (`training/sources.toml`, the default model's; `sources.real.toml`
//! with the real corpora): which files a model trains on, and how much each item of each
//! file weighs in the loss.
//!
//! Weights exist because the sources differ by two orders of magnitude in size: 25k tweets
//! at weight 1 would drown the project's own 1,200 news comments, the domain the model
//! serves. A weight multiplies every item's loss (and its class weight, if any); it changes
//! neither the vocabulary nor the folds.
//!
//! ```toml
//! [[source]]
//! path = "corpus.jsonl"          # relative to the manifest's folder
//!
//! [[source]]
//! path = "real/davidson.jsonl"
//! weight = 0.2                   # default 1
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One training file and the weight of its items.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub path: PathBuf,
    pub weight: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    source: Vec<RawSource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    path: PathBuf,
    #[serde(default = "unit_weight")]
    weight: f64,
}

fn unit_weight() -> f64 {
    1.0
}

/// A weight must be a positive finite number: a source to leave out is removed (or
/// commented out) from the manifest, not given weight 0, so that its items do not shape the
/// vocabulary either.
fn check_weight(weight: f64) -> Result<f64, String> {
    if weight.is_finite() && weight > 0.0 {
        Ok(weight)
    } else {
        Err(format!("weight must be a positive number, got {weight}"))
    }
}

/// Parses a manifest held in memory; relative paths are resolved against `dir` (the
/// manifest's folder), so the manifest works from any working directory.
pub fn parse_manifest(dir: &Path, content: &str) -> Result<Vec<Source>, String> {
    let raw: RawManifest = toml::from_str(content).map_err(|e| e.to_string())?;
    if raw.source.is_empty() {
        return Err("no [[source]] entry".into());
    }
    raw.source
        .into_iter()
        .map(|s| {
            let weight =
                check_weight(s.weight).map_err(|e| format!("{}: {e}", s.path.display()))?;
            Ok(Source {
                path: dir.join(&s.path),
                weight,
            })
        })
        .collect()
}

/// Reads a manifest file (see [`parse_manifest`]).
pub fn read_manifest(path: &Path) -> Result<Vec<Source>, String> {
    let content = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new(""));
    parse_manifest(dir, &content).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_paths_relative_to_the_manifest_and_default_weights() {
        let s = parse_manifest(
            Path::new("training"),
            "[[source]]\npath = \"corpus.jsonl\"\n\n[[source]]\npath = \"/abs/x.jsonl\"\nweight = 0.2\n",
        )
        .unwrap();
        assert_eq!(
            s,
            vec![
                Source {
                    path: PathBuf::from("training/corpus.jsonl"),
                    weight: 1.0
                },
                Source {
                    path: PathBuf::from("/abs/x.jsonl"),
                    weight: 0.2
                },
            ]
        );
    }

    #[test]
    fn refuses_bad_manifests() {
        for bad in [
            "",
            "[[source]]\npath = \"a\"\nweight = 0\n",
            "[[source]]\npath = \"a\"\nweight = -1\n",
            "[[source]]\npath = \"a\"\nweight = nan\n",
            "[[source]]\npath = \"a\"\nwieght = 2\n",
            "[[source]]\nweight = 2\n",
        ] {
            assert!(parse_manifest(Path::new(""), bad).is_err(), "{bad:?}");
        }
    }
}
