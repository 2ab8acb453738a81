use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::{for_each_ngram, NgramKind};
use crate::text::normalize;

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

/// A sparse, L2-normalised feature row: sorted feature indices and their values.
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
}

/// A fitted TF-IDF vectoriser.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "VectorizerData", into = "VectorizerData")]
pub struct Vectorizer {
    data: VectorizerData,
    // Lookup tables, rebuilt on load (never persisted: hash values are not a file format).
    word_index: FxHashMap<Box<str>, u32>,
    char_index: FxHashMap<Box<str>, u32>,
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
        let index = |v: &[String], offset: usize| -> FxHashMap<Box<str>, u32> {
            v.iter()
                .enumerate()
                .map(|(i, s)| (s.as_str().into(), (offset + i) as u32))
                .collect()
        };
        let word_index = index(&data.words, 0);
        let char_index = index(&data.chars, data.words.len());
        if word_index.len() != data.words.len() || char_index.len() != data.chars.len() {
            return Err("vectorizer: duplicate vocabulary entries".into());
        }
        Ok(Self {
            data,
            word_index,
            char_index,
        })
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
        type Df = FxHashMap<(NgramKind, String), u32>;
        let df: Df = docs
            .par_iter()
            .fold(Df::default, |mut df, doc| {
                let norm = normalize(doc.as_ref());
                let mut grams: Vec<(NgramKind, String)> = Vec::new();
                for_each_ngram(
                    &norm.text,
                    params.word_ngrams,
                    params.char_ngrams,
                    |k, g, _| grams.push((k, g.to_owned())),
                );
                grams.sort_unstable();
                grams.dedup();
                for g in grams {
                    *df.entry(g).or_insert(0) += 1;
                }
                df
            })
            .reduce(Df::default, |mut a, b| {
                for (k, v) in b {
                    *a.entry(k).or_insert(0) += v;
                }
                a
            });
        let mut kept: Vec<((NgramKind, String), u32)> = df
            .into_iter()
            .filter(|(_, d)| *d >= params.min_df)
            .collect();
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
            }
        }
        widf.extend(cidf);
        Vectorizer::try_from(VectorizerData {
            params,
            words,
            chars,
            idf: widf,
        })
        .expect("a freshly built vocabulary is consistent")
    }

    pub fn params(&self) -> &VectorizerParams {
        &self.data.params
    }

    pub fn n_features(&self) -> usize {
        self.data.idf.len()
    }

    /// The n-gram and its kind for a feature index.
    pub fn feature_name(&self, i: usize) -> (NgramKind, &str) {
        let nw = self.data.words.len();
        if i < nw {
            (NgramKind::Word, &self.data.words[i])
        } else {
            (NgramKind::Char, &self.data.chars[i - nw])
        }
    }

    fn lookup(&self, kind: NgramKind, gram: &str) -> Option<u32> {
        match kind {
            NgramKind::Word => self.word_index.get(gram).copied(),
            NgramKind::Char => self.char_index.get(gram).copied(),
        }
    }

    /// Features of an already normalised text.
    pub fn transform_normalized(&self, text: &str) -> SparseRow {
        let p = &self.data.params;
        let mut hits: Vec<u32> = Vec::with_capacity(text.len() * 4);
        for_each_ngram(text, p.word_ngrams, p.char_ngrams, |k, g, _| {
            if let Some(i) = self.lookup(k, g) {
                hits.push(i);
            }
        });
        self.weigh(hits)
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
    }

    /// Counts → sublinear tf × idf → L2 norm, per block: the word block and the character
    /// block are each scaled to norm 1/√2 (the row to norm 1), as scikit-learn's
    /// `FeatureUnion` of two vectorisers does. Otherwise the ~60 character n-grams of each
    /// word would drown its one word feature.
    fn weigh(&self, mut hits: Vec<u32>) -> SparseRow {
        hits.sort_unstable();
        let n_words = self.data.words.len() as u32;
        let mut row = SparseRow::default();
        let mut i = 0;
        let (mut word_norm2, mut char_norm2) = (0f32, 0f32);
        while i < hits.len() {
            let mut j = i + 1;
            while j < hits.len() && hits[j] == hits[i] {
                j += 1;
            }
            let tf = 1.0 + ((j - i) as f32).ln();
            let v = tf * self.data.idf[hits[i] as usize];
            if hits[i] < n_words {
                word_norm2 += v * v;
            } else {
                char_norm2 += v * v;
            }
            row.indices.push(hits[i]);
            row.values.push(v);
            i = j;
        }
        // A block that is empty leaves the whole norm to the other.
        let blocks = u8::from(word_norm2 > 0.0) + u8::from(char_norm2 > 0.0);
        if blocks > 0 {
            let share = (blocks as f32).sqrt().recip();
            let scale = |n2: f32| if n2 > 0.0 { share / n2.sqrt() } else { 0.0 };
            let (ws, cs) = (scale(word_norm2), scale(char_norm2));
            for (idx, v) in row.indices.iter().zip(row.values.iter_mut()) {
                *v *= if *idx < n_words { ws } else { cs };
            }
        }
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
