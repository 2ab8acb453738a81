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
//!
//! [`load_base`] reads everything a training starts from (the manifest's files, the seeds,
//! the lexicon, the held-out file) as [`BaseFiles`] name them: `train` calls it with its
//! flags, a retraining (`vigie::learning::retrain`) with the same files.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{sha256_hex, TrainParams, TrainingData};
use crate::corpus::{read_jsonl, ColumnMap, Record};
use crate::features::Lexicon;
use crate::model::SourceCard;

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

/// The files a training reads: what `train`'s flags name.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseFiles {
    /// The manifest, read when `data` is empty.
    pub manifest: PathBuf,
    /// Training files replacing the manifest's (`train --data`), each item at weight 1.
    pub data: Vec<PathBuf>,
    /// Lexicon replacing the manifest's (`train --lexicon`).
    pub lexicon: Option<PathBuf>,
    /// Seed documents' folder and their labels; `None`: no seeds.
    pub seeds: Option<(PathBuf, PathBuf)>,
    /// Held-out file, scored for the report and never trained on.
    pub heldout: Option<PathBuf>,
    /// How CSV/TSV training files are read (`None`: JSONL only).
    pub columns: Option<ColumnMap>,
}

impl BaseFiles {
    /// The files `train` reads with no flags, under the project folder `root`.
    pub fn in_dir(root: &Path) -> Self {
        BaseFiles {
            manifest: root.join("training/sources.toml"),
            data: Vec::new(),
            lexicon: None,
            seeds: Some((root.join("seeds"), root.join("training/seeds.labels.jsonl"))),
            heldout: Some(root.join("training/heldout.jsonl")),
            columns: None,
        }
    }
}

/// What a training starts from: the labeled data, the lexicon and the held-out file.
#[derive(Debug, Clone, Default)]
pub struct Base {
    pub data: TrainingData,
    pub lexicon: Option<Lexicon>,
    pub heldout: Option<(SourceCard, Vec<Record>)>,
}

impl Base {
    /// The settings `train` uses when no flag changes them: the defaults and the lexicon.
    pub fn default_params(&self) -> TrainParams {
        TrainParams {
            lexicon: self.lexicon.clone(),
            ..TrainParams::default()
        }
    }
}

/// Reads the files `files` names: the seeds first, then the training files in order.
pub fn load_base(files: &BaseFiles) -> anyhow::Result<Base> {
    let manifest = files_manifest(files)?;
    let lexicon = manifest.lexicon.as_deref().map(read_lexicon).transpose()?;
    let mut data = TrainingData::default();
    if let Some((dir, labels)) = &files.seeds {
        data.add_seeds(dir, labels).map_err(anyhow::Error::msg)?;
    }
    for s in &manifest.sources {
        data.add_source(s, files.columns.as_ref())?;
    }
    let heldout = files.heldout.as_deref().map(read_heldout).transpose()?;
    Ok(Base {
        data,
        lexicon,
        heldout,
    })
}

/// The files to train on and the lexicon: `data` at weight 1, or else the manifest's;
/// `files.lexicon` replaces the manifest's lexicon.
fn files_manifest(files: &BaseFiles) -> anyhow::Result<Manifest> {
    let mut manifest = if files.data.is_empty() {
        read_manifest(&files.manifest).map_err(anyhow::Error::msg)?
    } else {
        Manifest {
            sources: files.data.iter().cloned().map(Source::new).collect(),
            lexicon: None,
        }
    };
    if files.lexicon.is_some() {
        manifest.lexicon = files.lexicon.clone();
    }
    Ok(manifest)
}

/// Reads and checks a lexicon file.
fn read_lexicon(path: &Path) -> anyhow::Result<Lexicon> {
    let content =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Lexicon::parse(&content).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A held-out file and its card.
fn read_heldout(path: &Path) -> anyhow::Result<(SourceCard, Vec<Record>)> {
    let records = read_jsonl(path)?;
    let bytes = std::fs::read(path)?;
    let card = SourceCard {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        items: records.len(),
        sha256: sha256_hex(&bytes),
    };
    Ok((card, records))
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
