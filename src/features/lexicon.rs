//! A lexicon of insults, slurs, threat phrases and profanity (`training/lexicon.tsv`,
//! written by the project), matched after normalisation, as one extra feature per category
//! beside the n-grams. Normalisation has already undone the obfuscations ("c0nn4rd",
//! "c o n n a r d", "connaaard"), so an entry matches them too.
//!
//! An entry is one to five whole words; it matches a run of consecutive words of the
//! normalised text, whatever separates them ("j'vais te buter" matches "j vais te buter").
//! No wildcards: inflected forms are entries of their own, so a match is always a word the
//! lexicon's authors wrote down.
//!
//! File format: `term<TAB>category<TAB>lang` per line (`#` comments and blank lines allowed),
//! category one of [`CATEGORIES`], lang `fr` or `en`.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::text::{normalize, words};

/// The categories an entry may have, in feature order.
pub const CATEGORIES: [&str; 4] = ["insult", "identity_attack", "threat", "profanity"];

/// Longest entry, in words.
const MAX_WORDS: usize = 5;

/// In the lookup table, beside the category bits: the key is the start of a longer entry, so
/// a match may go on with the next word. Most words start none, and their walk stops there.
const EXTENDS: u8 = 1 << 7;

/// One entry, as persisted in the model: its normalised words joined by one space.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Entry {
    term: String,
    /// Index into [`CATEGORIES`].
    category: u8,
}

/// What the model file holds: the sorted entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct LexiconData {
    entries: Vec<Entry>,
}

/// A loaded lexicon: its entries and a lookup from term (and from every first part of a
/// longer term) to categories.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "LexiconData", into = "LexiconData")]
pub struct Lexicon {
    data: LexiconData,
    /// Term or start of a term → its category bits, and [`EXTENDS`] (rebuilt on load, never
    /// stored: hash values are not a file format).
    index: FxHashMap<String, u8>,
}

impl PartialEq for Lexicon {
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
    }
}

impl From<LexiconData> for Lexicon {
    fn from(data: LexiconData) -> Self {
        let mut index: FxHashMap<String, u8> = FxHashMap::default();
        for e in &data.entries {
            *index.entry(e.term.clone()).or_default() |= 1 << e.category;
            // Every first part of a longer term, so a walk knows when to go on.
            for (cut, _) in e.term.match_indices(' ') {
                *index.entry(e.term[..cut].to_owned()).or_default() |= EXTENDS;
            }
        }
        Lexicon { data, index }
    }
}

impl From<Lexicon> for LexiconData {
    fn from(l: Lexicon) -> Self {
        l.data
    }
}

/// A line of a lexicon file that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("lexicon line {line}: {reason}")]
pub struct LexiconError {
    pub line: usize,
    pub reason: String,
}

impl Lexicon {
    /// Parses a lexicon file's content (see the module docs). Duplicate entries are refused:
    /// they are a slip in the file, not a way to weigh a term.
    pub fn parse(content: &str) -> Result<Lexicon, LexiconError> {
        let mut entries = Vec::new();
        for (i, line) in content.lines().enumerate() {
            let line_no = i + 1;
            let err = |reason: String| LexiconError {
                line: line_no,
                reason,
            };
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            entries.push(parse_line(line).map_err(err)?);
        }
        entries.sort();
        if let Some(w) = entries.windows(2).find(|w| w[0] == w[1]) {
            return Err(LexiconError {
                line: 0,
                reason: format!(
                    "\"{}\" is listed twice as {}",
                    w[0].term, CATEGORIES[w[0].category as usize]
                ),
            });
        }
        if entries.is_empty() {
            return Err(LexiconError {
                line: 0,
                reason: "no entries".into(),
            });
        }
        Ok(Lexicon::from(LexiconData { entries }))
    }

    /// SHA-256 of the entries as the model file holds them, in hex: names the lexicon in
    /// model ids and reports.
    pub fn digest(&self) -> String {
        let bytes = postcard::to_stdvec(&self.data).expect("entries serialise");
        crate::util::sha256_hex(&bytes)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.data.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.entries.is_empty()
    }

    /// Number of features: one per category when the lexicon has entries, none otherwise (a
    /// model trained without a lexicon keeps its feature count).
    pub fn n_features(&self) -> usize {
        if self.is_empty() {
            0
        } else {
            CATEGORIES.len()
        }
    }

    /// Calls `f(category)` for every entry found in a normalised text (what features need).
    pub fn for_each_category(&self, text: &str, mut f: impl FnMut(usize)) {
        if self.is_empty() {
            return;
        }
        let spans: Vec<(usize, usize)> = words(text).collect();
        self.walk(text, &spans, |c, _, _| f(c));
    }

    /// Calls `f(category, (start, end))` for every entry found in a normalised text, with
    /// `(start, end)` its range of characters (what explanations need). Overlapping entries
    /// all count.
    pub fn for_each_match(&self, text: &str, mut f: impl FnMut(usize, (usize, usize))) {
        if self.is_empty() {
            return;
        }
        let spans: Vec<(usize, usize)> = words(text).collect();
        // Character range of each word.
        let mut chars = Vec::with_capacity(spans.len());
        let (mut pos, mut byte_pos) = (0usize, 0usize);
        for &(bs, be) in &spans {
            pos += text[byte_pos..bs].chars().count();
            let len = text[bs..be].chars().count();
            chars.push((pos, pos + len));
            pos += len;
            byte_pos = be;
        }
        self.walk(text, &spans, |c, i, j| f(c, (chars[i].0, chars[j].1)));
    }

