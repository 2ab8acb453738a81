//! Perspective API, drop-in: `POST /v1alpha1/comments:analyze` takes Perspective's request
//! and answers in Perspective's shapes, errors included, so a site switches by changing
//! the URL. Attributes map to the model's heads (`TOXICITY` → `toxicity`, …; `*_EXPERIMENTAL`
//! aliases too; any head of the model can be asked for in capitals, e.g. `REJECTED`).
//! `SEVERE_TOXICITY`, which the default model has no head for, is derived:
//! `toxicity × max(threat, identity_attack, insult × profanity)` — toxic *and* threatening,
//! hateful, or an obscene insult; mild rudeness and profanity alone stay low. A model with a
//! `severe_toxicity` head answers with it. `analyze` stores nothing; `comments:suggestscore`
//! ([`suggest`]) stores a client's corrected scores as labels. The key comes as Google's
//! clients send it (`?key=`, `X-Goog-Api-Key`), and [`discovery`] serves the discovery
//! document Google's generated clients build themselves from.

pub mod discovery;
pub mod suggest;

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::AppState;
use crate::domain::{CommentText, Lang, Role, TextError};
use crate::model::Model;
use crate::scoring;
use crate::store::hash_key;

/// Perspective takes comments up to 20,480 bytes; a character limit of the same number
/// takes every one of them (and what clients that count characters let through).
pub const MAX_TEXT_CHARS: usize = 20_480;

/// A Perspective-style error: `{"error": {"code", "message", "status", "details"}}`.
#[derive(Debug)]
pub struct PerspectiveError {
    status: StatusCode,
    message: String,
    details: Value,
}

impl PerspectiveError {
    fn invalid(error_type: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            details: json!([{"@type": "type.googleapis.com/google.commentanalyzer.v1alpha1.Error", "errorType": error_type}]),
        }
    }

    /// A database failure: `UNAVAILABLE` (503) when it cannot be reached, else `INTERNAL`
    /// (500, the details logged and not shown).
    fn store(e: crate::store::StoreError) -> Self {
        let (status, message) = match e {
            crate::store::StoreError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            other => {
                tracing::error!(error = %other, "perspective");
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal error.".into())
            }
        };
        Self {
            status,
            message,
            details: json!([]),
        }
    }
}

/// Perspective's error body (Google's `google.rpc.Status` in JSON).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PerspectiveErrorBody {
    pub error: PerspectiveErrorStatus,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PerspectiveErrorStatus {
    /// The HTTP status.
    pub code: u16,
    pub message: String,
    /// `INVALID_ARGUMENT`, `PERMISSION_DENIED`, `UNAVAILABLE` or `INTERNAL`.
    pub status: &'static str,
    /// `{"@type": "type.googleapis.com/google.commentanalyzer.v1alpha1.Error", "errorType":
    /// "COMMENT_EMPTY" | "COMMENT_TOO_LONG" | "NO_REQUESTED_ATTRIBUTES" |
    /// "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE" | "INVALID_REQUEST", …}`, or for a refused key
    /// `{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}`.
    #[schema(value_type = Vec<Object>)]
    pub details: Value,
}

