//! The fitted model: one value holding the vectoriser, every head's weights and the model
//! card. Scoring a comment is one pass over its features for all heads at once.

mod card;
mod file;
/// The L-BFGS solver the logistic fits use (allocation-free, deterministic).
pub mod lbfgs;
pub mod logistic;

pub use card::{
    BinaryMetrics, GridEdge, HeadCard, ModelCard, Platt, RealDataEvaluation, RealDataRow,
    SourceCard, StanceCard, StanceMetrics, Thresholds, TrainingSummary,
};
pub use file::{ModelError, FORMAT_VERSION};

use serde::{Deserialize, Serialize};

use crate::domain::{Lang, Stance};
use crate::features::{NgramKind, SparseRow, Vectorizer};
use crate::text::{detect_lang, normalize, Normalized};

/// Vectoriser, weights and card. Outputs are laid out as: one per binary head (in
/// `card.heads` order), then three per stance target (favor, against, none, in
/// `card.stance` order). Weights are feature-major: `weights[f * outputs + j]`, so one
/// feature's weights for every head sit together in memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub card: ModelCard,
    pub vectorizer: Vectorizer,
    outputs: usize,
    weights: Vec<f32>,
    intercepts: Vec<f32>,
    /// Measured after training, kept beside the model file, not in it ([`Model::load`]).
    #[serde(skip)]
    pub realdata: Option<RealDataEvaluation>,
}

/// A comment run through the model: its normalised text and features, every output's
/// logit, and the language.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub normalized: Normalized,
    pub row: SparseRow,
    logits: Vec<f32>,
    pub lang: Lang,
}

/// Stance probabilities toward one target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StanceScore {
    /// Index into `card.stance`.
    pub target: usize,
    /// In `Stance::ALL` order.
    pub probabilities: [f32; 3],
}

impl StanceScore {
    pub fn label(&self) -> Stance {
        let mut best = 0;
        for i in 1..3 {
            if self.probabilities[i] > self.probabilities[best] {
                best = i;
            }
        }
        Stance::ALL[best]
    }
}

/// How an analysed comment's feature values split over its words; see
/// [`Model::attribution`].
#[derive(Debug, Clone)]
pub struct Attribution {
    /// Words of the normalised text, as character ranges.
    words: Vec<(usize, usize)>,
    /// Per word: (position in the feature row, share of that feature's value).
    parts: Vec<Vec<(usize, f32)>>,
}

/// A word of the comment that pushed a head's score up: the n-grams inside it (its
/// character n-grams, itself, its share of the word bigrams around it) summed. The API
/// shows it as is (`ExplanationItem`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = ExplanationItem, description = "A word that pushed a flagged head up.")]
pub struct Contribution {
    // As written: "c0nnaaard", "c o n n a r d".
    /// The word as written in the comment.
    pub text: String,
    /// Offset of its first character, counted in Unicode scalar values of the original text.
    pub start: u32,
    /// Offset one past its last character.
    pub end: u32,
    /// Its contribution to the head's logit: the n-grams inside it, summed.
    pub weight: f32,
    // Heaviest first.
    /// The n-grams that weigh most inside it.
    pub ngrams: Vec<NgramShare>,
}

// An n-gram inside an explained word (`NgramWeight` in the API).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = NgramWeight)]
pub struct NgramShare {
    pub ngram: String,
    /// `word` (word 1–2-gram) or `char` (character n-gram; spaces mark word edges).
    #[schema(value_type = String)]
    pub kind: NgramKind,
    pub weight: f32,
}

impl Model {
    /// Assembles a model; `weights` is `n_features × outputs`, feature-major.
    pub fn new(
        card: ModelCard,
        vectorizer: Vectorizer,
        weights: Vec<f32>,
        intercepts: Vec<f32>,
    ) -> Result<Self, ModelError> {
        let m = Self {
            outputs: intercepts.len(),
            card,
            vectorizer,
            weights,
            intercepts,
            realdata: None,
        };
        m.validate()?;
        Ok(m)
    }

    fn validate(&self) -> Result<(), ModelError> {
        let expected = self.card.heads.len() + 3 * self.card.stance.len();
        let bad = |m: String| Err(ModelError::Corrupt(m));
        if self.outputs != expected {
            return bad(format!(
                "{} outputs for {} heads and {} stance targets",
                self.outputs,
                self.card.heads.len(),
                self.card.stance.len()
            ));
        }
        if self.weights.len() != self.vectorizer.n_features() * self.outputs {
            return bad("weight matrix does not match the vocabulary".into());
        }
        if self
            .weights
            .iter()
            .chain(&self.intercepts)
            .any(|w| !w.is_finite())
        {
            return bad("non-finite weight".into());
        }
        if let Some(t) = &self.card.default_target {
            if self.target_index(t.as_str()).is_none() {
                return bad(format!("default target {t:?} has no stance model"));
            }
        }
        Ok(())
    }

    pub fn head_index(&self, name: &str) -> Option<usize> {
        self.card.heads.iter().position(|h| h.name.as_str() == name)
    }

    pub fn target_index(&self, target: &str) -> Option<usize> {
        self.card
            .stance
            .iter()
            .position(|s| s.target.as_str() == target)
    }

