//! Labeled CSV/TSV files (public corpora, a site's moderation history) read into canonical
//! records through a column mapping.

use std::collections::BTreeMap;
use std::path::Path;

use super::{read_jsonl_str, CorpusError, Labels, Record};
use crate::domain::{HeadName, Lang, Stance, Target};

/// How the columns of a CSV/TSV file map onto a record.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMap {
    pub text: String,
    /// Column holding a stable id; without it ids are `<file>:<row>`.
    pub id: Option<String>,
    pub lang: Option<String>,
    pub target: Option<String>,
    /// Head (or `stance`) ← column.
    pub labels: Vec<(String, String)>,
    /// Raw cell value → label value (`0`/`1`, or a stance), applied before parsing.
    pub values: BTreeMap<String, String>,
}

impl Default for ColumnMap {
    fn default() -> Self {
        Self {
            text: "text".into(),
            id: None,
            lang: None,
            target: None,
            labels: vec![],
            values: BTreeMap::new(),
        }
    }
}

impl ColumnMap {
    /// Builds the map from the command-line forms `head=column` and `raw=value`
    /// (`--label-col rejected=status --map-label rejected=1,approved=0`).
    pub fn parse(
        text: &str,
        id: Option<&str>,
        lang: Option<&str>,
        target: Option<&str>,
        labels: &[String],
        values: &[String],
    ) -> Result<Self, String> {
        let pair = |s: &str, what: &str| -> Result<(String, String), String> {
            match s.split_once('=') {
                Some((a, b)) if !a.trim().is_empty() => Ok((a.trim().into(), b.trim().into())),
                _ => Err(format!("{what} {s:?}: expected KEY=VALUE")),
            }
        };
        let labels = labels
            .iter()
            .map(|l| {
                let (head, col) = pair(l, "--label-col")?;
                if head != "stance" {
                    HeadName::parse(&head)?;
                }
                if col.is_empty() {
                    return Err(format!("--label-col {l:?}: no column named"));
                }
                Ok((head, col))
            })
            .collect::<Result<Vec<_>, String>>()?;
        if labels.is_empty() {
            return Err("a CSV/TSV file needs at least one --label-col HEAD=COLUMN".into());
        }
        let values = values
            .iter()
            .map(|v| pair(v, "--map-label"))
            .collect::<Result<BTreeMap<_, _>, String>>()?;
        Ok(Self {
            text: text.into(),
            id: id.map(Into::into),
            lang: lang.map(Into::into),
            target: target.map(Into::into),
            labels,
            values,
        })
    }

    fn value<'a>(&'a self, raw: &'a str) -> &'a str {
        let raw = raw.trim();
        self.values
            .get(raw)
            .or_else(|| {
                self.values
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(raw))
                    .map(|(_, v)| v)
            })
            .map_or(raw, String::as_str)
    }
}

/// Is this path read as CSV/TSV rather than canonical JSONL?
pub fn is_tabular(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("csv" | "tsv")
    )
}

fn binary(v: &str) -> Result<Option<u8>, String> {
    match v.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "1" | "true" | "yes" => Ok(Some(1)),
        "0" | "false" | "no" => Ok(Some(0)),
        _ => Err(format!(
            "label value {v:?} is not 0/1 (map it with --map-label {v}=1 or {v}=0)"
        )),
    }
}

