//! Seed documents: a news article, optionally followed by a "Vos réactions" section of
//! reader comments in the layout of the site they were saved from:
//!
//! ```text
//! Portrait de <author>
//! 22/juillet/2021 - 09h25[ - depuis l'application mobile]
//! [<other author> a écrit :
//!
//! <quoted paragraph>
//! ]
//! <reply paragraphs>
//! ```

use std::path::Path;

use crate::domain::Lang;
use crate::text::{detect_lang, normalize};

/// A reader comment from a seed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedComment {
    /// `<file stem>:c<NN>`, numbered in document order from 1.
    pub id: String,
    pub author: String,
    /// ISO 8601 with the Paris offset of that date, e.g. `2021-07-22T23:10:00+02:00`.
    pub timestamp: String,
    /// Posted from the site's mobile application.
    pub mobile: bool,
    /// The comment being answered: its author and the quoted text.
    pub quote: Option<(String, String)>,
    /// The reader's own words, without the quote.
    pub text: String,
}

/// An article paragraph from a seed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedParagraph {
    /// `<file stem>:p<NN>`, numbered in document order from 1.
    pub id: String,
    pub text: String,
    pub lang: Lang,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedDocument {
    /// File name without extension, e.g. `001_cc5694568f3475eb`.
    pub name: String,
    pub paragraphs: Vec<SeedParagraph>,
    pub comments: Vec<SeedComment>,
}

/// A seed comment or paragraph, as training text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedItem {
    pub id: String,
    pub text: String,
    pub lang: Lang,
}

impl SeedDocument {
    /// Comments (their own words) then paragraphs, each with its stable id.
    pub fn items(&self) -> impl Iterator<Item = SeedItem> + '_ {
        let comments = self.comments.iter().map(|c| SeedItem {
            id: c.id.clone(),
            text: c.text.clone(),
            lang: detect_lang(&normalize(&c.text).text),
        });
        let paragraphs = self.paragraphs.iter().map(|p| SeedItem {
            id: p.id.clone(),
            text: p.text.clone(),
            lang: p.lang,
        });
        comments.chain(paragraphs)
    }
}

const COMMENTS_HEADING: &str = "Vos réactions";
const AUTHOR_PREFIX: &str = "Portrait de ";
const QUOTE_SUFFIX: &str = " a écrit :";
const MOBILE_SUFFIX: &str = " - depuis l'application mobile";
/// Lines shorter than this are page furniture ("PUBLICITÉ", "Paris (AFP)", bylines), not
/// paragraphs.
const MIN_PARAGRAPH_WORDS: usize = 8;

/// Parses one seed document.
pub fn parse_seed(name: &str, content: &str) -> Result<SeedDocument, String> {
    let content = content.replace("\r\n", "\n");
    let (article, comments) = match content.split_once(&format!("\n{COMMENTS_HEADING}\n")) {
        Some((a, c)) => (a, Some(c)),
        None => (content.as_str(), None),
    };
    let paragraphs = article
        .lines()
        .map(str::trim)
        .filter(|l| l.split_whitespace().count() >= MIN_PARAGRAPH_WORDS)
        .enumerate()
        .map(|(i, l)| SeedParagraph {
            id: format!("{name}:p{:02}", i + 1),
            text: l.to_owned(),
            lang: detect_lang(&normalize(l).text),
        })
        .collect();
    let comments = match comments {
        Some(c) => parse_comments(name, c)?,
        None => Vec::new(),
    };
    Ok(SeedDocument {
        name: name.to_owned(),
        paragraphs,
        comments,
    })
}

fn parse_comments(name: &str, section: &str) -> Result<Vec<SeedComment>, String> {
    // Split into blocks, each starting at a "Portrait de" line.
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in section.lines() {
        if line.starts_with(AUTHOR_PREFIX) {
            blocks.push(Vec::new());
        }
        if let Some(b) = blocks.last_mut() {
            b.push(line);
        }
    }
    blocks
        .iter()
        .enumerate()
        .map(|(i, lines)| parse_comment(format!("{name}:c{:02}", i + 1), lines))
        .collect()
}

fn parse_comment(id: String, lines: &[&str]) -> Result<SeedComment, String> {
    let author = lines[0][AUTHOR_PREFIX.len()..].trim().to_owned();
    let stamp_line = lines
        .get(1)
        .ok_or_else(|| format!("{id}: no timestamp after the author"))?
        .trim();
    let (stamp, mobile) = match stamp_line.strip_suffix(MOBILE_SUFFIX) {
        Some(s) => (s, true),
        None => (stamp_line, false),
    };
    let timestamp =
        parse_timestamp(stamp).ok_or_else(|| format!("{id}: bad timestamp {stamp:?}"))?;

    let mut rest = &lines[2..];
    let mut quote = None;
    if let Some(quoted_author) = rest
        .first()
        .and_then(|l| l.trim_end().strip_suffix(QUOTE_SUFFIX))
    {
        // The quote is the first paragraph after "X a écrit :"; the reply follows it.
        rest = &rest[1..];
        let start = rest
            .iter()
            .position(|l| !l.trim().is_empty())
            .unwrap_or(rest.len());
        let end = rest[start..]
            .iter()
            .position(|l| l.trim().is_empty())
            .map_or(rest.len(), |p| start + p);
        let text = rest[start..end]
            .iter()
            .map(|l| l.trim())
            .collect::<Vec<_>>()
            .join("\n");
        quote = Some((quoted_author.trim().to_owned(), text));
        rest = &rest[end..];
    }
    let text = paragraphs(rest);
    if text.is_empty() {
        return Err(format!("{id}: comment has no text"));
    }
    Ok(SeedComment {
        id,
        author,
        timestamp,
        mobile,
        quote,
        text,
    })
}