    /// Normalises, vectorises and computes every output. `lang` overrides detection.
    pub fn analyze(&self, text: &str, lang: Option<Lang>) -> Analysis {
        let normalized = normalize(text);
        let row = self.vectorizer.transform_normalized(&normalized.text);
        let mut logits = self.intercepts.clone();
        let k = self.outputs;
        for (&f, &v) in row.indices.iter().zip(&row.values) {
            let w = &self.weights[f as usize * k..(f as usize + 1) * k];
            for (z, wj) in logits.iter_mut().zip(w) {
                *z += v * wj;
            }
        }
        let lang = lang.unwrap_or_else(|| detect_lang(&normalized.text));
        Analysis {
            normalized,
            row,
            logits,
            lang,
        }
    }

    /// P(positive) of each binary head, in `card.heads` order.
    pub fn head_probabilities(&self, a: &Analysis) -> Vec<f32> {
        a.logits[..self.card.heads.len()]
            .iter()
            .map(|&z| logistic::sigmoid(z as f64) as f32)
            .collect()
    }

    /// Stance toward target number `t`.
    pub fn stance(&self, a: &Analysis, t: usize) -> StanceScore {
        let off = self.card.heads.len() + 3 * t;
        let z: Vec<f64> = a.logits[off..off + 3].iter().map(|&v| v as f64).collect();
        let p = logistic::softmax(&z);
        StanceScore {
            target: t,
            probabilities: [p[0] as f32, p[1] as f32, p[2] as f32],
        }
    }

    /// Splits every n-gram occurrence of an analysed comment over the words it covers:
    /// a feature's value is shared evenly among its occurrences, and an occurrence evenly
    /// among its words (a bigram covers two). Computed once, used by every head's
    /// [`Model::explain`].
    pub fn attribution(&self, a: &Analysis) -> Attribution {
        let row = &a.row;
        let mut occurrences: Vec<(usize, (usize, usize))> = Vec::new();
        let mut counts = vec![0u32; row.indices.len()];
        self.vectorizer
            .for_each_feature(&a.normalized.text, |f, span| {
                if let Ok(pos) = row.indices.binary_search(&f) {
                    counts[pos] += 1;
                    occurrences.push((pos, span));
                }
            });
        // Words of the normalised text as character ranges, and the word of each char.
        let text = &a.normalized.text;
        let mut words: Vec<(usize, usize)> = Vec::new();
        let mut word_of = vec![usize::MAX; a.normalized.origin.len()];
        let (mut chars_before, mut byte_pos) = (0usize, 0usize);
        for (bs, be) in crate::text::words(text) {
            chars_before += text[byte_pos..bs].chars().count();
            let len = text[bs..be].chars().count();
            word_of[chars_before..chars_before + len].fill(words.len());
            words.push((chars_before, chars_before + len));
            chars_before += len;
            byte_pos = be;
        }
        let mut parts: Vec<Vec<(usize, f32)>> = vec![Vec::new(); words.len()];
        let mut covered: Vec<usize> = Vec::with_capacity(2);
        for (pos, (s, e)) in occurrences {
            covered.clear();
            for &w in &word_of[s..e] {
                if w != usize::MAX && covered.last() != Some(&w) {
                    covered.push(w);
                }
            }
            if covered.is_empty() {
                continue;
            }
            let share = row.values[pos] / counts[pos] as f32 / covered.len() as f32;
            for &w in &covered {
                match parts[w].iter_mut().find(|(p, _)| *p == pos) {
                    Some((_, v)) => *v += share,
                    None => parts[w].push((pos, share)),
                }
            }
        }
        Attribution { words, parts }
    }

    /// The words with the largest positive contributions to output `head`'s logit (their
    /// n-grams' values × weights, shared out by [`Model::attribution`]), at most `top`, so
    /// overlapping character n-grams add up to one highlighted word. `original` is the
    /// analysed text.
    pub fn explain(
        &self,
        original: &str,
        a: &Analysis,
        at: &Attribution,
        head: usize,
        top: usize,
    ) -> Vec<Contribution> {
        let k = self.outputs;
        let w_of = |pos: usize| self.weights[a.row.indices[pos] as usize * k + head];
        let weight: Vec<f32> = at
            .parts
            .iter()
            .map(|p| p.iter().map(|&(pos, share)| share * w_of(pos)).sum())
            .collect();
        let mut order: Vec<usize> = (0..weight.len()).filter(|&w| weight[w] > 0.0).collect();
        order.sort_by(|&x, &y| weight[y].total_cmp(&weight[x]).then(x.cmp(&y)));
        order.truncate(top);
        if order.is_empty() {
            return Vec::new();
        }
        let original: Vec<char> = original.chars().collect();
        order
            .into_iter()
            .map(|w| {
                let (start, end) = a.normalized.original_span(at.words[w].0, at.words[w].1);
                let mut grams: Vec<(usize, f32)> = at.parts[w]
                    .iter()
                    .map(|&(pos, share)| (pos, share * w_of(pos)))
                    .collect();
                grams.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
                let ngrams = grams
                    .into_iter()
                    .filter(|(_, v)| *v > 0.0)
                    .take(3)
                    .map(|(pos, v)| {
                        let (kind, ngram) =
                            self.vectorizer.feature_name(a.row.indices[pos] as usize);
                        NgramShare {
                            ngram: ngram.to_owned(),
                            kind,
                            weight: v,
                        }
                    })
                    .collect();
                Contribution {
                    text: original
                        .get(start as usize..end as usize)
                        .map(|c| c.iter().collect())
                        .unwrap_or_default(),
                    start,
                    end,
                    weight: weight[w],
                    ngrams,
                }
            })
            .collect()
    }

    /// Weight of feature `f` for output `j`.
    pub fn weight(&self, f: usize, j: usize) -> f32 {
        self.weights[f * self.outputs + j]
    }

    pub fn outputs(&self) -> usize {
        self.outputs
    }
}
