use std::sync::OnceLock;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::gram_index::{gram_hash, GramIndex};
use super::lexicon::{Lexicon, CATEGORIES};
use super::ngrams::{bigram, CharGrams};
use super::tally::TALLY;
use super::word_chars::WordChars;
use super::{for_each_ngram, for_each_ngram_pruned, NgramKind};
use crate::text::{is_contraction_suffix, normalize, words};

/// Vectoriser settings, stored in the model file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VectorizerParams {
    /// Word n-gram lengths, inclusive (default 1–2).
    pub word_ngrams: (usize, usize),
    /// Character n-gram lengths, inclusive (default 2–5).
    pub char_ngrams: (usize, usize),
    /// Keep n-grams seen in at least this many documents.
    pub min_df: u32,
    /// Keep at most this many n-grams, the most frequent first (0: no cap).
    pub max_features: usize,
}

impl Default for VectorizerParams {
    fn default() -> Self {
        Self {
            word_ngrams: (1, 2),
            char_ngrams: (2, 5),
            min_df: 2,
            max_features: 500_000,
        }
    }
}

/// A sparse feature row: sorted feature indices and their values; the n-gram features have
/// L2 norm 1, the lexicon's (after them) are outside the norm.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseRow {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

/// What is persisted: settings, sorted vocabularies and IDF weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct VectorizerData {
    params: VectorizerParams,
    /// Sorted word n-grams; feature `i` for `i < words.len()`.
    words: Vec<String>,
    /// Sorted character n-grams; feature `words.len() + i`.
    chars: Vec<String>,
    idf: Vec<f32>,
    /// Lexicon categories, features `idf.len()..` (none when empty).
    lexicon: Lexicon,
}

/// Value of a lexicon category found once in a comment (`1 + ln count` times this when more):
/// about what a salient word of a short comment gets. Lexicon features stay out of the two
/// n-gram blocks' norms, so a hit weighs the same in a long comment as in a short one.
const LEXICON_VALUE: f32 = 0.25;

/// A fitted TF-IDF vectoriser.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "VectorizerData", into = "VectorizerData")]
pub struct Vectorizer {
    data: VectorizerData,
    // Lookup tables, rebuilt on load (never persisted: hash values are not a file format).
    word_index: GramIndex,
    char_index: GramIndex,
    /// Every character n-gram longer than the shortest has its one-shorter prefix in the
    /// vocabulary too (true of what [`Vectorizer::fit`] builds): lookups may then stop at
    /// the first unknown n-gram from each start.
    prefix_closed: bool,
    /// The character n-gram features of each vocabulary word, when word unigrams are
    /// features (see [`WordChars`]).
    word_chars: Option<WordChars>,
}

/// `1 + ln(count)`, from a table for the small counts that nearly every n-gram has (the
/// same `f32::ln` values, so rows are bit for bit what they were).
fn sublinear_tf(count: usize) -> f32 {
    const TABLE: usize = 64;
    static LN: OnceLock<[f32; TABLE]> = OnceLock::new();
    let table = LN.get_or_init(|| std::array::from_fn(|c| 1.0 + (c as f32).ln()));
    match table.get(count) {
        Some(&tf) => tf,
        None => 1.0 + (count as f32).ln(),
    }
}

impl PartialEq for Vectorizer {
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
    }
}

impl TryFrom<VectorizerData> for Vectorizer {
    type Error = String;
    fn try_from(data: VectorizerData) -> Result<Self, String> {
        if data.idf.len() != data.words.len() + data.chars.len() {
            return Err("vectorizer: idf and vocabulary sizes differ".into());
        }
        let word_index = GramIndex::build(&data.words, 0, gram_hash)?;
        let char_index = GramIndex::build(&data.chars, data.words.len(), gram_hash)?;
        let shortest = data.params.char_ngrams.0.max(1);
        let prefix_closed = data.chars.iter().all(|g| {
            let n = g.chars().count();
            n <= shortest || {
                let cut = g.char_indices().last().map_or(0, |(i, _)| i);
                char_index.get(&g[..cut]).is_some()
            }
        });
        let mut v = Self {
            data,
            word_index,
            char_index,
            prefix_closed,
            word_chars: None,
        };
        let (w0, w1) = v.data.params.word_ngrams;
        if w0 <= 1 && 1 <= w1 {
            v.word_chars = Some(v.build_word_chars()?);
        }
        Ok(v)
    }
}