/// Reads a CSV (or, by extension, TSV) file held in memory; `path` names the source in
/// errors and in generated ids. Rows with an empty text are errors, empty label cells are
/// "not labeled".
pub fn read_table_str(
    path: &Path,
    content: &str,
    map: &ColumnMap,
) -> Result<Vec<Record>, CorpusError> {
    let delimiter = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"))
    {
        b'\t'
    } else {
        b','
    };
    let err = |line: usize, message: String| CorpusError::Line {
        path: path.to_owned(),
        line,
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(content.as_bytes());
    let headers = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                let have: Vec<&str> = headers.iter().collect();
                err(
                    1,
                    format!("no column {name:?} (columns: {})", have.join(", ")),
                )
            })
    };
    let text_col = column(&map.text)?;
    let id_col = map.id.as_deref().map(column).transpose()?;
    let lang_col = map.lang.as_deref().map(column).transpose()?;
    let target_col = map.target.as_deref().map(column).transpose()?;
    let label_cols = map
        .labels
        .iter()
        .map(|(h, c)| Ok((h.as_str(), column(c)?)))
        .collect::<Result<Vec<_>, CorpusError>>()?;
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| {
            let line = e.position().map_or(i + 2, |p| p.line() as usize);
            err(line, e.to_string())
        })?;
        let line = row.position().map_or(i + 2, |p| p.line() as usize);
        let cell = |c: usize| row.get(c).unwrap_or_default();
        let text = cell(text_col);
        if text.trim().is_empty() {
            return Err(err(line, "empty text".into()));
        }
        let id = match id_col {
            Some(c) if !cell(c).trim().is_empty() => cell(c).trim().to_owned(),
            Some(_) => return Err(err(line, "empty id".into())),
            None => format!("{file}:{}", i + 1),
        };
        if !seen.insert(id.clone()) {
            return Err(err(line, format!("duplicate id {id:?}")));
        }
        let mut labels = Labels::default();
        for (head, c) in &label_cols {
            let v = map.value(cell(*c));
            if *head == "stance" {
                if !v.is_empty() {
                    labels.stance =
                        Some(v.parse::<Stance>().map_err(|e| err(line, e.to_string()))?);
                }
            } else if let Some(b) = binary(v).map_err(|e| err(line, format!("{head}: {e}")))? {
                labels
                    .binary
                    .insert(HeadName::parse(head).map_err(|e| err(line, e))?, b);
            }
        }
        let target = match target_col.map(cell).map(str::trim) {
            Some(t) if !t.is_empty() => Some(Target::from_name(t).map_err(|e| err(line, e))?),
            _ => None,
        };
        if labels.stance.is_some() && target.is_none() {
            return Err(err(
                line,
                "a stance label needs a target (--target-col)".into(),
            ));
        }
        let lang = match lang_col.map(cell).map(str::trim) {
            Some(code) if !code.is_empty() => {
                Some(code.parse::<Lang>().map_err(|e| err(line, e.to_string()))?)
            }
            _ => None,
        };
        out.push(Record {
            id,
            text: text.to_owned(),
            labels,
            target,
            lang,
        });
    }
    Ok(out)
}

/// Reads labeled records from canonical JSONL, or from CSV/TSV through `map` (required
/// for those), with the file's bytes for its digest.
pub fn read_labeled(
    path: &Path,
    map: Option<&ColumnMap>,
) -> Result<(Vec<Record>, Vec<u8>), CorpusError> {
    let bytes = std::fs::read(path).map_err(|source| CorpusError::Io {
        path: path.to_owned(),
        source,
    })?;
    let content = std::str::from_utf8(&bytes).map_err(|e| CorpusError::Line {
        path: path.to_owned(),
        line: 0,
        message: format!("not UTF-8: {e}"),
    })?;
    let records = if is_tabular(path) {
        let map = map.ok_or_else(|| CorpusError::Line {
            path: path.to_owned(),
            line: 0,
            message: "a CSV/TSV file needs a column mapping: --label-col HEAD=COLUMN".into(),
        })?;
        read_table_str(path, content, map)?
    } else {
        read_jsonl_str(path, content)?
    };
    Ok((records, bytes))
}

