use unicode_normalization::char::{compose, decompose_compatible, is_combining_mark};

/// A normalised text and, for each of its characters, the range of original character
/// offsets (Unicode scalar values, end exclusive) it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    pub text: String,
    /// `origin[i]` = `(start, end)` in the original text, for the i-th char of `text`.
    pub origin: Vec<(u32, u32)>,
}

impl Normalized {
    /// Original character span of normalised characters `[start, end)`.
    pub fn original_span(&self, start: usize, end: usize) -> (u32, u32) {
        debug_assert!(start < end && end <= self.origin.len());
        (self.origin[start].0, self.origin[end - 1].1)
    }
}

#[derive(Clone, Copy)]
struct Ch {
    c: char,
    start: u32,
    end: u32,
}

/// Normalise `input` for feature extraction; see the module docs for the steps.
pub fn normalize(input: &str) -> Normalized {
    let mut chars = fold(input);
    chars = undo_leetspeak(chars);
    chars = join_spaced_letters(chars);
    chars = collapse_elongations(chars);
    let mut text = String::with_capacity(chars.len());
    let mut origin = Vec::with_capacity(chars.len());
    for ch in chars {
        text.push(ch.c);
        origin.push((ch.start, ch.end));
    }
    Normalized { text, origin }
}

/// Compatibility folding with accents kept (NFKC, one character at a time), lowercase, a few
/// typographic variants unified. Accents stay: French tells "à" from "a", "où" from "ou",
/// "pédé" from "pede", and dropping them cost 0.009 of cross-validated ROC-AUC on the French
/// tweets of `../shared/data` (MLMA), with nothing gained on English.
fn fold(input: &str) -> Vec<Ch> {
    let mut out = Vec::with_capacity(input.len());
    for (i, c) in input.chars().enumerate() {
        let (start, end) = (i as u32, i as u32 + 1);
        let mut push = |c: char| {
            for l in c.to_lowercase() {
                out.push(Ch { c: l, start, end });
            }
        };
        if c.is_ascii() {
            // What `to_lowercase` gives, without its iterator (a quarter of the time here).
            out.push(Ch {
                c: c.to_ascii_lowercase(),
                start,
                end,
            });
            continue;
        }
        // Letters that compatibility decomposition keeps whole.
        let special: Option<&str> = match c {
            'œ' | 'Œ' => Some("oe"),
            'æ' | 'Æ' => Some("ae"),
            'ß' => Some("ss"),
            'ø' | 'Ø' => Some("o"),
            'ł' | 'Ł' => Some("l"),
            '’' | '‘' | 'ʼ' | '`' | '´' => Some("'"),
            '«' | '»' | '“' | '”' | '„' => Some("\""),
            '–' | '—' | '‐' | '‑' => Some("-"),
            '\u{00a0}' | '\u{202f}' | '\u{2009}' => Some(" "),
            _ => None,
        };
        if let Some(s) = special {
            s.chars().for_each(&mut push);
            continue;
        }
        // A mark typed on its own (decomposed input, "e\u{301}") joins the letter before it,
        // so both spellings of "é" give the same text.
        if is_combining_mark(c) {
            if let Some(last) = out.last_mut() {
                if let Some(composed) = compose(last.c, c) {
                    last.c = composed;
                    last.end = end;
                }
            }
            continue;
        }
        // Decomposed ("ﬁ" → "fi", "ｃ" → "c", "é" → "e" + accent), then each accent put back
        // on its letter; a mark with no composed form is dropped.
        let mut letter: Option<char> = None;
        decompose_compatible(c, |d| {
            if is_combining_mark(d) {
                letter = letter.map(|l| compose(l, d).unwrap_or(l));
            } else if let Some(l) = letter.replace(d) {
                push(l);
            }
        });
        if let Some(l) = letter {
            push(l);
        }
    }
    out
}

fn leet_letter(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        '@' => 'a',
        '€' => 'e',
        _ => return None,
    })
}

