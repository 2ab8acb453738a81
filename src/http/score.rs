//! `POST /v1/score` and `POST /v1/score/batch`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorBody};
use super::extract::Json;
use super::{AppState, Limits};
use crate::domain::{CommentText, Decision, Lang, Stance};
use crate::features::NgramKind;
use crate::model::Model;
use crate::policy::Policy;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/score", post(score))
        .route("/v1/score/batch", post(score_batch))
}

/// How many words an explanation lists per flagged head.
const EXPLAIN_TOP: usize = 8;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRequest {
    /// The comment, at most the configured number of characters (default 10,000).
    pub text: String,
    /// Stance target; the model's default when absent.
    #[serde(default)]
    pub target: Option<String>,
    /// `fr` or `en`; detected from the text when absent.
    #[serde(default)]
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    /// Echoed back in the result.
    #[serde(default)]
    pub id: Option<String>,
    pub text: String,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// At most the configured batch size (default 1,000).
    pub comments: Vec<BatchItem>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NgramWeight {
    pub ngram: String,
    /// `word` (word 1–2-gram) or `char` (character n-gram; spaces mark word edges).
    #[schema(value_type = String)]
    pub kind: NgramKind,
    pub weight: f32,
}

/// A word that pushed a flagged head up.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExplanationItem {
    /// The word as written in the comment.
    pub text: String,
    /// Offset of its first character, counted in Unicode scalar values of the original text.
    pub start: u32,
    /// Offset one past its last character.
    pub end: u32,
    /// Its contribution to the head's logit: the n-grams inside it, summed.
    pub weight: f32,
    /// The n-grams that weigh most inside it.
    pub ngrams: Vec<NgramWeight>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StanceResult {
    pub target: String,
    #[schema(value_type = String)]
    pub label: Stance,
    /// `favor`, `against`, `none` → probability.
    pub probabilities: BTreeMap<String, f32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScoreResponse {
    pub model_id: String,
    /// `fr` or `en`.
    #[schema(value_type = String)]
    pub lang: Lang,
    /// Whether `lang` was detected from the text (true) or given by the request.
    pub lang_detected: bool,
    /// Binary head → probability.
    pub scores: BTreeMap<String, f32>,
    pub stance: Option<StanceResult>,
    /// `allow`, `flag` or `reject`.
    #[schema(value_type = String)]
    pub decision: Decision,
    /// Heads at or over their flag threshold.
    pub flagged: Vec<String>,
    /// For each flagged head, the words that pushed it up, where they are, and their n-grams.
    pub explanation: BTreeMap<String, Vec<ExplanationItem>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    pub id: Option<String>,
    #[serde(flatten)]
    pub result: ScoreResponse,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResponse {
    pub results: Vec<BatchResult>,
}

/// A validated scoring request.
pub struct ScoreInput {
    pub text: CommentText,
    pub target: Option<usize>,
    pub lang: Option<Lang>,
}

/// Checks a request against the limits and the model.
pub fn validate(
    model: &Model,
    limits: &Limits,
    text: String,
    target: Option<&str>,
    lang: Option<&str>,
) -> Result<ScoreInput, ApiError> {
    let text = CommentText::parse(text, limits.max_text_chars)?;
    let lang = lang
        .map(|l| Lang::parse(l).ok_or_else(|| ApiError::InvalidLang(l.to_owned())))
        .transpose()?;
    let target = match target {
        None => model
            .card
            .default_target
            .as_ref()
            .and_then(|t| model.target_index(t.as_str())),
        Some(t) => {
            if model.card.stance.is_empty() {
                return Err(ApiError::NoStanceModel);
            }
            let index = model.target_index(t).or_else(|| {
                // "Hillary Clinton" finds the target trained as `hillary-clinton`.
                let slug = crate::domain::Target::from_name(t).ok()?;
                model.target_index(slug.as_str())
            });
            Some(index.ok_or_else(|| {
                ApiError::UnknownTarget {
                    target: t.to_owned(),
                    known: model
                        .card
                        .stance
                        .iter()
                        .map(|s| s.target.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })?)
        }
    };
    Ok(ScoreInput { text, target, lang })
}

/// Scores a validated comment: probabilities, stance, decision and explanations.
pub fn score_input(model: &Model, policy: &Policy, input: &ScoreInput) -> ScoreResponse {
    let a = model.analyze(input.text.as_str(), input.lang);
    let probs = model.head_probabilities(&a);
    let (decision, flagged) = policy.decide(&model.card, &probs);
    let name = |i: usize| model.card.heads[i].name.to_string();
    let attribution = (!flagged.is_empty()).then(|| model.attribution(&a));
    let explanation = flagged
        .iter()
        .map(|&i| {
            let items = model
                .explain(
                    input.text.as_str(),
                    &a,
                    attribution
                        .as_ref()
                        .expect("computed when a head is flagged"),
                    i,
                    EXPLAIN_TOP,
                )
                .into_iter()
                .map(|c| ExplanationItem {
                    text: c.text,
                    start: c.start,
                    end: c.end,
                    weight: c.weight,
                    ngrams: c
                        .ngrams
                        .into_iter()
                        .map(|n| NgramWeight {
                            ngram: n.ngram,
                            kind: n.kind,
                            weight: n.weight,
                        })
                        .collect(),
                })
                .collect();
            (name(i), items)
        })
        .collect();
    let stance = input.target.map(|t| {
        let s = model.stance(&a, t);
        StanceResult {
            target: model.card.stance[t].target.to_string(),
            label: s.label(),
            probabilities: Stance::ALL
                .iter()
                .map(|c| (c.as_str().to_owned(), s.probabilities[c.index()]))
                .collect(),
        }
    });
    ScoreResponse {
        model_id: model.card.model_id.clone(),
        lang: a.lang,
        lang_detected: input.lang.is_none(),
        scores: probs
            .iter()
            .enumerate()
            .map(|(i, &p)| (name(i), p))
            .collect(),
        stance,
        decision,
        flagged: flagged.into_iter().map(name).collect(),
        explanation,
    }
}

/// Score one comment.
#[utoipa::path(
    post,
    path = "/v1/score", tag = "scoring",
    request_body = ScoreRequest,
    responses(
        (status = 200, description = "Scores, stance, decision and explanation", body = ScoreResponse),
        (status = 400, description = "Invalid JSON", body = ErrorBody),
        (status = 413, description = "Body over the size limit", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Empty or too long text, unknown target or language, unknown field, wrong type", body = ErrorBody),
    )
)]
pub async fn score(
    State(app): State<AppState>,
    Json(req): Json<ScoreRequest>,
) -> Result<Json<ScoreResponse>, ApiError> {
    let model = app.model.load_full();
    let input = validate(
        &model,
        &app.limits,
        req.text,
        req.target.as_deref(),
        req.lang.as_deref(),
    )?;
    let scored = score_input(&model, &app.policy, &input);
    app.metrics.decided(scored.decision, &scored.flagged);
    Ok(Json(scored))
}

/// Score up to 1,000 comments at once. One bad comment fails the whole batch with an error
/// naming its index, so no result is silently missing.
#[utoipa::path(
    post,
    path = "/v1/score/batch", tag = "scoring",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per comment, in order", body = BatchResponse),
        (status = 400, description = "Invalid JSON", body = ErrorBody),
        (status = 413, description = "Body over the size limit", body = ErrorBody),
        (status = 422, description = "Empty or oversized batch, or a bad comment (message names its index)", body = ErrorBody),
    )
)]
pub async fn score_batch(
    State(app): State<AppState>,
    Json(req): Json<BatchRequest>,
) -> Result<Json<BatchResponse>, ApiError> {
    let n = req.comments.len();
    if n == 0 {
        return Err(ApiError::EmptyBatch);
    }
    if n > app.limits.max_batch {
        return Err(ApiError::BatchTooLarge {
            len: n,
            max: app.limits.max_batch,
        });
    }
    let model = app.model.load_full();
    let mut inputs = Vec::with_capacity(n);
    for (i, c) in req.comments.into_iter().enumerate() {
        let input = validate(
            &model,
            &app.limits,
            c.text,
            c.target.as_deref(),
            c.lang.as_deref(),
        )
        .map_err(|e| e.at(i))?;
        inputs.push((c.id, input));
    }
    let state = app.clone();
    let results = tokio::task::spawn_blocking(move || {
        use rayon::prelude::*;
        inputs
            .par_iter()
            .map(|(id, input)| BatchResult {
                id: id.clone(),
                result: score_input(&model, &state.policy, input),
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    for r in &results {
        app.metrics.decided(r.result.decision, &r.result.flagged);
    }
    Ok(Json(BatchResponse { results }))
}
