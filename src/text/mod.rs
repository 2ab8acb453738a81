//! Text normalisation with an offset map back to the original, word tokenisation and
//! French/English detection.
//!
//! Normalisation folds what readers vary on purpose or by accident, so that
//! "C0NNAAARD", "c o n n a r d" and "connard" give the same features:
//! compatibility decomposition (NFKC's folding of ligatures, full-width letters, etc.),
//! case folding, accent removal, leetspeak inside words, spaced-out letters and
//! elongations. Each normalised character remembers the range of original characters it
//! came from, so explanations can point back into the text the reader wrote.

mod lang;
mod normalize;

pub use lang::detect_lang;
pub use normalize::{normalize, Normalized};

/// Byte ranges of the words (maximal runs of alphanumeric characters) of a normalised text.
pub fn words(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut iter = text.char_indices().peekable();
    std::iter::from_fn(move || {
        // Skip separators.
        let start = loop {
            let (i, c) = iter.next()?;
            if c.is_alphanumeric() {
                break i;
            }
        };
        let mut end = text.len();
        while let Some(&(i, c)) = iter.peek() {
            if !c.is_alphanumeric() {
                end = i;
                break;
            }
            iter.next();
        }
        Some((start, end))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_on_non_alphanumerics() {
        let t = "l'ont vu, c'est 2021!";
        let w: Vec<&str> = words(t).map(|(a, b)| &t[a..b]).collect();
        assert_eq!(w, ["l", "ont", "vu", "c", "est", "2021"]);
        assert_eq!(words("").count(), 0);
        assert_eq!(words(" ... ").count(), 0);
    }
}