/// Inside a word with at least two letters and no other digits, read `0 1 3 4 5 7 @ $ €`
/// as the letters they stand for ("c0nnard", "1d10t", "s@lope"). "2021", "covid19", "G7"
/// and "@jarod" (a mention) stay as they are.
fn undo_leetspeak(mut chars: Vec<Ch>) -> Vec<Ch> {
    let is_part = |c: char| c.is_alphanumeric() || matches!(c, '@' | '$' | '€' | '!');
    // Only the words around a leet character are looked at (most words have none); every
    // leet character is itself part of a word.
    let n = chars.len();
    let mut i = 0;
    while i < n {
        if leet_letter(chars[i].c).is_none() {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > 0 && is_part(chars[start - 1].c) {
            start -= 1;
        }
        i += 1;
        while i < n && is_part(chars[i].c) {
            i += 1;
        }
        // A trailing "!" is punctuation, not an "i".
        let mut end = i;
        while end > start && chars[end - 1].c == '!' {
            end -= 1;
        }
        let word = &chars[start..end];
        let letters = word.iter().filter(|c| c.c.is_alphabetic()).count();
        let leet = word.iter().filter(|c| leet_letter(c.c).is_some()).count();
        let other_digits = word
            .iter()
            .filter(|c| c.c.is_numeric() && leet_letter(c.c).is_none())
            .count();
        let mention = word.first().is_some_and(|c| c.c == '@');
        if letters >= 2 && leet > 0 && other_digits == 0 && !mention {
            for ch in &mut chars[start..end] {
                if let Some(l) = leet_letter(ch.c) {
                    ch.c = l;
                }
            }
        }
    }
    chars
}

/// "c o n n a r d", "c.o.n.n.a.r.d", "c-o-n" → one word: three or more single letters in a
/// row, separated by a single space, dot, dash or underscore.
fn join_spaced_letters(chars: Vec<Ch>) -> Vec<Ch> {
    let n = chars.len();
    let is_sep = |c: char| matches!(c, ' ' | '.' | '-' | '_' | '*');
    let lone_letter_at = |i: usize| {
        chars[i].c.is_alphabetic()
            && (i == 0 || !chars[i - 1].c.is_alphanumeric())
            && (i + 1 == n || !chars[i + 1].c.is_alphanumeric())
    };
    // Copied only once a run is joined: most texts have none, and come back as they were.
    let mut out = Vec::new();
    let mut copied = 0; // chars[copied..i] are still to copy into `out`
    let mut i = 0;
    // One alphanumeric test a character on the way (letters inside words stop there).
    let mut prev_alnum = false;
    while i < n {
        let here = chars[i].c.is_alphanumeric();
        if here && !prev_alnum && lone_letter_at(i) {
            // Extend the run: letter (sep letter)*
            let mut j = i;
            let mut count = 1;
            while j + 2 < n && is_sep(chars[j + 1].c) && lone_letter_at(j + 2) {
                j += 2;
                count += 1;
            }
            if count >= 3 {
                out.extend_from_slice(&chars[copied..i]);
                out.extend((i..=j).step_by(2).map(|k| chars[k]));
                i = j + 1;
                copied = i;
                prev_alnum = true; // chars[j] is a letter
                continue;
            }
        }
        prev_alnum = here;
        i += 1;
    }
    if out.is_empty() {
        return chars;
    }
    out.extend_from_slice(&chars[copied..]);
    out
}

/// Runs of three or more of the same character become one ("nuuul" → "nul",
/// "!!!!" → "!"); French and English have no legitimate triples.
fn collapse_elongations(mut chars: Vec<Ch>) -> Vec<Ch> {
    let n = chars.len();
    // Most texts have no triple: found in one pass, or returned as they are.
    let Some(first) =
        (2..n).find(|&k| chars[k].c == chars[k - 1].c && chars[k].c == chars[k - 2].c)
    else {
        return chars;
    };
    // In place from the first run of three (nothing before it changes): the write position
    // never passes the read position.
    let (mut w, mut i) = (first - 2, first - 2);
    while i < n {
        let mut j = i + 1;
        while j < n && chars[j].c == chars[i].c {
            j += 1;
        }
        if j - i >= 3 {
            chars[w] = Ch {
                c: chars[i].c,
                start: chars[i].start,
                end: chars[j - 1].end,
            };
            w += 1;
        } else {
            for k in i..j {
                chars[w] = chars[k];
                w += 1;
            }
        }
        i = j;
    }
    chars.truncate(w);
    chars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize(s).text
    }

    #[test]
    fn folds_case_accents_and_compatibility_forms() {
        assert_eq!(norm("Épique ÉTÉ"), "épique été");
        // Precomposed or decomposed, the same letters and the same offsets back.
        let decomposed = normalize("Ou\u{300} E\u{301}te\u{301}");
        assert_eq!(decomposed.text, "où été");
        assert_eq!(decomposed.text, norm("Où Été"));
        assert_eq!(decomposed.origin[1], (1, 3));
        assert_eq!(
            norm("\u{301}a\u{20dd}"),
            "a",
            "marks with nothing to join are dropped"
        );
        assert_eq!(norm("ﬁancé"), "fiancé");
        assert_eq!(norm("ｃｏｎｎａｒｄ"), "connard");
        assert_eq!(norm("ﬁn"), "fin");
        assert_eq!(norm("cœur"), "coeur");
        assert_eq!(norm("c’est"), "c'est");
        assert_eq!(norm("Dégage"), "dégage");
    }

    #[test]
    fn undoes_leetspeak_inside_words_only() {
        assert_eq!(norm("c0nnard"), "connard");
        assert_eq!(norm("M3RDE"), "merde");
        assert_eq!(norm("1d10t"), "idiot");
        assert_eq!(norm("s@lope"), "salope");
        assert_eq!(norm("en 2021, le G7"), "en 2021, le g7");
        assert_eq!(norm("covid19"), "covid19");
        assert_eq!(norm("@jarod.26 non"), "@jarod.26 non");
        assert_eq!(norm("nul!"), "nul!");
    }

    #[test]
    fn joins_spaced_letters() {
        assert_eq!(norm("c o n n a r d"), "connard");
        assert_eq!(norm("quel c.o.n !"), "quel con !");
        // Two lone letters are ordinary French.
        assert_eq!(norm("il y a"), "il y a");
    }

    #[test]
    fn collapses_elongations() {
        assert_eq!(norm("nuuuul"), "nul");
        assert_eq!(norm("Chuuuut"), "chut");
        assert_eq!(norm("connard"), "connard");
        assert_eq!(norm("!!!!"), "!");
    }

    #[test]
    fn offsets_point_back_to_the_original_characters() {
        let original = "Quel NUUUL, ce c0nnard é";
        let n = normalize(original);
        let orig: Vec<char> = original.chars().collect();
        let find = |needle: &str| {
            let byte = n.text.find(needle).unwrap();
            let start = n.text[..byte].chars().count();
            let (a, b) = n.original_span(start, start + needle.chars().count());
            orig[a as usize..b as usize].iter().collect::<String>()
        };
        assert_eq!(find("nul"), "NUUUL");
        assert_eq!(find("connard"), "c0nnard");
        assert_eq!(find("e"), "e"); // the first 'e' of "ce"
        assert_eq!(n.origin.len(), n.text.chars().count());

        let spaced = normalize("un c o n !");
        let byte = spaced.text.find("con").unwrap();
        let start = spaced.text[..byte].chars().count();
        assert_eq!(spaced.original_span(start, start + 3), (3, 8));
    }

    #[test]
    fn empty_and_symbol_only_inputs() {
        assert_eq!(norm(""), "");
        assert_eq!(normalize("🙂🙂").origin.len(), 2);
    }
}
