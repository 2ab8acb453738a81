use crate::text::{is_contraction_suffix, words as words_of};

/// Which vocabulary an n-gram belongs to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum NgramKind {
    Word,
    Char,
    /// A lexicon category ([`super::Lexicon`]), not an n-gram of the text.
    Lexicon,
}

/// Calls `f(kind, ngram, (start, end))` for every word n-gram with `n` in `words` and every
/// padded character n-gram with `n` in `chars`, over a normalised text. `(start, end)` is
/// the n-gram's range of characters in `text` (padding excluded). Word bigrams are joined
/// with one space. Reuses internal buffers: `f` must copy what it keeps.
pub fn for_each_ngram(
    text: &str,
    words: (usize, usize),
    chars: (usize, usize),
    mut f: impl FnMut(NgramKind, &str, (usize, usize)),
) {
    walk(text, words, chars, false, |k, g, span| {
        f(k, g, span);
        true
    });
}

/// As [`for_each_ngram`], but character n-grams go by start position, shortest first, and
/// when `f` returns `false` for one, the longer ones from the same start are skipped: they
/// extend it, so a vocabulary that lacks it lacks them too (when it is prefix-closed, as
/// document-frequency cuts make it). The order of the calls differs from
/// [`for_each_ngram`]'s; the set of known n-grams found is the same.
pub fn for_each_ngram_pruned(
    text: &str,
    words: (usize, usize),
    chars: (usize, usize),
    f: impl FnMut(NgramKind, &str, (usize, usize)) -> bool,
) {
    walk(text, words, chars, true, f);
}

/// A word bigram as the vocabulary spells it, the two words joined by one space, in `buf`.
pub(crate) fn bigram<'a>(buf: &'a mut String, first: &str, second: &str) -> &'a str {
    buf.clear();
    buf.push_str(first);
    buf.push(' ');
    buf.push_str(second);
    buf
}

/// Reusable buffers for the padded character n-grams of one word at a time.
#[derive(Debug, Default)]
pub(crate) struct CharGrams {
    padded: String,
    bounds: Vec<usize>,
}

impl CharGrams {
    /// Calls `f(gram, k, n)` for every character n-gram of `" word "` with `n` in `chars`,
    /// `k` its first character in the padded word. Pruned (see [`for_each_ngram_pruned`]):
    /// by start, shortest first, and `false` skips the longer ones from that start;
    /// otherwise by length, then start, and the value `f` returns is ignored.
    pub(crate) fn each(
        &mut self,
        word: &str,
        chars: (usize, usize),
        prune: bool,
        mut f: impl FnMut(&str, usize, usize) -> bool,
    ) {
        if chars.1 < chars.0 || chars.1 == 0 {
            return;
        }
        let padded = &mut self.padded;
        padded.clear();
        padded.push(' ');
        padded.push_str(word);
        padded.push(' ');
        let bounds = &mut self.bounds;
        bounds.clear();
        bounds.extend(padded.char_indices().map(|(i, _)| i));
        bounds.push(padded.len());
        let plen = bounds.len() - 1; // characters in the padded word
        let lengths = chars.0.max(1)..=chars.1.min(plen);
        if prune {
            for k in 0..plen {
                for n in lengths.clone() {
                    if k + n > plen || !f(&padded[bounds[k]..bounds[k + n]], k, n) {
                        break;
                    }
                }
            }
        } else {
            for n in lengths {
                for k in 0..=plen - n {
                    f(&padded[bounds[k]..bounds[k + n]], k, n);
                }
            }
        }
    }
}

