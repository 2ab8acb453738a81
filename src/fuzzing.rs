//! Invariants that must hold on any input, checked by the cargo-fuzz targets of `fuzz/`
//! (coverage-guided, long runs, outside CI) and by `tests/fuzz_smoke.rs` (seeds and
//! seeded random mutations of them, in every `cargo test`). Each check panics on a
//! violation.
//!
//! [`check_normalize`]: the normaliser, the word splitter, the n-gram tokeniser and
//! language detection:
//! - `origin` has one entry per normalised character, each a non-empty range of original
//!   character offsets inside the input, in order (starts and ends never go back), so every
//!   range maps back to a slice of the original string on char boundaries;
//! - the normalised text is at most `MAX_EXPANSION` characters per input character;
//! - `words` gives non-empty, increasing, non-overlapping byte ranges on char boundaries,
//!   made of alphanumeric characters only, and each maps back through `original_span`;
//! - every n-gram span lies inside the normalised text and is non-empty.
//!
//! [`check_score`]: a text through a model (analyse, head and stance probabilities,
//! attribution, the explanation of every head), then [`crate::scoring::score`] for
//! texts the API would accept:
//! - the feature row is sorted, finite, and of norm 1 (or empty);
//! - every head and stance probability is finite and in [0, 1], stance probabilities sum
//!   to 1;
//! - every explanation span is a non-empty range of characters of the text, on char
//!   boundaries, whose `text` is exactly that slice, with a finite positive weight.

use crate::domain::Lang;
use crate::features::{for_each_ngram, NgramKind};
use crate::model::Model;
use crate::policy::Policy;
use crate::scoring;
use crate::text::{detect_lang, normalize, words};

/// The longest compatibility decomposition in Unicode: U+FDFA ARABIC LIGATURE SALLALLAHOU
/// ALAYHE WASALLAM, 18 characters. Folding never produces more than that per character.
const MAX_EXPANSION: usize = 18;

/// Checks a span of character offsets `[start, end)` against `text` and returns its slice.
pub fn char_span(text: &str, start: u64, end: u64) -> &str {
    assert!(start < end, "empty span {start}..{end}");
    let a = byte_of_char(text, start as usize).expect("span start inside the text");
    let b = byte_of_char(text, end as usize).expect("span end inside the text");
    text.get(a..b).expect("span on char boundaries")
}

fn prob(p: f32, what: &str) {
    assert!(p.is_finite() && (0.0..=1.0).contains(&p), "{what} = {p}");
}

/// Byte offset of character `i` of `s` (`s.len()` for `i` = the number of characters).
fn byte_of_char(s: &str, i: usize) -> Option<usize> {
    s.char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(s.len()))
        .nth(i)
}

/// The invariants of the `normalize` target on one input (see the module docs).
pub fn check_normalize(input: &str) {
    let n_chars = input.chars().count();
    let norm = normalize(input);
    let out_chars = norm.text.chars().count();

    // One origin range per normalised character.
    assert_eq!(norm.origin.len(), out_chars, "origin length");
    // Bounded growth.
    assert!(
        out_chars <= MAX_EXPANSION * n_chars,
        "{out_chars} normalised characters from {n_chars}"
    );
    assert!(norm.text.len() <= 4 * MAX_EXPANSION * n_chars);
    // Ranges: non-empty, inside the input, in order.
    let mut prev = (0u32, 0u32);
    for (i, &(s, e)) in norm.origin.iter().enumerate() {
        assert!(s < e, "origin[{i}] = {s}..{e} is empty");
        assert!(
            e as usize <= n_chars,
            "origin[{i}] = {s}..{e} past {n_chars}"
        );
        assert!(s >= prev.0 && e >= prev.1, "origin[{i}] goes back");
        prev = (s, e);
    }
    // Every range maps back to a slice of the original on char boundaries.
    if let (Some(&(first, _)), Some(&(_, last))) = (norm.origin.first(), norm.origin.last()) {
        let a = byte_of_char(input, first as usize).expect("start inside the input");
        let b = byte_of_char(input, last as usize).expect("end inside the input");
        assert!(input.get(a..b).is_some());
    }

    // Words of the normalised text.
    let mut last_end = 0usize;
    let mut char_pos = 0usize;
    for (a, b) in words(&norm.text) {
        assert!(a < b && b <= norm.text.len(), "word {a}..{b}");
        assert!(a >= last_end, "words overlap or go back");
        let word = norm.text.get(a..b).expect("word on char boundaries");
        assert!(word.chars().all(char::is_alphanumeric), "word {word:?}");
        char_pos += norm.text[last_end..a].chars().count();
        let len = word.chars().count();
        let (s, e) = norm.original_span(char_pos, char_pos + len);
        assert!(s < e && e as usize <= n_chars);
        char_pos += len;
        last_end = b;
    }
    // The word splitter works on raw text too.
    for (a, b) in words(input) {
        assert!(a < b && input.get(a..b).is_some());
    }

    // N-grams as the default vectoriser takes them (word 1–2, char 2–5).
    for_each_ngram(&norm.text, (1, 2), (2, 5), |kind, gram, (s, e)| {
        assert!(!gram.is_empty());
        assert!(s < e && e <= out_chars, "{kind:?} {gram:?} at {s}..{e}");
        if kind == NgramKind::Word {
            assert!(!gram.starts_with(' ') && !gram.ends_with(' '));
        }
    });

    let _ = detect_lang(&norm.text);
    let _ = detect_lang(input);
}