    /// Calls `f(category, first word, last word)` for every entry found among the words
    /// `spans` (byte ranges) of `text`: from each word, extends the run one word at a time
    /// while it is the start of a longer entry.
    fn walk(&self, text: &str, spans: &[(usize, usize)], mut f: impl FnMut(usize, usize, usize)) {
        let mut key = String::new();
        for i in 0..spans.len() {
            key.clear();
            for (j, &(bs, be)) in spans.iter().enumerate().skip(i).take(MAX_WORDS) {
                if j > i {
                    key.push(' ');
                }
                key.push_str(&text[bs..be]);
                let Some(&bits) = self.index.get(key.as_str()) else {
                    break;
                };
                for c in (0..CATEGORIES.len()).filter(|c| bits & (1 << c) != 0) {
                    f(c, i, j);
                }
                if bits & EXTENDS == 0 {
                    break;
                }
            }
        }
    }
}

/// `term<TAB>category<TAB>lang` → an entry with its term normalised as texts are.
fn parse_line(line: &str) -> Result<Entry, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [term, category, lang] = fields[..] else {
        return Err(format!(
            "expected term, category and lang separated by tabs, got {} field(s)",
            fields.len()
        ));
    };
    let category = CATEGORIES
        .iter()
        .position(|c| *c == category.trim())
        .ok_or_else(|| {
            format!(
                "unknown category \"{category}\" (one of {})",
                CATEGORIES.join(", ")
            )
        })?;
    if !matches!(lang.trim(), "fr" | "en") {
        return Err(format!("unknown language \"{lang}\" (fr or en)"));
    }
    let normalized = normalize(term).text;
    let words: Vec<&str> = words(&normalized).map(|(s, e)| &normalized[s..e]).collect();
    if words.is_empty() || words.len() > MAX_WORDS {
        return Err(format!(
            "\"{term}\" must have 1 to {MAX_WORDS} words, has {}",
            words.len()
        ));
    }
    Ok(Entry {
        term: words.join(" "),
        category: category as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(lex: &Lexicon, text: &str) -> Vec<(&'static str, String)> {
        let norm = normalize(text).text;
        let chars: Vec<char> = norm.chars().collect();
        let mut out = Vec::new();
        lex.for_each_match(&norm, |c, (s, e)| {
            out.push((CATEGORIES[c], chars[s..e].iter().collect()))
        });
        out
    }

    const SAMPLE: &str = "# test\nconnard\tinsult\tfr\nj'vais te buter\tthreat\tfr\n\
        nique ta mère\tprofanity\tfr\nnique ta mère\tinsult\tfr\nfuck\tprofanity\ten\n";

    #[test]
    fn finds_words_phrases_and_obfuscations_with_their_spans() {
        let lex = Lexicon::parse(SAMPLE).unwrap();
        assert_eq!(lex.len(), 5);
        assert_eq!(
            matches(&lex, "Espèce de C0NNAAARD, j' vais te buter"),
            vec![
                ("insult", "connard".to_owned()),
                ("threat", "j' vais te buter".to_owned()),
            ]
        );
        assert_eq!(
            matches(&lex, "Nique ta mère"),
            vec![
                ("insult", "nique ta mère".to_owned()),
                ("profanity", "nique ta mère".to_owned()),
            ]
        );
        // Whole words only: "fuck" is not in "fuckinghell", "connard" not in "connards".
        assert!(matches(&lex, "fuckinghell connards").is_empty());
        // A run that starts an entry but does not finish it matches nothing.
        assert!(matches(&lex, "j'vais te voir, nique ta").is_empty());
        // The features' walk finds what the explanations' walk finds.
        let text = normalize("Connard, j'vais te buter. Nique ta mère connard").text;
        let mut from_matches: Vec<usize> = Vec::new();
        lex.for_each_match(&text, |c, _| from_matches.push(c));
        let mut from_categories: Vec<usize> = Vec::new();
        lex.for_each_category(&text, |c| from_categories.push(c));
        assert_eq!(from_categories, from_matches);
        assert_eq!(from_matches.len(), 5);
    }

    #[test]
    fn bad_lines_say_where_and_why() {
        let err = Lexicon::parse("ok\tinsult\tfr\nbad\tnope\tfr\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.reason.contains("unknown category"), "{err}");
        let err = Lexicon::parse("only two\tinsult\n").unwrap_err();
        assert!(err.reason.contains("2 field"), "{err}");
        let err = Lexicon::parse("x\tinsult\tde\n").unwrap_err();
        assert!(err.reason.contains("language"), "{err}");
        let err = Lexicon::parse("Connard\tinsult\tfr\nconnard\tinsult\tfr\n").unwrap_err();
        assert!(err.reason.contains("twice"), "{err}");
        assert!(Lexicon::parse("# nothing\n").is_err());
    }

    #[test]
    fn round_trips_through_the_model_format() {
        let lex = Lexicon::parse(SAMPLE).unwrap();
        let bytes = postcard::to_stdvec(&lex).unwrap();
        let back: Lexicon = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, lex);
        assert_eq!(matches(&back, "connard").len(), 1);
    }
}