impl From<Vectorizer> for VectorizerData {
    fn from(v: Vectorizer) -> Self {
        v.data
    }
}

impl Vectorizer {
    /// Learns the vocabulary and IDF from `docs` (raw texts; normalised here).
    pub fn fit<S: AsRef<str> + Sync>(params: VectorizerParams, docs: &[S]) -> Self {
        let mut kept = frequent_ngrams(&params, docs);
        if params.max_features > 0 && kept.len() > params.max_features {
            // Most frequent first; ties broken by the n-gram itself, so the cut is stable.
            kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            kept.truncate(params.max_features);
        }
        kept.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let n = docs.len() as f64;
        let idf_of = |d: u32| (((1.0 + n) / (1.0 + d as f64)).ln() + 1.0) as f32;
        let (mut words, mut chars) = (Vec::new(), Vec::new());
        let (mut widf, mut cidf) = (Vec::new(), Vec::new());
        for ((kind, g), d) in kept {
            match kind {
                NgramKind::Word => {
                    words.push(g);
                    widf.push(idf_of(d));
                }
                NgramKind::Char => {
                    chars.push(g);
                    cidf.push(idf_of(d));
                }
                NgramKind::Lexicon => unreachable!("document frequencies count n-grams only"),
            }
        }
        widf.extend(cidf);
        Vectorizer::try_from(VectorizerData {
            params,
            words,
            chars,
            idf: widf,
            lexicon: Lexicon::default(),
        })
        .expect("a freshly built vocabulary is consistent")
    }

    /// The same vectoriser with `lexicon`'s categories as extra features after the n-grams.
    pub fn with_lexicon(mut self, lexicon: Lexicon) -> Self {
        self.data.lexicon = lexicon;
        self
    }

    pub fn lexicon(&self) -> &Lexicon {
        &self.data.lexicon
    }

    pub fn params(&self) -> &VectorizerParams {
        &self.data.params
    }

    pub fn n_features(&self) -> usize {
        self.data.idf.len() + self.data.lexicon.n_features()
    }

    /// The n-gram (or lexicon category) and its kind for a feature index.
    pub fn feature_name(&self, i: usize) -> (NgramKind, &str) {
        let nw = self.data.words.len();
        let ngrams = self.data.idf.len();
        if i < nw {
            (NgramKind::Word, &self.data.words[i])
        } else if i < ngrams {
            (NgramKind::Char, &self.data.chars[i - nw])
        } else {
            (NgramKind::Lexicon, CATEGORIES[i - ngrams])
        }
    }

    /// Adds the feature of each lexicon entry found in a normalised text to `hits`.
    fn lexicon_hits(&self, text: &str, hits: &mut Vec<u32>) {
        let base = self.data.idf.len() as u32;
        self.data
            .lexicon
            .for_each_category(text, |c| hits.push(base + c as u32));
    }

    fn lookup(&self, kind: NgramKind, gram: &str) -> Option<u32> {
        match kind {
            NgramKind::Word => self.word_index.get(gram),
            NgramKind::Char => self.char_index.get(gram),
            NgramKind::Lexicon => None,
        }
    }

    /// Calls `f` with the id of every character n-gram of `word` in the vocabulary.
    fn char_hits(&self, grams: &mut CharGrams, word: &str, mut f: impl FnMut(u32)) {
        grams.each(
            word,
            self.data.params.char_ngrams,
            self.prefix_closed,
            |g, _, _| match self.char_index.get(g) {
                Some(i) => {
                    f(i);
                    true
                }
                None => false,
            },
        );
    }

    fn build_word_chars(&self) -> Result<WordChars, String> {
        let mut grams = CharGrams::default();
        WordChars::build(&self.data.words, |word, ids| {
            self.char_hits(&mut grams, word, |i| ids.push(i))
        })
    }

