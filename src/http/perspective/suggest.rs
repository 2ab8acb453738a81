//! Perspective's `POST /v1alpha1/comments:suggestscore`: a client's corrected scores for a
//! text, stored as labels of the model's heads (with the key that sent them), for the label
//! export and retraining. Attributes map to heads as in `analyze` (`TOXICITY` → `toxicity`,
//! `INSULT`, `THREAT`, `IDENTITY_ATTACK`, `PROFANITY`, `*_EXPERIMENTAL`, any head in
//! capitals); a summary score of 0.5 or more is the label 1, under it 0. `SEVERE_TOXICITY`,
//! derived from `toxicity` when the model has no head of that name, can say only that a
//! comment is toxic: at 0.5 or more it is `toxicity: 1`, under it it labels nothing. Span
//! scores are checked and not kept: Vigie learns from whole comments. Unlike `analyze`,
//! this method always needs a scorer key, whatever `--score-requires-key` says: what it is
//! sent teaches the model.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    check_context, check_kind, check_text, json_body, key_name, presented_key, source,
    unsupported_languages, KeyParam, PerspectiveError, PerspectiveErrorBody, Source, TextEntry,
};
use crate::corpus::Labels;
use crate::domain::{HeadName, Lang};
use crate::http::AppState;
use crate::model::Model;
use crate::store::{now_ms, NewSuggestion};

/// Longest `communityId`, `clientToken` or `sessionId`, in characters.
const MAX_ID_CHARS: usize = 256;

/// Perspective's `SuggestCommentScoreRequest`. Unknown fields are refused.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = SuggestCommentScoreRequest)]
pub struct SuggestRequest {
    /// The comment the scores are for (plain text, at most 20,480 characters).
    #[serde(default)]
    #[schema(required = true)]
    pub comment: Option<TextEntry>,
    /// Accepted (an object) and not stored.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: Option<Value>,
    /// Attribute → the scores suggested for it; at least one, each with a `summaryScore`
    /// whose `value` lies in [0, 1] (0.5 or more: the label 1). `TOXICITY`, `INSULT`,
    /// `THREAT`, `IDENTITY_ATTACK`, `PROFANITY` (`*_EXPERIMENTAL` too) or any head of the
    /// model in capitals; `SEVERE_TOXICITY` at 0.5 or more labels `toxicity` 1.
    #[serde(default)]
    #[schema(required = true)]
    pub attribute_scores: BTreeMap<String, SuggestedScores>,
    /// `fr` or `en`; detected from the text when empty.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Stored with the labels (the site's sub-community).
    #[serde(default)]
    pub community_id: Option<String>,
    /// Stored with the labels and echoed in the response.
    #[serde(default)]
    pub client_token: Option<String>,
    /// Accepted and not used.
    #[serde(default)]
    pub session_id: Option<String>,
}

/// The scores suggested for one attribute.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SuggestedScores {
    /// The score of the whole comment: the label.
    #[serde(default)]
    #[schema(required = true)]
    pub summary_score: Option<SuggestedScore>,
    /// Checked (begin ≤ end within the text, in UTF-16 code units; values in [0, 1]) and
    /// not kept.
    #[serde(default)]
    pub span_scores: Vec<SuggestedSpan>,
}

/// A suggested score.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestedScore {
    /// In [0, 1]; for a binary label, 0 or 1.
    pub value: f64,
    /// `PROBABILITY` (assumed when absent) or `SCORE_TYPE_UNSPECIFIED`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// A suggested score of a part of the comment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestedSpan {
    pub begin: i64,
    pub end: i64,
    pub score: SuggestedScore,
}

