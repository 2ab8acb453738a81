use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::{HeadName, Lang, Stance, Target};

/// Why a corpus file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Labels of one item. A head that is absent is *not labeled*, never negative.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    /// Binary heads, 0 or 1.
    pub binary: BTreeMap<HeadName, u8>,
    /// Stance toward the record's target.
    pub stance: Option<Stance>,
}

/// One labeled item in the canonical format:
/// `{"id", "text", "labels": {"toxicity": 1, "stance": "against"}, "target", "lang"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    pub text: String,
    pub labels: Labels,
    pub target: Option<Target>,
    pub lang: Option<Lang>,
}

/// A JSONL line as written. Fields the format does not know (`source`, `created_at`, the
/// extra columns of a third-party corpus, ...) are ignored rather than refused, so that a
/// moderation export or a converted public corpus reads as it is.
#[derive(Deserialize)]
struct RawRecord {
    id: String,
    text: String,
    #[serde(default)]
    labels: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

impl Labels {
    /// No label at all.
    pub fn is_empty(&self) -> bool {
        self.binary.is_empty() && self.stance.is_none()
    }

    /// The canonical `labels` object: `{"toxicity": 1, "insult": 0, "stance": "against"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut labels = serde_json::Map::new();
        for (head, v) in &self.binary {
            labels.insert(head.to_string(), (*v).into());
        }
        if let Some(s) = self.stance {
            labels.insert("stance".into(), s.as_str().into());
        }
        serde_json::Value::Object(labels)
    }
}

impl Record {
    /// The canonical JSON object for this record.
    pub fn to_json(&self) -> serde_json::Value {
        let mut obj =
            serde_json::json!({"id": self.id, "text": self.text, "labels": self.labels.to_json()});
        if let Some(t) = &self.target {
            obj["target"] = t.as_str().into();
        }
        if let Some(l) = self.lang {
            obj["lang"] = l.code().into();
        }
        obj
    }
}

fn parse_line(line: &str) -> Result<Record, String> {
    let raw: RawRecord = serde_json::from_str(line).map_err(|e| e.to_string())?;
    if raw.id.is_empty() {
        return Err("empty id".into());
    }
    if raw.text.trim().is_empty() {
        return Err(format!("record {:?} has an empty text", raw.id));
    }
    let mut labels = Labels::default();
    for (key, value) in raw.labels {
        if key == "stance" {
            match value {
                serde_json::Value::Null => {}
                serde_json::Value::String(s) => {
                    labels.stance = Some(
                        s.parse()
                            .map_err(|e: crate::domain::ParseError| e.to_string())?,
                    )
                }
                other => return Err(format!("stance must be a string, got {other}")),
            }
            continue;
        }
        let head = HeadName::parse(&key)?;
        let v = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::Bool(b) => u8::from(b),
            serde_json::Value::Number(n) if n.as_u64() == Some(0) => 0,
            serde_json::Value::Number(n) if n.as_u64() == Some(1) => 1,
            other => return Err(format!("label {key:?} must be 0 or 1, got {other}")),
        };
        labels.binary.insert(head, v);
    }
    let target = raw.target.map(|t| Target::from_name(&t)).transpose()?;
    if labels.stance.is_some() && target.is_none() {
        return Err(format!(
            "record {:?} has a stance label but no target",
            raw.id
        ));
    }
    let lang = match raw.lang {
        None => None,
        Some(code) => Some(code.parse::<Lang>().map_err(|e| e.to_string())?),
    };
    Ok(Record {
        id: raw.id,
        text: raw.text,
        labels,
        target,
        lang,
    })
}

/// Parses canonical JSONL held in memory; `path` only names the source in errors.
/// Blank lines and lines starting with `#` (file headers) are skipped; a repeated id is an
/// error.
pub fn read_jsonl_str(path: &Path, content: &str) -> Result<Vec<Record>, CorpusError> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in content.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |message: String| CorpusError::Line {
            path: path.to_owned(),
            line: i + 1,
            message,
        };
        let record = parse_line(line).map_err(err)?;
        if !seen.insert(record.id.clone()) {
            return Err(err(format!("duplicate id {:?}", record.id)));
        }
        out.push(record);
    }
    Ok(out)
}

/// Reads a canonical JSONL file.
pub fn read_jsonl(path: &Path) -> Result<Vec<Record>, CorpusError> {
    let content = std::fs::read_to_string(path).map_err(|source| CorpusError::Io {
        path: path.to_owned(),
        source,
    })?;
    read_jsonl_str(path, &content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Vec<Record>, CorpusError> {
        read_jsonl_str(Path::new("t.jsonl"), s)
    }

    #[test]
    fn reads_the_canonical_format() {
        let r = parse(
            r#"# a header comment
{"id": "a", "text": "Dégage !", "labels": {"toxicity": 1, "insult": 0, "stance": "against"}, "target": "gouvernement", "lang": "fr"}

{"id": "b", "text": "ok", "labels": {}}"#,
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].labels.binary[&HeadName::parse("toxicity").unwrap()], 1);
        assert_eq!(r[0].labels.binary[&HeadName::parse("insult").unwrap()], 0);
        assert_eq!(r[0].labels.stance, Some(Stance::Against));
        assert_eq!(r[0].lang, Some(Lang::Fr));
        // Missing keys stay missing: not labeled, not negative.
        assert!(r[1].labels.binary.is_empty());
        assert_eq!(r[1].labels.stance, None);
        // And the canonical JSON reads back the same.
        let again = parse(&r[0].to_json().to_string()).unwrap();
        assert_eq!(again[0], r[0]);
    }

    #[test]
    fn ignores_unknown_fields() {
        let r = parse(
            r#"{"id": "a", "text": "x", "labels": {"toxicity": 1}, "source": "export", "created_at": "2026-01-01T00:00:00Z", "meta": {"n": 1}}"#,
        )
        .unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].labels.binary.len(), 1);
        assert_eq!(r[0].target, None);
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"b\",\"text\":\"y\",\"labels\":{\"toxicity\":2}}")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.jsonl:2:"), "{e}");
        assert!(e.contains("0 or 1"), "{e}");
    }

    #[test]
    fn refuses_bad_records() {
        for bad in [
            r#"{"id":"a","text":"x","labels":{"stance":"against"}}"#, // stance without target
            r#"{"id":"a","text":"  "}"#,
            r#"{"id":"a","text":"x","lang":"de"}"#,
            r#"{"id":"a","text":"x","labels":{"stance":"pro"},"target":"t"}"#,
            r#"{"id":"a","text":"x"}
{"id":"a","text":"y"}"#,
            "not json",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