/// The invariants of the `score` target on one input: the first byte picks the language
/// (given or detected), the rest, read as UTF-8 with invalid sequences replaced, is the
/// comment.
pub fn check_score(m: &Model, policy: &Policy, data: &[u8]) {
    let (lang, rest) = match data.split_first() {
        Some((b, rest)) => (
            match b % 3 {
                0 => None,
                1 => Some(Lang::Fr),
                _ => Some(Lang::En),
            },
            rest,
        ),
        None => (None, data),
    };
    let text = String::from_utf8_lossy(rest);
    let text = text.as_ref();

    let a = m.analyze(text, lang);
    if let Some(l) = lang {
        assert_eq!(a.lang, l);
    }
    assert!(a.row.indices.windows(2).all(|w| w[0] < w[1]));
    assert!(a
        .row
        .indices
        .iter()
        .all(|&i| (i as usize) < m.vectorizer.n_features()));
    assert!(a.row.values.iter().all(|v| v.is_finite() && *v > 0.0));
    // The n-gram features have norm 1; lexicon categories come after them, outside the norm.
    let n_ngrams = m.vectorizer.n_features() - m.vectorizer.lexicon().n_features();
    let ngrams = a.row.indices.iter().zip(&a.row.values);
    let (norm2, ngram_count) = ngrams
        .filter(|(&i, _)| (i as usize) < n_ngrams)
        .fold((0f32, 0usize), |(n2, c), (_, v)| (n2 + v * v, c + 1));
    assert!(
        ngram_count == 0 || (norm2 - 1.0).abs() < 1e-3,
        "n-gram norm² {norm2}"
    );

    let probs = m.head_probabilities(&a);
    assert_eq!(probs.len(), m.card.heads.len());
    for (h, &p) in m.card.heads.iter().zip(&probs) {
        prob(p, h.name.as_str());
    }
    for t in 0..m.card.stance.len() {
        let s = m.stance(&a, t);
        for p in s.probabilities {
            prob(p, "stance");
        }
        let sum: f32 = s.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-3, "stance sums to {sum}");
    }

    let at = m.attribution(&a);
    for head in 0..m.card.heads.len() {
        let contributions = m.explain(text, &a, &at, head, 8);
        assert!(contributions.len() <= 8);
        for c in contributions {
            assert_eq!(
                char_span(text, c.start.into(), c.end.into()),
                c.text,
                "{c:?}"
            );
            assert!(c.weight.is_finite() && c.weight > 0.0, "{c:?}");
            assert!(c.ngrams.len() <= 3);
            assert!(c.ngrams.iter().all(|g| g.weight.is_finite()));
        }
    }

    // What the API does with a text it accepts: decision and explanations of flagged heads.
    let max = scoring::DEFAULT_MAX_TEXT_CHARS;
    if let Ok(input) = scoring::validate(m, max, text.to_owned(), None, lang.map(Lang::code)) {
        let r = scoring::score(m, policy, &input);
        for (name, &p) in &r.scores {
            prob(p, name);
        }
        for (name, items) in &r.explanation {
            assert!(r.flagged.contains(name));
            for it in items {
                assert_eq!(char_span(text, it.start.into(), it.end.into()), it.text);
            }
        }
        if let Some(s) = &r.stance {
            for (name, &p) in &s.probabilities {
                prob(p, name);
            }
        }
    }
}