/// Perspective's `SuggestCommentScoreResponse`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = SuggestCommentScoreResponse)]
pub struct SuggestResponse {
    /// The language detected from the text.
    pub detected_languages: Vec<String>,
    /// The request's languages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub requested_languages: Vec<String>,
    /// The request's `clientToken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

/// Perspective API's `comments:suggestscore`: stores the suggested scores as labels.
#[utoipa::path(
    post,
    path = "/v1alpha1/comments:suggestscore",
    tag = "perspective",
    params(
        ("key" = Option<String>, Query, description = "A scorer key (always needed here), as Perspective clients send it"),
        ("X-Goog-Api-Key" = Option<String>, Header, description = "The key, as Google's clients may send it instead"),
    ),
    request_body(content = SuggestRequest, description = "Perspective's SuggestCommentScoreRequest"),
    responses(
        (status = 200, description = "Stored: Perspective's SuggestCommentScoreResponse", body = SuggestResponse),
        (status = 400, description = "Perspective's INVALID_ARGUMENT: invalid request, empty or too long comment, unknown attribute, a score outside [0, 1], unsupported language (`details[0].errorType`), or a refused key (`details[0].reason` API_KEY_INVALID); nothing stored", body = PerspectiveErrorBody),
        (status = 403, description = "Missing API key", body = PerspectiveErrorBody),
        (status = 413, description = "Body over the size limit", body = PerspectiveErrorBody),
        (status = 503, description = "The database is unavailable: nothing stored, send it again", body = PerspectiveErrorBody),
    )
)]
pub async fn suggest_score(
    State(app): State<AppState>,
    Query(q): Query<KeyParam>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<SuggestResponse>, PerspectiveError> {
    let key_name = key_name(&app, presented_key(q.key, &headers)).await?;
    let req: SuggestRequest = json_body(body)?;
    let text = checked_text(&req)?;
    for (name, v) in [
        ("communityId", &req.community_id),
        ("clientToken", &req.client_token),
        ("sessionId", &req.session_id),
    ] {
        check_id(name, v.as_deref())?;
    }
    let lang = language(&req)?;
    let labels = labels(&app.model.load(), &req, text)?;
    let detected = crate::text::detect_lang(&crate::text::normalize(text).text);
    let suggestion = NewSuggestion {
        text: text.to_owned(),
        lang: lang.unwrap_or(detected).code().to_owned(),
        labels: labels.to_json(),
        community_id: req.community_id,
        client_token: req.client_token.clone(),
        key_name,
        now_ms: now_ms(),
    };
    app.store
        .add_suggestion(suggestion)
        .await
        .map_err(PerspectiveError::store)?;
    Ok(axum::Json(SuggestResponse {
        detected_languages: vec![detected.code().to_owned()],
        requested_languages: req.languages,
        client_token: req.client_token,
    }))
}

fn invalid(message: impl Into<String>) -> PerspectiveError {
    PerspectiveError::invalid("INVALID_REQUEST", message)
}

/// The comment's text, checked as `analyze` checks it; a NUL, which no database stores, is
/// refused.
fn checked_text(req: &SuggestRequest) -> Result<&str, PerspectiveError> {
    check_context(req.context.as_ref())?;
    let Some(comment) = &req.comment else {
        return Err(PerspectiveError::invalid(
            "COMMENT_EMPTY",
            "Comment must be non-empty.",
        ));
    };
    check_kind(comment.kind.as_deref())?;
    check_text(&comment.text)?;
    if comment.text.contains('\0') {
        return Err(invalid("Comment text contains a NUL character."));
    }
    Ok(&comment.text)
}

/// An optional identifier: at most [`MAX_ID_CHARS`] characters, no NUL.
fn check_id(name: &str, v: Option<&str>) -> Result<(), PerspectiveError> {
    match v {
        Some(s) if s.contains('\0') => Err(invalid(format!("{name} contains a NUL character."))),
        Some(s) if s.chars().count() > MAX_ID_CHARS => Err(invalid(format!(
            "{name} is longer than {MAX_ID_CHARS} characters."
        ))),
        _ => Ok(()),
    }
}

/// The first requested language; every one must be `fr` or `en`.
fn language(req: &SuggestRequest) -> Result<Option<Lang>, PerspectiveError> {
    let unsupported: Vec<String> = req
        .languages
        .iter()
        .filter(|l| l.parse::<Lang>().is_err())
        .cloned()
        .collect();
    if let Some(name) = req.attribute_scores.keys().next() {
        if !unsupported.is_empty() {
            return Err(unsupported_languages(&req.languages, &unsupported, name));
        }
    }
    Ok(req.languages.first().and_then(|l| l.parse().ok()))
}

/// The labels the suggested scores amount to, on the model's heads.
fn labels(model: &Model, req: &SuggestRequest, text: &str) -> Result<Labels, PerspectiveError> {
    if req.attribute_scores.is_empty() {
        return Err(invalid("attributeScores must not be empty."));
    }
    let text_units = text.encode_utf16().count();
    let mut labels = Labels::default();
    let mut from: BTreeMap<usize, &str> = BTreeMap::new();
    for (name, scores) in &req.attribute_scores {
        let Some(src) = source(model, name) else {
            return Err(invalid(format!("Unknown attribute: {name}")));
        };
        let bit = summary_label(name, scores, text_units)?;
        let head = match src {
            Source::Head(i) => i,
            Source::SevereToxicity { toxicity, .. } if bit == 1 => toxicity,
            // Not severe says nothing about toxicity.
            Source::SevereToxicity { .. } => continue,
        };
        let head_name = &model.card.heads[head].name;
        let key = HeadName::parse(head_name.as_str()).map_err(invalid)?;
        if let Some(previous) = labels.binary.insert(key, bit) {
            if previous != bit {
                return Err(invalid(format!(
                    "{name} and {} suggest different labels for {head_name}.",
                    from[&head]
                )));
            }
        }
        from.insert(head, name);
    }
    if labels.is_empty() {
        return Err(invalid(
            "SEVERE_TOXICITY under 0.5 labels nothing (a comment may be toxic without being severely so): suggest TOXICITY.",
        ));
    }
    Ok(labels)
}

/// The label an attribute's suggested scores give: its summary score's value, checked,
/// 1 from 0.5 up; its span scores are checked too.
fn summary_label(
    name: &str,
    s: &SuggestedScores,
    text_units: usize,
) -> Result<u8, PerspectiveError> {
    let Some(summary) = &s.summary_score else {
        return Err(invalid(format!(
            "attributeScores.{name} needs a summaryScore: Vigie learns from whole comments."
        )));
    };
    check_score(&format!("attributeScores.{name}.summaryScore"), summary)?;
    for (i, span) in s.span_scores.iter().enumerate() {
        let at = format!("attributeScores.{name}.spanScores[{i}]");
        let inside = 0 <= span.begin && span.begin <= span.end && span.end as usize <= text_units;
        if !inside {
            return Err(invalid(format!(
                "{at}: begin {} and end {} must satisfy 0 <= begin <= end <= {text_units} (the text's length in UTF-16 code units).",
                span.begin, span.end
            )));
        }
        check_score(&format!("{at}.score"), &span.score)?;
    }
    Ok(u8::from(summary.value >= 0.5))
}

fn check_score(at: &str, s: &SuggestedScore) -> Result<(), PerspectiveError> {
    if !(0.0..=1.0).contains(&s.value) {
        return Err(invalid(format!(
            "{at}.value must lie in [0, 1], got {}.",
            s.value
        )));
    }
    match s.kind.as_deref() {
        None | Some("PROBABILITY") | Some("SCORE_TYPE_UNSPECIFIED") => Ok(()),
        Some(other) => Err(invalid(format!(
            "{at}.type {other} is not supported: use PROBABILITY."
        ))),
    }
}