    /// Features of an already normalised text.
    pub fn transform_normalized(&self, text: &str) -> SparseRow {
        let p = &self.data.params;
        let mut hits: Vec<u32> = Vec::with_capacity(text.len() * 4);
        if let Some(cache) = &self.word_chars {
            // The walk of `for_each_ngram`, with the known words' character n-grams copied.
            let bigrams = p.word_ngrams.0 <= 2 && 2 <= p.word_ngrams.1;
            let mut bigram_buf = String::new();
            let mut grams = CharGrams::default();
            let mut prev: Option<&str> = None;
            for (bs, be) in words(text) {
                let word = &text[bs..be];
                if is_contraction_suffix(text, bs, be) {
                    self.char_hits(&mut grams, word, |i| hits.push(i));
                    continue;
                }
                let id = self.word_index.get(word);
                hits.extend(id);
                if let (true, Some(pw)) = (bigrams, prev) {
                    hits.extend(self.word_index.get(bigram(&mut bigram_buf, pw, word)));
                }
                prev = Some(word);
                match id {
                    Some(i) => hits.extend_from_slice(cache.of(i)),
                    None => self.char_hits(&mut grams, word, |i| hits.push(i)),
                }
            }
            self.lexicon_hits(text, &mut hits);
            return self.weigh(&hits);
        }
        let mut hit = |k, g: &str| match self.lookup(k, g) {
            Some(i) => {
                hits.push(i);
                true
            }
            None => false,
        };
        if self.prefix_closed {
            for_each_ngram_pruned(text, p.word_ngrams, p.char_ngrams, |k, g, _| hit(k, g));
        } else {
            for_each_ngram(text, p.word_ngrams, p.char_ngrams, |k, g, _| {
                hit(k, g);
            });
        }
        self.lexicon_hits(text, &mut hits);
        self.weigh(&hits)
    }

    /// Features of a raw text.
    pub fn transform(&self, text: &str) -> SparseRow {
        self.transform_normalized(&normalize(text).text)
    }

    /// Calls `f(feature, (start, end))` for every occurrence of a vocabulary n-gram in a
    /// normalised text; the range counts characters of `text`.
    pub fn for_each_feature(&self, text: &str, mut f: impl FnMut(u32, (usize, usize))) {
        let p = &self.data.params;
        for_each_ngram(text, p.word_ngrams, p.char_ngrams, |k, g, span| {
            if let Some(i) = self.lookup(k, g) {
                f(i, span);
            }
        });
        let base = self.data.idf.len() as u32;
        self.data
            .lexicon
            .for_each_match(text, |c, span| f(base + c as u32, span));
    }

    /// Counts → sublinear tf × idf → L2 norm, per block: the word block and the character
    /// block are each scaled to norm 1/√2 (the row to norm 1), as scikit-learn's
    /// `FeatureUnion` of two vectorisers does. Otherwise the ~60 character n-grams of each
    /// word would drown its one word feature.
    fn weigh(&self, hits: &[u32]) -> SparseRow {
        let n_words = self.data.words.len() as u32;
        let n_ngrams = self.data.idf.len() as u32;
        let bound = self.n_features();
        let mut row = SparseRow::default();
        let (mut word_norm2, mut char_norm2) = (0f32, 0f32);
        // The hits are gathered first and counted in one tight loop: counting them during
        // the walk, between lookups, was slower.
        TALLY.with_borrow_mut(|tally| {
            tally.start(bound);
            hits.iter().for_each(|&i| tally.add(i));
            tally.drain(bound, |id, count| {
                let tf = sublinear_tf(count as usize);
                let v = if id < n_words {
                    let v = tf * self.data.idf[id as usize];
                    word_norm2 += v * v;
                    v
                } else if id < n_ngrams {
                    let v = tf * self.data.idf[id as usize];
                    char_norm2 += v * v;
                    v
                } else {
                    tf * LEXICON_VALUE
                };
                row.indices.push(id);
                row.values.push(v);
            })
        });
        // A block that is empty leaves the whole norm to the other.
        let blocks = u8::from(word_norm2 > 0.0) + u8::from(char_norm2 > 0.0);
        if blocks > 0 {
            let share = (blocks as f32).sqrt().recip();
            let scale = |n2: f32| if n2 > 0.0 { share / n2.sqrt() } else { 0.0 };
            let (ws, cs) = (scale(word_norm2), scale(char_norm2));
            for (idx, v) in row.indices.iter().zip(row.values.iter_mut()) {
                if *idx < n_ngrams {
                    *v *= if *idx < n_words { ws } else { cs };
                }
            }
        }
        row
    }
}