/// How `--data` CSV/TSV files map onto labeled records (canonical JSONL files ignore it).
#[derive(Debug, Clone, clap::Args)]
pub struct ColumnArgs {
    /// CSV/TSV: column holding the comment text.
    #[arg(long, default_value = "text")]
    pub text_col: String,
    /// CSV/TSV: column holding a stable id (default: `<file>:<row>`).
    #[arg(long)]
    pub id_col: Option<String>,
    /// CSV/TSV: column holding the language code (fr, en).
    #[arg(long)]
    pub lang_col: Option<String>,
    /// CSV/TSV: column holding the stance target.
    #[arg(long)]
    pub target_col: Option<String>,
    /// CSV/TSV: `HEAD=COLUMN`, a label column and the head it trains (repeatable), e.g.
    /// `toxicity=label` or, for a moderation history, `rejected=status`.
    #[arg(long = "label-col", value_delimiter = ',')]
    pub label_cols: Vec<String>,
    /// CSV/TSV: `RAW=VALUE`, what a cell value means (repeatable), e.g.
    /// `OFF=1,NOT=0` or `rejected=1,approved=0`. Cells 0/1/true/false need no mapping.
    #[arg(long = "map-label", value_delimiter = ',')]
    pub map_labels: Vec<String>,
}

impl ColumnArgs {
    /// The column map, or `None` when no label column is named (JSONL only).
    pub fn column_map(&self) -> anyhow::Result<Option<ColumnMap>> {
        if self.label_cols.is_empty() {
            return Ok(None);
        }
        ColumnMap::parse(
            &self.text_col,
            self.id_col.as_deref(),
            self.lang_col.as_deref(),
            self.target_col.as_deref(),
            &self.label_cols,
            &self.map_labels,
        )
        .map(Some)
        .map_err(anyhow::Error::msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(labels: &[&str], values: &[&str]) -> ColumnMap {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        ColumnMap::parse("text", None, None, None, &s(labels), &s(values)).unwrap()
    }

    #[test]
    fn reads_a_moderation_history() {
        let csv = "text,status\n\"Bravo, \"\"enfin\"\" !\",approved\nBande de nuls,rejected\nRien à dire,\n";
        let m = map(&["rejected=status"], &["rejected=1", "Approved=0"]);
        let r = read_table_str(Path::new("h.csv"), csv, &m).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].text, "Bravo, \"enfin\" !");
        assert_eq!(r[0].id, "h.csv:1");
        let head = HeadName::parse("rejected").unwrap();
        assert_eq!(r[0].labels.binary[&head], 0);
        assert_eq!(r[1].labels.binary[&head], 1);
        // An empty cell is "not labeled", never negative.
        assert!(r[2].labels.binary.is_empty());
    }

    #[test]
    fn reads_tsv_with_ids_lang_and_stance() {
        let tsv = "id\ttext\toff\tst\ttgt\tlang\n7\tDégage\tOFF\tagainst\tgouvernement\tfr\n8\tok\tNOT\t\t\ten\n";
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let m = ColumnMap::parse(
            "text",
            Some("id"),
            Some("lang"),
            Some("tgt"),
            &s(&["toxicity=off", "stance=st"]),
            &s(&["OFF=1", "NOT=0"]),
        )
        .unwrap();
        let r = read_table_str(Path::new("x.tsv"), tsv, &m).unwrap();
        assert_eq!(r[0].id, "7");
        assert_eq!(r[0].labels.stance, Some(Stance::Against));
        assert_eq!(r[0].target.as_ref().unwrap().as_str(), "gouvernement");
        assert_eq!(r[1].lang, Some(Lang::En));
        assert_eq!(r[1].labels.binary[&HeadName::parse("toxicity").unwrap()], 0);
    }

    #[test]
    fn errors_name_the_line_and_the_fix() {
        let m = map(&["toxicity=label"], &[]);
        let e = read_table_str(Path::new("t.csv"), "text,label\na,1\nb,maybe\n", &m)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.csv:3:"), "{e}");
        assert!(e.contains("--map-label maybe="), "{e}");
        let e = read_table_str(Path::new("t.csv"), "txt,label\na,1\n", &m)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no column \"text\""), "{e}");
        let e = read_table_str(Path::new("t.csv"), "text,label\n\"\",1\n", &m)
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty text"), "{e}");
        assert!(ColumnMap::parse("text", None, None, None, &[], &[]).is_err());
        assert!(ColumnMap::parse("text", None, None, None, &["Bad-Head=x".into()], &[]).is_err());
    }
}
