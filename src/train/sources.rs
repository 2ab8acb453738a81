//! Training-set manifests (`training/sources.toml`, the default model's: the project's files
//! and the real corpora of `training/real/`): which files a model trains on, how much each
//! item of each file weighs in the loss, and which items set the thresholds.
//!
//! Weights exist because the sources differ by two orders of magnitude in size: 25k tweets
//! at weight 1 would drown the project's own 1,200 news comments, the domain the model
//! serves. A weight multiplies every item's loss (and its class weight, if any); it changes
//! neither the vocabulary nor the folds.
//!
//! A source is a *reference* (the default) when its labels follow `training/GUIDELINES.md`,
//! the rules the model's decisions are meant to follow. The penalty, the calibration and the
//! thresholds of each head are read off the out-of-fold scores of the reference items only:
//! third-party corpora label by their own rules (83 % of Davidson's tweets are hateful or offensive),
//! so they teach words and phrasing but do not set where a head flags.
//!
//! ```toml
//! [[source]]
//! path = "corpus.jsonl"          # relative to the manifest's folder
//!
//! [[source]]
//! path = "real/davidson.jsonl"
//! weight = 0.2                   # default 1
//! reference = false              # default true
//! ```
//!
//! A manifest may also name a lexicon (`lexicon = "lexicon.tsv"`, top level, before the
//! sources; see `vigie::features::Lexicon`): its categories become extra features.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One training file, the weight of its items, and whether they are reference items.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub path: PathBuf,
    pub weight: f64,
    pub reference: bool,
}

impl Source {
    /// A file at weight 1 whose labels follow the guidelines (what `train --data` reads).
    pub fn new(path: PathBuf) -> Self {
        Source {
            path,
            weight: 1.0,
            reference: true,
        }
    }
}

/// A parsed manifest: the training files and the lexicon file, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub sources: Vec<Source>,
    pub lexicon: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    lexicon: Option<PathBuf>,
    #[serde(default)]
    source: Vec<RawSource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    path: PathBuf,
    #[serde(default = "unit_weight")]
    weight: f64,
    #[serde(default = "yes")]
    reference: bool,
}

fn unit_weight() -> f64 {
    1.0
}

fn yes() -> bool {
    true
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
pub fn parse_manifest(dir: &Path, content: &str) -> Result<Manifest, String> {
    let raw: RawManifest = toml::from_str(content).map_err(|e| e.to_string())?;
    if raw.source.is_empty() {
        return Err("no [[source]] entry".into());
    }
    let sources = raw
        .source
        .into_iter()
        .map(|s| {
            let weight =
                check_weight(s.weight).map_err(|e| format!("{}: {e}", s.path.display()))?;
            Ok(Source {
                path: dir.join(&s.path),
                weight,
                reference: s.reference,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Manifest {
        sources,
        lexicon: raw.lexicon.map(|l| dir.join(l)),
    })
}

/// Reads a manifest file (see [`parse_manifest`]).
pub fn read_manifest(path: &Path) -> Result<Manifest, String> {
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
            "lexicon = \"lexicon.tsv\"\n[[source]]\npath = \"corpus.jsonl\"\n\n[[source]]\npath = \"/abs/x.jsonl\"\nweight = 0.2\nreference = false\n",
        )
        .unwrap();
        assert_eq!(s.lexicon, Some(PathBuf::from("training/lexicon.tsv")));
        assert_eq!(
            s.sources,
            vec![
                Source::new(PathBuf::from("training/corpus.jsonl")),
                Source {
                    path: PathBuf::from("/abs/x.jsonl"),
                    weight: 0.2,
                    reference: false,
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
            "[[source]]\npath = \"a\"\nreference = \"no\"\n",
        ] {
            assert!(parse_manifest(Path::new(""), bad).is_err(), "{bad:?}");
        }
    }
}
