//! TF-IDF over word 1–2-grams and character 2–5-grams (within word boundaries, padded
//! with spaces, like scikit-learn's `char_wb`), with a vocabulary fixed at training time.
//!
//! Not linfa-preprocessing's `TfIdfVectorizer`: it recomputes IDF from the batch being
//! transformed (so one comment at serving time would get other features than in training)
//! and has no character n-grams. Here IDF is learned once and stored with the model, so a
//! comment scores the same alone or in a batch.
//!
//! Values: sublinear tf (`1 + ln tf`), smoothed idf (`ln((1 + n) / (1 + df)) + 1`),
//! L2-normalised rows. Vocabulary entries are sorted strings: stable across machines and
//! readable in reports and explanations.

mod gram_index;
mod lexicon;
mod ngrams;
mod tally;
mod vectorizer;
mod word_chars;

pub use lexicon::{Lexicon, LexiconError, CATEGORIES as LEXICON_CATEGORIES};
pub use ngrams::{for_each_ngram, for_each_ngram_pruned, NgramKind};
pub use vectorizer::{SparseRow, Vectorizer, VectorizerParams};