impl IntoResponse for PerspectiveError {
    fn into_response(self) -> Response {
        let refused_key = self.details[0]["reason"] == "API_KEY_INVALID";
        let status_name = match self.status {
            StatusCode::BAD_REQUEST => "INVALID_ARGUMENT",
            StatusCode::FORBIDDEN => "PERMISSION_DENIED",
            StatusCode::PAYLOAD_TOO_LARGE => "INVALID_ARGUMENT",
            StatusCode::SERVICE_UNAVAILABLE => "UNAVAILABLE",
            _ => "INTERNAL",
        };
        let body = PerspectiveErrorBody {
            error: PerspectiveErrorStatus {
                code: self.status.as_u16(),
                message: self.message,
                status: status_name,
                details: self.details,
            },
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        if refused_key {
            resp.extensions_mut().insert(super::limits::KeyRefused);
        }
        resp
    }
}

/// Perspective's `AnalyzeCommentRequest`. Unknown fields are refused, as Perspective does.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = AnalyzeCommentRequest)]
pub struct AnalyzeRequest {
    pub comment: TextEntry,
    /// Accepted (an object) and not used.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: Option<Value>,
    /// Attribute → its parameters: `TOXICITY`, `SEVERE_TOXICITY`, `IDENTITY_ATTACK`, `INSULT`,
    /// `PROFANITY`, `THREAT` (`*_EXPERIMENTAL` too), or any head of the model in capitals.
    /// At least one.
    #[serde(default)]
    #[schema(required = true)]
    pub requested_attributes: BTreeMap<String, AttributeParameters>,
    /// `fr` or `en`; detected from the text when empty. Another language is refused
    /// (`LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE`) unless `dropUnsupportedAttributes`.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Vigie never stores what this method scores.
    #[serde(default)]
    pub do_not_store: bool,
    /// Echoed in the response.
    #[serde(default)]
    pub client_token: Option<String>,
    /// Accepted and not used.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Also score each sentence (`spanScores`).
    #[serde(default)]
    pub span_annotations: bool,
    /// Accepted and not used.
    #[serde(default)]
    pub community_id: Option<String>,
    /// Leave out unknown attributes and unsupported languages instead of refusing them.
    #[serde(default)]
    pub drop_unsupported_attributes: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextEntry {
    /// The comment, at most 20,480 characters.
    pub text: String,
    /// `PLAIN_TEXT` or `TEXT_TYPE_UNSPECIFIED` (`HTML` is refused, as Perspective does).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AttributeParameters {
    /// `PROBABILITY` or `SCORE_TYPE_UNSPECIFIED`.
    #[serde(default)]
    pub score_type: Option<String>,
    /// Scores under it are left out (the attribute too, when its summary is).
    #[serde(default)]
    pub score_threshold: Option<f64>,
}

/// Perspective's `AnalyzeCommentResponse`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AnalyzeCommentResponse)]
pub struct AnalyzeResponse {
    /// Requested attribute → its scores.
    pub attribute_scores: BTreeMap<String, AttributeScores>,
    /// The request's languages, or the detected one.
    pub languages: Vec<String>,
    pub detected_languages: Vec<String>,
    /// The request's `clientToken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

/// A probability.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PerspectiveScore)]
pub struct Score {
    value: f32,
    /// `PROBABILITY`.
    #[serde(rename = "type")]
    kind: &'static str,
}

/// The score of one sentence: `begin` and `end` in UTF-16 code units, end exclusive.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpanScore {
    begin: usize,
    end: usize,
    score: Score,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttributeScores {
    /// One per sentence, with `spanAnnotations`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    span_scores: Vec<SpanScore>,
    summary_score: Score,
}

/// How one attribute is computed from the model's heads.
#[derive(Debug, Clone, Copy)]
enum Source {
    Head(usize),
    /// toxicity × max(threat, identity_attack, insult × profanity)
    SevereToxicity {
        toxicity: usize,
        threat: usize,
        identity: usize,
        insult: usize,
        profanity: usize,
    },
}

impl Source {
    fn score(self, probs: &[f32]) -> f32 {
        match self {
            Source::Head(i) => probs[i],
            Source::SevereToxicity {
                toxicity,
                threat,
                identity,
                insult,
                profanity,
            } => {
                probs[toxicity]
                    * probs[threat]
                        .max(probs[identity])
                        .max(probs[insult] * probs[profanity])
            }
        }
    }
}

/// The model head (or derivation) behind a Perspective attribute name.
fn source(model: &Model, attribute: &str) -> Option<Source> {
    let base = attribute.strip_suffix("_EXPERIMENTAL").unwrap_or(attribute);
    let head = |name: &str| model.head_index(name);
    if let Some(i) = head(&base.to_ascii_lowercase()) {
        return Some(Source::Head(i));
    }
    if base == "SEVERE_TOXICITY" {
        return Some(Source::SevereToxicity {
            toxicity: head("toxicity")?,
            threat: head("threat")?,
            identity: head("identity_attack")?,
            insult: head("insult")?,
            profanity: head("profanity")?,
        });
    }
    None
}

/// Sentences, as Perspective's span annotations give them: (begin, end) in UTF-16 code
/// units, end exclusive, blanks around them left out.
fn sentences(text: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut start_byte = 0;
    let mut units = 0;
    let mut start_units = 0;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        units += c.len_utf16();
        let boundary = matches!(c, '.' | '!' | '?' | '…' | '\n')
            && iter.peek().is_none_or(|(_, n)| n.is_whitespace());
        let end_byte = i + c.len_utf8();
        if boundary || iter.peek().is_none() {
            let piece = &text[start_byte..end_byte];
            let lead = piece.len() - piece.trim_start().len();
            let trimmed = piece.trim();
            if !trimmed.is_empty() {
                let begin = start_units + piece[..lead].encode_utf16().count();
                out.push((begin, begin + trimmed.encode_utf16().count(), trimmed));
            }
            start_byte = end_byte;
            start_units = units;
        }
    }
    out
}

#[derive(Deserialize)]
pub struct KeyParam {
    #[serde(default)]
    key: Option<String>,
}

/// The key a Perspective client presents: `?key=`, `X-Goog-Api-Key`, or a bearer token.
fn presented_key(query_key: Option<String>, headers: &HeaderMap) -> Option<String> {
    query_key
        .or_else(|| {
            headers
                .get("x-goog-api-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .or_else(|| super::auth::bearer(headers))
}

/// The name of the live scorer (or stronger) key presented; Perspective's errors otherwise.
async fn key_name(app: &AppState, key: Option<String>) -> Result<String, PerspectiveError> {
    let Some(key) = key else {
        return Err(PerspectiveError {
            status: StatusCode::FORBIDDEN,
            message: "The request is missing a valid API key.".into(),
            details: json!([]),
        });
    };
    match app.store.find_key(&hash_key(&key)).await {
        Ok(Some(k)) if k.role >= Role::Scorer => Ok(k.name),
        Ok(_) => Err(PerspectiveError {
            status: StatusCode::BAD_REQUEST,
            message: "API key not valid. Please pass a valid API key.".into(),
            details: json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "vigie"}]),
        }),
        Err(e) => Err(PerspectiveError::store(e)),
    }
}

/// Under `--score-requires-key`, the presented key must be a live scorer key.
async fn check_key(
    app: &AppState,
    query_key: Option<String>,
    headers: &HeaderMap,
) -> Result<(), PerspectiveError> {
    if !app.config.score_requires_key {
        return Ok(());
    }
    key_name(app, presented_key(query_key, headers))
        .await
        .map(drop)
}

/// Perspective API's `comments:analyze`, in Perspective's request and response shapes.
#[utoipa::path(
    post,
    path = "/v1alpha1/comments:analyze",
    tag = "perspective",
    params(
        ("key" = Option<String>, Query, description = "API key, as Perspective clients send it (needed with --score-requires-key)"),
        ("X-Goog-Api-Key" = Option<String>, Header, description = "API key, as Google's clients may send it instead"),
    ),
    request_body(content = AnalyzeRequest, description = "Perspective's AnalyzeCommentRequest"),
    responses(
        (status = 200, description = "Perspective's AnalyzeCommentResponse", body = AnalyzeResponse),
        (status = 400, description = "Perspective's error: invalid request, empty or too long comment, unknown attribute, unsupported language (`details[0].errorType`), or a refused key (`details[0].reason` API_KEY_INVALID)", body = PerspectiveErrorBody),
        (status = 403, description = "Missing API key (with --score-requires-key)", body = PerspectiveErrorBody),
        (status = 413, description = "Body over the size limit", body = PerspectiveErrorBody),
        (status = 503, description = "The database, needed to check the key, is unavailable", body = PerspectiveErrorBody),
    )
)]
pub async fn analyze(
    State(app): State<AppState>,
    Query(q): Query<KeyParam>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<AnalyzeResponse>, PerspectiveError> {
    check_key(&app, q.key, &headers).await?;
    let req = parse_request(body)?;
    let model = app.model.load_full();
    let langs = Languages::of(&req.languages);
    let pass = scoring::run(&model, &req.comment.text, langs.first());
    let detected = crate::text::detect_lang(&pass.analysis.normalized.text);
    let mut attribute_scores = BTreeMap::new();
    for (name, params) in &req.requested_attributes {
        let Some(src) = attribute(&model, &req, &langs, name, params)? else {
            continue;
        };
        if let Some(scores) = attribute_scores_of(&model, &req, &langs, &pass, src, params) {
            attribute_scores.insert(name.clone(), scores);
        }
    }
    let languages: Vec<String> = if req.languages.is_empty() {
        vec![detected.code().to_owned()]
    } else {
        req.languages.clone()
    };
    Ok(axum::Json(AnalyzeResponse {
        attribute_scores,
        languages,
        detected_languages: vec![detected.code().to_owned()],
        client_token: req.client_token,
    }))
}

/// A request body read as JSON, or Perspective's error for it.
fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, PerspectiveError> {
    let body = body.map_err(|e| PerspectiveError {
        status: e.status(),
        message: format!("Request body rejected: {}", e.body_text()),
        details: json!([{"@type": "type.googleapis.com/google.commentanalyzer.v1alpha1.Error", "errorType": "INVALID_REQUEST"}]),
    })?;
    serde_json::from_slice(&body).map_err(|e| {
        PerspectiveError::invalid(
            "INVALID_REQUEST",
            format!("Invalid JSON payload received. {e}"),
        )
    })
}

/// `context`, when given, is an object.
fn check_context(context: Option<&Value>) -> Result<(), PerspectiveError> {
    if context.is_some_and(|c| !c.is_object()) {
        return Err(PerspectiveError::invalid(
            "INVALID_REQUEST",
            "context must be an object",
        ));
    }
    Ok(())
}

/// Reads and checks Perspective's request, in Perspective's order of errors.
fn parse_request(body: Result<Bytes, BytesRejection>) -> Result<AnalyzeRequest, PerspectiveError> {
    let req: AnalyzeRequest = json_body(body)?;
    check_context(req.context.as_ref())?;
    check_kind(req.comment.kind.as_deref())?;
    check_text(&req.comment.text)?;
    if req.requested_attributes.is_empty() {
        return Err(PerspectiveError::invalid(
            "NO_REQUESTED_ATTRIBUTES",
            "No requested attributes specified.",
        ));
    }
    Ok(req)
}

fn check_kind(kind: Option<&str>) -> Result<(), PerspectiveError> {
    let message = match kind {
        None | Some("PLAIN_TEXT") | Some("TEXT_TYPE_UNSPECIFIED") => return Ok(()),
        Some("HTML") => "Currently, only 'PLAIN_TEXT' comments are supported",
        Some(_) => "Unknown text type",
    };
    Err(PerspectiveError::invalid("INVALID_REQUEST", message))
}

/// The shared text checks, in Perspective's words; a NUL is scored, as Perspective does.
fn check_text(text: &str) -> Result<(), PerspectiveError> {
    match CommentText::parse(text, MAX_TEXT_CHARS) {
        Err(TextError::Empty) => Err(PerspectiveError::invalid(
            "COMMENT_EMPTY",
            "Comment must be non-empty.",
        )),
        Err(TextError::TooLong { .. }) => Err(PerspectiveError::invalid(
            "COMMENT_TOO_LONG",
            "Comment text too long.",
        )),
        Ok(_) | Err(TextError::Nul) => Ok(()),
    }
}

/// The request's languages: all must be supported; else the one detected is used.
struct Languages {
    supported: Vec<Lang>,
    unsupported: Vec<String>,
}

impl Languages {
    fn of(codes: &[String]) -> Self {
        let mut langs = Languages {
            supported: Vec::new(),
            unsupported: Vec::new(),
        };
        for l in codes {
            match l.parse::<Lang>() {
                Ok(x) => langs.supported.push(x),
                Err(_) => langs.unsupported.push(l.clone()),
            }
        }
        langs
    }

    fn first(&self) -> Option<Lang> {
        self.supported.first().copied()
    }
}

/// The source of a requested attribute; `None` when it is dropped, an error when refused.
fn attribute(
    model: &Model,
    req: &AnalyzeRequest,
    langs: &Languages,
    name: &str,
    params: &AttributeParameters,
) -> Result<Option<Source>, PerspectiveError> {
    let Some(src) = source(model, name) else {
        if req.drop_unsupported_attributes {
            return Ok(None);
        }
        return Err(PerspectiveError::invalid(
            "INVALID_REQUEST",
            format!("Unknown requested attribute: {name}"),
        ));
    };
    if !langs.unsupported.is_empty() {
        if req.drop_unsupported_attributes {
            return Ok(None);
        }
        return Err(unsupported_languages(
            &req.languages,
            &langs.unsupported,
            name,
        ));
    }
    match params.score_type.as_deref() {
        None | Some("PROBABILITY") | Some("SCORE_TYPE_UNSPECIFIED") => Ok(Some(src)),
        Some(other) => Err(PerspectiveError::invalid(
            "INVALID_REQUEST",
            format!("Requested score type {other} is not supported by attribute {name}"),
        )),
    }
}

fn unsupported_languages(
    requested: &[String],
    unsupported: &[String],
    name: &str,
) -> PerspectiveError {
    let mut e = PerspectiveError::invalid(
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
        format!(
            "Attribute {name} does not support request languages: {}",
            unsupported.join(", ")
        ),
    );
    e.details[0]["languageNotSupportedByAttributeError"] =
        json!({"requestedLanguages": requested, "attribute": name});
    e
}

/// An attribute's summary and, when asked, its sentences; `None` under the threshold
/// (Perspective leaves out scores under the requested threshold).
fn attribute_scores_of(
    model: &Model,
    req: &AnalyzeRequest,
    langs: &Languages,
    pass: &scoring::Pass,
    src: Source,
    params: &AttributeParameters,
) -> Option<AttributeScores> {
    let summary = src.score(&pass.probs);
    let threshold = params.score_threshold.unwrap_or(0.0) as f32;
    if summary < threshold {
        return None;
    }
    let mut span_scores = Vec::new();
    if req.span_annotations {
        for (begin, end, sentence) in sentences(&req.comment.text) {
            let value = src.score(&scoring::run(model, sentence, langs.first()).probs);
            if value >= threshold {
                span_scores.push(SpanScore {
                    begin,
                    end,
                    score: Score::probability(value),
                });
            }
        }
    }
    Some(AttributeScores {
        span_scores,
        summary_score: Score::probability(summary),
    })
}

impl Score {
    fn probability(value: f32) -> Self {
        Score {
            value,
            kind: "PROBABILITY",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_in_utf16_units() {
        let s = sentences("What kind of idiot name is foo? Sorry, I like your name.");
        let spans: Vec<(usize, usize)> = s.iter().map(|(b, e, _)| (*b, *e)).collect();
        assert_eq!(spans, [(0, 31), (32, 56)]);
        // An emoji is two UTF-16 units.
        let s = sentences("😀 Nul. Bien");
        assert_eq!(
            s.iter().map(|(b, e, t)| (*b, *e, *t)).collect::<Vec<_>>(),
            [(0, 7, "😀 Nul."), (8, 12, "Bien")]
        );
        assert!(sentences("   ").is_empty());
        // A full stop inside a number does not end a sentence.
        assert_eq!(sentences("Il a 3.5 ans. Oui").len(), 2);
    }
}
