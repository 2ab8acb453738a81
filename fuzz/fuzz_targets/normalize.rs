//! Arbitrary bytes (read as UTF-8, invalid sequences replaced) through the normaliser, the
//! word splitter, the n-gram tokeniser and language detection.
//!
//! Invariants:
//! - nothing panics (debug assertions and overflow checks are on in fuzz builds);
//! - `origin` has one entry per normalised character, each a non-empty range of original
//!   character offsets inside the input, in order (starts and ends never go back), so every
//!   range maps back to a slice of the original string on char boundaries;
//! - the normalised text is at most `MAX_EXPANSION` characters per input character;
//! - `words` gives non-empty, increasing, non-overlapping byte ranges on char boundaries,
//!   made of alphanumeric characters only, and each maps back through `original_span`;
//! - every n-gram span lies inside the normalised text and is non-empty.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie::features::{for_each_ngram, NgramKind};
use vigie::text::{detect_lang, normalize, words};

/// The longest compatibility decomposition in Unicode: U+FDFA ARABIC LIGATURE SALLALLAHOU
/// ALAYHE WASALLAM, 18 characters. Folding never produces more than that per character.
const MAX_EXPANSION: usize = 18;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    check(&input);
});

/// Byte offset of character `i` of `s` (`s.len()` for `i` = the number of characters).
fn byte_of_char(s: &str, i: usize) -> Option<usize> {
    s.char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(s.len()))
        .nth(i)
}

fn check(input: &str) {
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
