//! Scoring one comment, with no HTTP in it: [`validate`] checks a request against the text
//! limit and the model (language, stance target), [`score`] runs the model and the policy
//! (scores, stance, decision, flagged heads and the words that pushed each flagged head up),
//! [`scores`] the scores and stance alone, and [`run`] one pass over a text for callers that
//! read the heads themselves (Perspective). The API (`/v1/score`, batch, comments, Coral,
//! Perspective), the `score` command line, the fuzz checks and the bench all go through here.

mod result;

use crate::domain::{CommentText, Lang, Target, TextError};
use crate::model::{Analysis, Model};
use crate::policy::Policy;

pub use result::{ExplanationItem, NgramWeight, Scored, Scores, StanceResult};

/// The service's default limit on a comment's length, in characters.
pub const DEFAULT_MAX_TEXT_CHARS: usize = 10_000;

/// How many words an explanation lists per flagged head.
pub const EXPLAIN_TOP: usize = 8;

/// Why a comment cannot be scored as asked. Each layer maps it onto its own errors.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error(transparent)]
    Text(#[from] TextError),
    #[error("unsupported language {0:?}; use \"fr\" or \"en\"")]
    InvalidLang(String),
    #[error("unknown target {target:?}; this model has stance models for: {known}")]
    UnknownTarget { target: String, known: String },
    #[error("this model has no stance model, so no target can be given")]
    NoStanceModel,
}

impl ScoreError {
    /// Stable, machine-readable, the same in the API and the command line.
    pub fn code(&self) -> &'static str {
        match self {
            ScoreError::Text(TextError::Empty) => "empty_text",
            ScoreError::Text(TextError::TooLong { .. }) => "text_too_long",
            ScoreError::Text(TextError::Nul) => "invalid_text",
            ScoreError::InvalidLang(_) => "invalid_lang",
            ScoreError::UnknownTarget { .. } | ScoreError::NoStanceModel => "unknown_target",
        }
    }
}

/// A validated scoring request.
#[derive(Debug, Clone)]
pub struct Input {
    pub text: CommentText,
    /// The stance target's index in the model: the one asked for, else the model's default.
    pub target: Option<usize>,
    /// The language given; detected from the text when `None`.
    pub lang: Option<Lang>,
}

/// Checks a request against the text limit and the model.
pub fn validate(
    model: &Model,
    max_text_chars: usize,
    text: String,
    target: Option<&str>,
    lang: Option<&str>,
) -> Result<Input, ScoreError> {
    let text = CommentText::parse(text, max_text_chars)?;
    let lang = lang
        .map(|l| l.parse().map_err(|_| ScoreError::InvalidLang(l.to_owned())))
        .transpose()?;
    let target = match target {
        None => default_target(model),
        Some(t) => Some(target_index(model, t)?),
    };
    Ok(Input { text, target, lang })
}

fn default_target(model: &Model) -> Option<usize> {
    let t = model.card.default_target.as_ref()?;
    model.target_index(t.as_str())
}

/// The index of a stance target given by its id or its name.
fn target_index(model: &Model, t: &str) -> Result<usize, ScoreError> {
    if model.card.stance.is_empty() {
        return Err(ScoreError::NoStanceModel);
    }
    // "Hillary Clinton" finds the target trained as `hillary-clinton`.
    let slug = || Target::from_name(t).ok();
    let index = model
        .target_index(t)
        .or_else(|| model.target_index(slug()?.as_str()));
    index.ok_or_else(|| ScoreError::UnknownTarget {
        target: t.to_owned(),
        known: model
            .card
            .stance
            .iter()
            .map(|s| s.target.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// One pass of the model over a text: its analysis and every binary head's probability, in
/// `card.heads` order.
pub struct Pass {
    pub analysis: Analysis,
    pub probs: Vec<f32>,
}

/// Runs the model over `text` (in `lang`, detected when `None`).
pub fn run(model: &Model, text: &str, lang: Option<Lang>) -> Pass {
    let analysis = model.analyze(text, lang);
    let probs = model.head_probabilities(&analysis);
    Pass { analysis, probs }
}

/// Scores and stance of a validated comment, without the policy or explanations.
pub fn scores(model: &Model, input: &Input) -> Scores {
    let pass = run(model, input.text.as_str(), input.lang);
    Scores::new(model, &pass, input.target)
}

/// Scores a validated comment: probabilities, stance, decision and explanations.
pub fn score(model: &Model, policy: &Policy, input: &Input) -> Scored {
    let pass = run(model, input.text.as_str(), input.lang);
    let (decision, flagged) = policy.decide(&model.card, &pass.probs);
    let explanation = result::explain(model, input.text.as_str(), &pass.analysis, &flagged);
    let Scores {
        lang,
        scores,
        stance,
    } = Scores::new(model, &pass, input.target);
    Scored {
        model_id: model.card.model_id.clone(),
        lang,
        lang_detected: input.lang.is_none(),
        scores,
        stance,
        decision,
        flagged: flagged.into_iter().map(|i| head_name(model, i)).collect(),
        explanation,
    }
}

fn head_name(model: &Model, i: usize) -> String {
    model.card.heads[i].name.to_string()
}
