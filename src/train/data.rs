//! Assembling training data: seed items joined with their labels, canonical JSONL files,
//! and the digests that make a model's id.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::corpus::{read_jsonl_str, read_labeled, read_seed_dir, ColumnMap, CorpusError, Record};
use crate::model::SourceCard;

use super::sources::Source;

/// Labeled records and where they came from.
#[derive(Debug, Clone, Default)]
pub struct TrainingData {
    pub records: Vec<Record>,
    /// Weight of each record in the loss, parallel to `records` (see [`super::sources`]);
    /// a record past the end weighs 1, so records pushed directly train as before.
    pub weights: Vec<f64>,
    /// Whether each record is a reference item (see [`super::sources`]), parallel to
    /// `records`; a record past the end is one.
    pub reference: Vec<bool>,
    pub sources: Vec<SourceCard>,
    /// Unlabeled in-domain texts, used for the vocabulary and IDF only.
    pub unlabeled: Vec<String>,
}

use crate::util::hex;
pub use crate::util::sha256_hex;

/// What a source's name in the model card says when its items are not reference items: the
/// card keeps its layout, so the report reads this note to say where thresholds come from.
pub const NOT_A_REFERENCE: &str = "not a reference";

/// SHA-256 over the canonical JSON of every record, in order.
pub fn data_hash(records: &[Record]) -> String {
    weighted_data_hash(records, &[])
}

/// [`data_hash`], with the weight of every record that does not weigh 1 (`weights` as in
/// [`TrainingData::weights`]): the same items at other weights make another model, so another
/// model id, while unweighted data keeps the hash (and the model ids) it always had.
pub fn weighted_data_hash(records: &[Record], weights: &[f64]) -> String {
    sourced_data_hash(records, weights, &[])
}

/// [`weighted_data_hash`], also naming every record that is not a reference item (`reference`
/// as in [`TrainingData::reference`]): it moves no threshold, so another model.
pub fn sourced_data_hash(records: &[Record], weights: &[f64], reference: &[bool]) -> String {
    let mut h = Sha256::new();
    for (i, r) in records.iter().enumerate() {
        h.update(r.to_json().to_string().as_bytes());
        let w = weights.get(i).copied().unwrap_or(1.0);
        if w != 1.0 {
            h.update(format!("\tweight={w}").as_bytes());
        }
        if !reference.get(i).copied().unwrap_or(true) {
            h.update(b"\treference=false");
        }
        h.update(b"\n");
    }
    hex(&h.finalize())
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// A source's name in the model card, with its weight when it is not 1 and a note when
/// its items are not reference items (the card's layout stays as it was).
fn noted_name(name: String, source: &Source) -> String {
    let mut notes = Vec::new();
    if source.weight != 1.0 {
        notes.push(format!("weight {}", source.weight));
    }
    if !source.reference {
        notes.push(NOT_A_REFERENCE.to_owned());
    }
    if notes.is_empty() {
        name
    } else {
        format!("{name} ({})", notes.join(", "))
    }
}

impl TrainingData {
    /// Weight of record `i` in the loss.
    pub fn weight(&self, i: usize) -> f64 {
        self.weights.get(i).copied().unwrap_or(1.0)
    }

    /// Whether record `i` is a reference item (its labels follow the guidelines).
    pub fn is_reference(&self, i: usize) -> bool {
        self.reference.get(i).copied().unwrap_or(true)
    }

    /// [`sourced_data_hash`] of these records.
    pub fn hash(&self) -> String {
        sourced_data_hash(&self.records, &self.weights, &self.reference)
    }

    /// Adds a canonical JSONL file.
    pub fn add_jsonl(&mut self, path: &Path) -> Result<(), CorpusError> {
        self.add_file(path, None)
    }

    /// Adds a canonical JSONL file, or a CSV/TSV file read through `map`.
    pub fn add_file(&mut self, path: &Path, map: Option<&ColumnMap>) -> Result<(), CorpusError> {
        self.add_source(&Source::new(path.to_owned()), map)
    }

    /// [`Self::add_file`] for a manifest's source: each of its items weighs `source.weight`
    /// in the loss. The source's name in the model card says the weight when it is not 1 and
    /// when the items are not reference items (the card's layout stays as it was).
    pub fn add_source(
        &mut self,
        source: &Source,
        map: Option<&ColumnMap>,
    ) -> Result<(), CorpusError> {
        let path = &source.path;
        let (records, bytes) = read_labeled(path, map)?;
        let name = noted_name(display_name(path), source);
        self.push(name, sha256_hex(&bytes), records, source)
            .map_err(|message| CorpusError::Line {
                path: path.to_owned(),
                line: 0,
                message,
            })
    }

    /// Adds records held in memory (a site's labels) as a source named `name`, each at
    /// `weight` and a reference item or not (as a manifest's source), its digest the
    /// [`data_hash`] of the records.
    pub fn add_records(
        &mut self,
        name: &str,
        records: Vec<Record>,
        weight: f64,
        reference: bool,
    ) -> Result<(), String> {
        let source = Source {
            path: name.into(),
            weight,
            reference,
        };
        let digest = data_hash(&records);
        self.push(
            noted_name(name.to_owned(), &source),
            digest,
            records,
            &source,
        )
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
        let source = Source::new(labels.to_owned());
        self.push(name, hex(&digest.finalize()), records, &source)
    }

    fn push(
        &mut self,
        name: String,
        sha256: String,
        records: Vec<Record>,
        source: &Source,
    ) -> Result<(), String> {
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
        // Records pushed without weights before this source weigh 1.
        let (before, after) = (self.records.len(), self.records.len() + records.len());
        self.weights.resize(before, 1.0);
        self.weights.resize(after, source.weight);
        self.reference.resize(before, true);
        self.reference.resize(after, source.reference);
        self.records.extend(records);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_files_weigh_their_records_and_say_so() {
        let dir = std::env::temp_dir().join(format!("vigie-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
        std::fs::write(&a, "{\"id\":\"a1\",\"text\":\"x\"}\n").unwrap();
        std::fs::write(
            &b,
            "{\"id\":\"b1\",\"text\":\"y\"}\n{\"id\":\"b2\",\"text\":\"z\"}\n",
        )
        .unwrap();
        let mut data = TrainingData::default();
        data.add_file(&a, None).unwrap();
        let b = Source {
            path: b,
            weight: 0.25,
            reference: false,
        };
        data.add_source(&b, None).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(data.weights, [1.0, 0.25, 0.25]);
        assert_eq!(data.reference, [true, false, false]);
        assert_eq!(data.weight(2), 0.25);
        assert!(!data.is_reference(2));
        // Past the end (records pushed directly): weight 1, a reference item.
        assert_eq!(data.weight(3), 1.0);
        assert!(data.is_reference(3));
        let names: Vec<&str> = data.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a.jsonl", "b.jsonl (weight 0.25, not a reference)"]);
        // Reference items or not: another model, so another hash.
        let all_reference = sourced_data_hash(&data.records, &data.weights, &[]);
        assert_ne!(data.hash(), all_reference);
    }
}