/// Every n-gram of `docs` (normalised here) in at least `params.min_df` of them, with its
/// document frequency, in no particular order.
fn frequent_ngrams<S: AsRef<str> + Sync>(
    params: &VectorizerParams,
    docs: &[S],
) -> Vec<((NgramKind, String), u32)> {
    // Document frequencies, one map a kind. Each entry remembers the last document that
    // counted it, so a document counts an n-gram once without sorting its n-grams; an
    // n-gram's text is copied only the first time it is seen.
    type Df = [hashbrown::HashMap<String, (u32, usize), rustc_hash::FxBuildHasher>; 2];
    let df: Df = docs
        .par_iter()
        .enumerate()
        .fold(Df::default, |mut df, (d, doc)| {
            let norm = normalize(doc.as_ref());
            for_each_ngram(
                &norm.text,
                params.word_ngrams,
                params.char_ngrams,
                |k, g, _| {
                    let e = df[k as usize].entry_ref(g).or_insert((0, usize::MAX));
                    if e.1 != d {
                        *e = (e.0 + 1, d);
                    }
                },
            );
            df
        })
        .reduce(Df::default, |mut a, b| {
            for (k, map) in b.into_iter().enumerate() {
                for (g, (n, _)) in map {
                    a[k].entry(g).or_insert((0, 0)).0 += n;
                }
            }
            a
        });
    let [word_df, char_df] = df;
    let df = word_df
        .into_iter()
        .map(|(g, (n, _))| ((NgramKind::Word, g), n))
        .chain(
            char_df
                .into_iter()
                .map(|(g, (n, _))| ((NgramKind::Char, g), n)),
        );
    df.filter(|(_, d)| *d >= params.min_df).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_hash_finds_every_vocabulary_entry_and_nothing_else() {
        let v = small();
        for (i, g) in v.data.chars.iter().enumerate() {
            assert_eq!(
                v.lookup(NgramKind::Char, g),
                Some((v.data.words.len() + i) as u32)
            );
        }
        assert_eq!(v.lookup(NgramKind::Char, "qqqqq"), None);
    }

    fn small() -> Vectorizer {
        let params = VectorizerParams {
            min_df: 1,
            ..Default::default()
        };
        Vectorizer::fit(
            params,
            &["quel connard", "quel beau match", "beau match hier"],
        )
    }

    #[test]
    fn pruned_lookups_find_every_feature() {
        let docs = [
            "quel connard, vraiment",
            "quel beau match hier soir",
            "beau match, quel but",
            "un connard de plus",
            "le match de hier",
        ];
        let v = Vectorizer::fit(
            VectorizerParams {
                min_df: 2,
                ..Default::default()
            },
            &docs,
        );
        assert!(v.prefix_closed, "a fitted vocabulary is prefix-closed");
        assert!(
            v.word_chars.is_some(),
            "unigrams: known words' char features listed"
        );
        // The plain walk: every n-gram of every word looked up.
        let mut plain = v.clone();
        plain.prefix_closed = false;
        plain.word_chars = None;
        let mut unpruned = v.clone();
        unpruned.prefix_closed = false;
        let texts = [
            "quelle connerie ce match",
            "match match quel quel connard",
            "it's a match, don't quel'l connard",
            "xyz",
            "",
        ];
        for t in docs.iter().chain(&texts) {
            assert_eq!(v.transform(t), plain.transform(t), "{t:?}");
            assert_eq!(unpruned.transform(t), plain.transform(t), "{t:?}");
        }
        // Word features of a known word: its unigram and its char n-grams.
        let known = v.lookup(NgramKind::Word, "match").unwrap();
        let listed = v.word_chars.as_ref().unwrap().of(known);
        assert!(!listed.is_empty());
        assert!(listed
            .iter()
            .all(|&i| v.feature_name(i as usize).0 == NgramKind::Char));
        let bigram = v.lookup(NgramKind::Word, "beau match").unwrap();
        assert!(v.word_chars.as_ref().unwrap().of(bigram).is_empty());
        // A vocabulary with a hole (as a hand-made file could have) is not pruned.
        let mut data = VectorizerData::from(v.clone());
        let i = data
            .chars
            .iter()
            .position(|g| g.chars().count() == 2)
            .unwrap();
        data.idf.remove(data.words.len() + i);
        data.chars.remove(i);
        assert!(!Vectorizer::try_from(data).unwrap().prefix_closed);
    }

    #[test]
    fn rows_are_l2_normalised_and_sorted() {
        let v = small();
        let row = v.transform("Quel CONNARD !");
        let n: f32 = row.values.iter().map(|x| x * x).sum();
        assert!((n - 1.0).abs() < 1e-5);
        assert!(row.indices.windows(2).all(|w| w[0] < w[1]));
        assert!(v.transform("∅∅").indices.is_empty());
    }

    #[test]
    fn a_comment_gets_the_same_features_alone_or_after_others() {
        let v = small();
        let a = v.transform("beau match");
        let _ = v.transform("quel connard quel connard");
        assert_eq!(v.transform("beau match"), a);
    }

    #[test]
    fn smoothed_idf_and_sublinear_tf() {
        let v = small();
        // "quel" is in 2 of 3 docs, "connard" in 1.
        let idx = |g: &str| v.lookup(NgramKind::Word, g).unwrap() as usize;
        let idf_quel = ((4.0f64 / 3.0).ln() + 1.0) as f32;
        let idf_connard = ((4.0f64 / 2.0).ln() + 1.0) as f32;
        assert!((v.data.idf[idx("quel")] - idf_quel).abs() < 1e-6);
        assert!((v.data.idf[idx("connard")] - idf_connard).abs() < 1e-6);
        // Only word unigrams, to check tf: "quel quel connard" → quel: 1 + ln 2.
        let w = Vectorizer::fit(
            VectorizerParams {
                word_ngrams: (1, 1),
                char_ngrams: (0, 0),
                min_df: 1,
                max_features: 0,
            },
            &["quel connard", "quel"],
        );
        let row = w.transform("quel quel connard");
        let (q, c) = (
            (1.0 + 2f32.ln()) * w.data.idf[w.lookup(NgramKind::Word, "quel").unwrap() as usize],
            w.data.idf[w.lookup(NgramKind::Word, "connard").unwrap() as usize],
        );
        let norm = (q * q + c * c).sqrt();
        assert_eq!(row.indices.len(), 2);
        assert!((row.values[0] - c / norm).abs() < 1e-6); // "connard" sorts first
        assert!((row.values[1] - q / norm).abs() < 1e-6);
    }

    #[test]
    fn min_df_and_max_features_prune_deterministically() {
        let docs = ["aa bb", "aa cc", "aa bb dd"];
        let p = VectorizerParams {
            word_ngrams: (1, 1),
            char_ngrams: (0, 0),
            min_df: 2,
            max_features: 0,
        };
        let v = Vectorizer::fit(p.clone(), &docs);
        assert_eq!(v.data.words, ["aa", "bb"]);
        let v1 = Vectorizer::fit(
            VectorizerParams {
                max_features: 1,
                ..p
            },
            &docs,
        );
        assert_eq!(v1.data.words, ["aa"]);
    }

    #[test]
    fn obfuscated_words_share_features() {
        let v = small();
        assert_eq!(v.transform("c0nnaaard"), v.transform("connard"));
        assert_eq!(v.transform("c o n n a r d"), v.transform("connard"));
    }
}
