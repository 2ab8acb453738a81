use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ParseError;

/// Why a comment text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("text is empty")]
    Empty,
    #[error("text is {len} characters long; the limit is {max}")]
    TooLong { len: usize, max: usize },
    #[error("text contains a NUL character, which no text column can store")]
    Nul,
}

/// The text of a comment: not blank, at most `max_chars` Unicode scalar values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentText(String);

impl CommentText {
    pub fn parse(text: impl Into<String>, max_chars: usize) -> Result<Self, TextError> {
        let text = text.into();
        if text.trim().is_empty() {
            return Err(TextError::Empty);
        }
        // Count only as far as needed: a 1 MiB body must not be walked twice.
        let len = text.chars().take(max_chars + 1).count();
        if len > max_chars {
            return Err(TextError::TooLong {
                len: text.chars().count(),
                max: max_chars,
            });
        }
        if text.contains('\0') {
            return Err(TextError::Nul);
        }
        Ok(Self(text))
    }

    /// What can be scored of a text that must not be refused (an integration whose errors
    /// would publish the comment unmoderated): NULs become spaces, the ends are trimmed (so
    /// leading blanks cannot push the words out of the prefix), and a text over `max_chars`
    /// keeps its first `max_chars` characters. `None` when nothing is left.
    pub fn scorable_prefix(text: &str, max_chars: usize) -> Option<ScorablePrefix> {
        let whole = text.replace('\0', " ").trim().to_owned();
        let end = whole
            .char_indices()
            .nth(max_chars)
            .map_or(whole.len(), |(i, _)| i);
        let cut_from = (end < whole.len()).then(|| whole.chars().count());
        let scored = CommentText::parse(&whole[..end], max_chars).ok()?;
        Some(ScorablePrefix {
            whole,
            scored,
            cut_from,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A text that must not be refused, and the part of it that is scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorablePrefix {
    /// The whole text, NULs replaced: what is stored.
    pub whole: String,
    /// Its first characters, at most the limit: what is scored.
    pub scored: CommentText,
    /// The whole text's length in characters, when `scored` is only a prefix of it.
    pub cut_from: Option<usize>,
}

impl AsRef<str> for CommentText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Languages the models are trained for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Fr,
    En,
}

/// Accepts ISO 639-1 codes, with or without a region (`fr`, `fr-FR`, `en_GB`), any case.
impl FromStr for Lang {
    type Err = ParseError;
    fn from_str(code: &str) -> Result<Self, ParseError> {
        let base = code
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match base.as_str() {
            "fr" => Ok(Lang::Fr),
            "en" => Ok(Lang::En),
            _ => Err(ParseError::new("lang", code, "fr or en")),
        }
    }
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The subject a stance is taken toward, e.g. `gouvernement`: lowercase ASCII letters,
/// digits, `_` and `-`, 1 to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Target(String);

impl Target {
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "invalid target {s:?}: use 1 to 64 lowercase letters, digits, '_' or '-'"
            ))
        }
    }