fn walk(
    text: &str,
    words: (usize, usize),
    chars: (usize, usize),
    prune: bool,
    mut f: impl FnMut(NgramKind, &str, (usize, usize)) -> bool,
) {
    let mut bigram_buf = String::new();
    let mut grams = CharGrams::default();
    // (byte start, byte end, char start) of the previous word.
    let mut prev: Option<(usize, usize, usize)> = None;
    let mut char_pos = 0usize;
    let mut byte_pos = 0usize;
    for (bs, be) in words_of(text) {
        char_pos += text[byte_pos..bs].chars().count();
        let cs = char_pos;
        let wlen = text[bs..be].chars().count();
        let ce = cs + wlen;
        char_pos = ce;
        byte_pos = be;
        let word = &text[bs..be];

        if !is_contraction_suffix(text, bs, be) {
            if words.0 <= 1 && 1 <= words.1 {
                f(NgramKind::Word, word, (cs, ce));
            }
            if words.0 <= 2 && 2 <= words.1 {
                if let Some((pbs, pbe, pcs)) = prev {
                    f(
                        NgramKind::Word,
                        bigram(&mut bigram_buf, &text[pbs..pbe], word),
                        (pcs, ce),
                    );
                }
            }
            prev = Some((bs, be, cs));
        }
        // Padded char k is word char k - 1; clip the padding off the span.
        grams.each(word, chars, prune, |g, k, n| {
            let s = cs + k.saturating_sub(1);
            let e = cs + (k + n - 1).min(wlen);
            f(NgramKind::Char, g, (s, e.max(s + 1)))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(
        text: &str,
        w: (usize, usize),
        c: (usize, usize),
    ) -> Vec<(NgramKind, String, (usize, usize))> {
        let mut out = Vec::new();
        for_each_ngram(text, w, c, |k, g, s| out.push((k, g.to_owned(), s)));
        out
    }

    #[test]
    fn word_unigrams_and_bigrams_with_spans() {
        let g = collect("il n'est pas", (1, 2), (0, 0));
        let words: Vec<_> = g.iter().map(|(_, s, sp)| (s.as_str(), *sp)).collect();
        assert_eq!(
            words,
            [
                ("il", (0, 2)),
                ("n", (3, 4)),
                ("il n", (0, 4)),
                ("est", (5, 8)),
                ("n est", (3, 8)),
                ("pas", (9, 12)),
                ("est pas", (5, 12)),
            ]
        );
    }

    #[test]
    fn contraction_suffixes_give_char_ngrams_but_no_word_ngrams() {
        let g = collect("don't care", (1, 2), (2, 2));
        let words: Vec<_> = g
            .iter()
            .filter(|(k, _, _)| *k == NgramKind::Word)
            .map(|(_, s, sp)| (s.as_str(), *sp))
            .collect();
        assert_eq!(
            words,
            [("don", (0, 3)), ("care", (6, 10)), ("don care", (0, 10))]
        );
        let chars: Vec<_> = g
            .iter()
            .filter(|(k, _, _)| *k == NgramKind::Char)
            .map(|(_, s, _)| s.as_str())
            .collect();
        assert!(chars.contains(&" t") && chars.contains(&"t "), "{chars:?}");
        // Elisions come before the apostrophe: kept.
        let g = collect("l'a", (1, 1), (0, 0));
        let words: Vec<_> = g.iter().map(|(_, s, _)| s.as_str()).collect();
        assert_eq!(words, ["l"]);
    }

    #[test]
    fn padded_char_ngrams() {
        let g = collect("ab", (0, 0), (2, 3));
        let grams: Vec<_> = g.iter().map(|(_, s, sp)| (s.as_str(), *sp)).collect();
        assert_eq!(
            grams,
            [
                (" a", (0, 1)),
                ("ab", (0, 2)),
                ("b ", (1, 2)),
                (" ab", (0, 2)),
                ("ab ", (0, 2))
            ]
        );
        // A one-letter word still yields its padded forms, and n-grams never overrun.
        let g = collect("é", (0, 0), (2, 5));
        let grams: Vec<_> = g.iter().map(|(_, s, _)| s.as_str()).collect();
        assert_eq!(grams, [" é", "é ", " é "]);
    }

    #[test]
    fn pruning_skips_the_extensions_of_unknown_grams() {
        let all = collect("abcd efg", (1, 2), (2, 5));
        let mut seen = Vec::new();
        for_each_ngram_pruned("abcd efg", (1, 2), (2, 5), |k, g, s| {
            seen.push((k, g.to_owned(), s));
            true
        });
        let (mut a, mut b) = (all.clone(), seen);
        a.sort();
        b.sort();
        assert_eq!(a, b, "nothing pruned: the same n-grams");
        // Unknown: every gram containing "c"; its extensions are never offered.
        let mut offered = Vec::new();
        for_each_ngram_pruned("abcd", (0, 0), (2, 5), |_, g, _| {
            offered.push(g.to_owned());
            !g.contains('c')
        });
        assert!(offered.contains(&" ab".to_owned()) && offered.contains(&"bc".to_owned()));
        assert!(
            !offered.iter().any(|g| g.starts_with("bc") && g.len() > 2),
            "{offered:?}"
        );
        assert!(!offered.contains(&" abcd".to_owned()) && offered.contains(&"d ".to_owned()));
    }

    #[test]
    fn spans_count_characters_not_bytes() {
        let g = collect("ça va", (1, 1), (0, 0));
        assert_eq!(g[1].2, (3, 5));
    }
}