/// Trims lines and joins paragraphs with one blank line.
fn paragraphs(lines: &[&str]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for l in lines.iter().map(|l| l.trim()) {
        if l.is_empty() {
            if !current.is_empty() {
                out.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(l);
        }
    }
    if !current.is_empty() {
        out.push(current.join("\n"));
    }
    out.join("\n\n")
}

/// Month names as normalisation leaves them (lowercase, accents kept), with the unaccented
/// spellings too.
const MONTHS: [&[&str]; 12] = [
    &["janvier"],
    &["février", "fevrier"],
    &["mars"],
    &["avril"],
    &["mai"],
    &["juin"],
    &["juillet"],
    &["août", "aout"],
    &["septembre"],
    &["octobre"],
    &["novembre"],
    &["décembre", "decembre"],
];

/// "22/juillet/2021 - 23h10" → "2021-07-22T23:10:00+02:00" (Europe/Paris).
pub fn parse_timestamp(s: &str) -> Option<String> {
    let (date, time) = s.split_once(" - ")?;
    let mut parts = date.trim().split('/');
    let day: u32 = parts.next()?.parse().ok()?;
    let month_name = normalize(parts.next()?).text;
    let year: i32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let month = MONTHS
        .iter()
        .position(|names| names.contains(&month_name.as_str()))? as u32
        + 1;
    let (h, m) = time.trim().split_once('h')?;
    let (hour, minute): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if !(1..=days_in_month(year, month)).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let offset = if paris_is_summer_time(year, month, day, hour) {
        2
    } else {
        1
    };
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:00+{offset:02}:00"
    ))
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Day of week, 0 = Sunday (Sakamoto's method).
fn weekday(y: i32, m: u32, d: u32) -> u32 {
    const T: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = if m < 3 { y - 1 } else { y };
    ((y + y / 4 - y / 100 + y / 400 + T[m as usize - 1] + d as i32) % 7) as u32
}

fn last_sunday(y: i32, m: u32) -> u32 {
    let last = days_in_month(y, m);
    last - weekday(y, m, last)
}

/// EU rule: summer time from the last Sunday of March, 02:00 local, to the last Sunday of
/// October, 03:00 local. The ambiguous hour in October is read as summer time.
fn paris_is_summer_time(y: i32, m: u32, d: u32, h: u32) -> bool {
    match m {
        4..=9 => true,
        3 => {
            let s = last_sunday(y, 3);
            d > s || (d == s && h >= 2)
        }
        10 => {
            let s = last_sunday(y, 10);
            d < s || (d == s && h < 3)
        }
        _ => false,
    }
}

/// Reads every `*.txt` file of a directory, sorted by name.
pub fn read_seed_dir(dir: &Path) -> Result<Vec<SeedDocument>, String> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let content =
                std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let name = p.file_stem().unwrap_or_default().to_string_lossy();
            parse_seed(&name, &content).map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_carry_the_paris_offset() {
        assert_eq!(
            parse_timestamp("22/juillet/2021 - 23h10").as_deref(),
            Some("2021-07-22T23:10:00+02:00")
        );
        assert_eq!(
            parse_timestamp("3/Février/2022 - 08h05").as_deref(),
            Some("2022-02-03T08:05:00+01:00")
        );
        // 2021: summer time began on 28 March and ended on 31 October.
        assert_eq!(
            parse_timestamp("28/mars/2021 - 01h59").unwrap().get(19..),
            Some("+01:00")
        );
        assert_eq!(
            parse_timestamp("28/mars/2021 - 03h00").unwrap().get(19..),
            Some("+02:00")
        );
        assert_eq!(
            parse_timestamp("31/octobre/2021 - 03h00")
                .unwrap()
                .get(19..),
            Some("+01:00")
        );
        assert_eq!(
            parse_timestamp("30/octobre/2021 - 23h00")
                .unwrap()
                .get(19..),
            Some("+02:00")
        );
        for bad in [
            "32/juillet/2021 - 10h00",
            "22/jule/2021 - 10h00",
            "22/juillet/2021 - 25h00",
            "22/07/2021",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn short_lines_are_not_paragraphs() {
        let doc = parse_seed("x", "PUBLICITÉ\n\nParis (AFP)\n\nLe président a réuni un conseil de défense exceptionnel ce jeudi matin.\n").unwrap();
        assert_eq!(doc.paragraphs.len(), 1);
        assert_eq!(doc.paragraphs[0].id, "x:p01");
        assert!(doc.comments.is_empty());
    }
}