    /// A target as people write it ("Climate Change is a Real Concern", "Hillary Clinton",
    /// "Réforme des retraites"): a valid slug stays as it is; anything else becomes its
    /// stable slug (accents dropped, lowercase, other characters runs of `-`, at most 64
    /// bytes), `climate-change-is-a-real-concern`. `Err` when no letter or digit is left.
    pub fn from_name(name: &str) -> Result<Self, String> {
        if let Ok(t) = Target::parse(name) {
            return Ok(t);
        }
        Target::parse(&slug(name))
            .map_err(|_| format!("invalid target {name:?}: it has no letter or digit"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lowercase ASCII letters and digits of `name` (accents dropped by NFKD), other runs as one
/// `-`, cut to 64 bytes at a `-` where possible.
fn slug(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    for c in name.nfkd().flat_map(char::to_lowercase) {
        match c {
            c if c.is_ascii_alphanumeric() => out.push(c),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            'ß' => out.push_str("ss"),
            // The accent of a decomposed letter is dropped; anything else separates.
            c if unicode_normalization::char::is_combining_mark(c) => {}
            _ if !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    let mut out = out.trim_matches('-').to_owned();
    if out.len() > 64 {
        let cut = out[..64].rfind('-').filter(|&i| i > 0).unwrap_or(64);
        out.truncate(cut);
    }
    out
}

impl TryFrom<String> for Target {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Target::parse(&s)
    }
}

impl From<Target> for String {
    fn from(t: Target) -> String {
        t.0
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_text_is_refused() {
        assert_eq!(CommentText::parse("", 10), Err(TextError::Empty));
        assert_eq!(CommentText::parse(" \n\t", 10), Err(TextError::Empty));
    }

    #[test]
    fn nul_characters_are_refused() {
        assert_eq!(CommentText::parse("a\0b", 10), Err(TextError::Nul));
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        // 10 characters, 20 bytes.
        assert!(CommentText::parse("éééééééééé", 10).is_ok());
        assert_eq!(
            CommentText::parse("ééééééééééé", 10),
            Err(TextError::TooLong { len: 11, max: 10 })
        );
    }

    #[test]
    fn scorable_prefix_cuts_long_texts_and_keeps_short_ones() {
        let short = CommentText::scorable_prefix("ééé", 3).unwrap();
        assert_eq!((short.scored.as_str(), short.cut_from), ("ééé", None));
        let long = CommentText::scorable_prefix("éééé b", 3).unwrap();
        assert_eq!((long.scored.as_str(), long.cut_from), ("ééé", Some(6)));
        assert_eq!(long.whole, "éééé b");
        let nul = CommentText::scorable_prefix("a\0b", 10).unwrap();
        assert_eq!((nul.scored.as_str(), nul.whole.as_str()), ("a b", "a b"));
        assert_eq!(CommentText::scorable_prefix(" \0 ", 10), None);
        let padded = CommentText::scorable_prefix(&format!("{}x", " ".repeat(10)), 3).unwrap();
        assert_eq!((padded.scored.as_str(), padded.cut_from), ("x", None));
    }

    #[test]
    fn lang_codes() {
        assert_eq!("fr-FR".parse(), Ok(Lang::Fr));
        assert_eq!("EN".parse(), Ok(Lang::En));
        assert_eq!(
            "de".parse::<Lang>().unwrap_err().to_string(),
            "unknown lang \"de\": expected fr or en"
        );
        assert!("".parse::<Lang>().is_err());
    }

    #[test]
    fn target_names() {
        assert!(Target::parse("gouvernement").is_ok());
        assert!(Target::parse("nucleaire-2").is_ok());
        assert!(Target::parse("").is_err());
        assert!(Target::parse("Gouvernement").is_err());
        assert!(Target::parse("a b").is_err());
        assert!(Target::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn targets_as_people_write_them_get_stable_slugs() {
        let slug = |s: &str| Target::from_name(s).map(|t| t.as_str().to_owned());
        assert_eq!(
            slug("Climate Change is a Real Concern").unwrap(),
            "climate-change-is-a-real-concern"
        );
        assert_eq!(slug("Hillary Clinton").unwrap(), "hillary-clinton");
        assert_eq!(
            slug("  Réforme des retraites (2023) ").unwrap(),
            "reforme-des-retraites-2023"
        );
        assert_eq!(slug("gouvernement").unwrap(), "gouvernement");
        assert_eq!(slug("nucleaire_2").unwrap(), "nucleaire_2");
        assert_eq!(slug("Œuvre d'État").unwrap(), "oeuvre-d-etat");
        let long = slug(&"Legalization of Abortion ".repeat(5)).unwrap();
        assert!(long.len() <= 64 && !long.ends_with('-'), "{long}");
        assert!(Target::from_name("?!").is_err());
        assert!(Target::from_name("").is_err());
    }
}
