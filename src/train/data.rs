//! Assembling training data: seed items joined with their labels, canonical JSONL files,
//! and the digests that make a model's id.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::corpus::{read_jsonl_str, read_labeled, read_seed_dir, ColumnMap, CorpusError, Record};
use crate::model::SourceCard;

/// Labeled records and where they came from.
#[derive(Debug, Clone, Default)]
pub struct TrainingData {
    pub records: Vec<Record>,
    pub sources: Vec<SourceCard>,
    /// Unlabeled in-domain texts, used for the vocabulary and IDF only.
    pub unlabeled: Vec<String>,
}

use crate::util::hex;
pub use crate::util::sha256_hex;

/// SHA-256 over the canonical JSON of every record, in order.
pub fn data_hash(records: &[Record]) -> String {
    let mut h = Sha256::new();
    for r in records {
        h.update(r.to_json().to_string().as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

impl TrainingData {
    /// Adds a canonical JSONL file.
    pub fn add_jsonl(&mut self, path: &Path) -> Result<(), CorpusError> {
        self.add_file(path, None)
    }

    /// Adds a canonical JSONL file, or a CSV/TSV file read through `map`.
    pub fn add_file(&mut self, path: &Path, map: Option<&ColumnMap>) -> Result<(), CorpusError> {
        let (records, bytes) = read_labeled(path, map)?;
        self.push(display_name(path), sha256_hex(&bytes), records)
            .map_err(|message| CorpusError::Line {
                path: path.to_owned(),
                line: 0,
                message,
            })
    }

    /// Adds the seed documents of `dir`, labeled by `labels` (lines of
    /// `{"id", "labels", "target"?, "lang"?}` keyed by seed item id). Every seed item must
    /// be labeled and every label must name a seed item.
    pub fn add_seeds(&mut self, dir: &Path, labels: &Path) -> Result<(), String> {
        let docs = read_seed_dir(dir)?;
        let mut texts: BTreeMap<String, String> = BTreeMap::new();
        for d in &docs {
            for item in d.items() {
                self.unlabeled.push(item.text.clone());
                texts.insert(item.id, item.text);
            }
        }
        let raw = std::fs::read(labels).map_err(|e| format!("{}: {e}", labels.display()))?;
        let content =
            String::from_utf8(raw.clone()).map_err(|e| format!("{}: {e}", labels.display()))?;
        // Put each seed's text into its label line, then read it as canonical JSONL.
        let mut joined = String::new();
        for (i, line) in content.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let mut v: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| format!("{}:{}: {e}", labels.display(), i + 1))?;
            let id = v["id"].as_str().unwrap_or_default().to_owned();
            let text = texts.get(&id).ok_or_else(|| {
                format!("{}:{}: no seed item has id {id:?}", labels.display(), i + 1)
            })?;
            v["text"] = text.clone().into();
            joined.push_str(&v.to_string());
            joined.push('\n');
        }
        let records = read_jsonl_str(labels, &joined).map_err(|e| e.to_string())?;
        let labeled: std::collections::BTreeSet<&str> =
            records.iter().map(|r| r.id.as_str()).collect();
        if let Some(missing) = texts.keys().find(|id| !labeled.contains(id.as_str())) {
            return Err(format!(
                "{}: seed item {missing:?} has no label line",
                labels.display()
            ));
        }
        let mut digest = Sha256::new();
        for d in &docs {
            digest.update(d.name.as_bytes());
        }
        digest.update(&raw);
        let name = format!("{} + {}", display_name(dir), display_name(labels));
        self.push(name, hex(&digest.finalize()), records)
    }

    fn push(&mut self, name: String, sha256: String, records: Vec<Record>) -> Result<(), String> {
        let existing: std::collections::HashSet<&str> =
            self.records.iter().map(|r| r.id.as_str()).collect();
        if let Some(dup) = records.iter().find(|r| existing.contains(r.id.as_str())) {
            return Err(format!("id {:?} appears in two training sources", dup.id));
        }
        self.sources.push(SourceCard {
            name,
            items: records.len(),
            sha256,
        });
        self.records.extend(records);
        Ok(())
    }
}
