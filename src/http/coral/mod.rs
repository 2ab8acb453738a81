//! Coral Talk's external moderation phase: Coral POSTs each new or edited comment, signed
//! with a shared secret ([`signature`]). Vigie checks the signature, scores the comment,
//! stores it in the review queue, and answers in Coral's response schema ([`answer`]):
//! allow → `204` (Coral goes on with its own phases, pre-moderation included), flag →
//! `SYSTEM_WITHHELD` with a `FLAG` action `COMMENT_DETECTED_TOXIC`, reject → `REJECTED` with
//! a moderation action and its rejection reason.
//!
//! Coral publishes a comment whose phase errors, so this endpoint answers what Coral sends
//! without refusing it: a text over the limit is scored on its first characters and at
//! least withheld, a body too large to keep is withheld once its signature checks, a blank
//! (image-only) comment gets `204`, and a database failure still answers from the scores.
//! Only a bad signature (401) or a body that is not Coral's request (400, 422) is refused.

pub mod answer;
pub mod signature;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

pub use answer::{CoralAnswer, RejectionReason, Verdict};
pub use signature::{sign, verify_signature, SignedBody};

use super::comments::{log_stored, to_new_comment};
use super::error::ApiError;
use super::AppState;
use crate::domain::{CommentId, CommentText, Decision};
use crate::service::targets::{prepare, SubmitRefused};
use crate::store::NewComment;

/// The request body Coral sends (`ExternalModerationRequest` in Coral's source). Fields
/// Coral may add later are ignored.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CoralModerationRequest)]
pub struct CoralRequest {
    /// `NEW` or `EDIT`.
    pub action: String,
    pub comment: CoralComment,
    pub author: CoralAuthor,
    pub story: CoralStory,
    #[serde(default)]
    pub site: Option<CoralSite>,
    /// With the story and author ids and the text, it makes the stored comment's id.
    #[serde(default, rename = "tenantID")]
    pub tenant_id: Option<String>,
    /// Stored as the comment's submitter, `coral:<tenantDomain>`.
    #[serde(default)]
    pub tenant_domain: Option<String>,
    /// Older Coral versions sent `tenant: {id, domain}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub tenant: Option<Value>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CoralComment {
    /// The comment, as HTML or plain text (tags dropped, entities decoded). Over
    /// `--max-text-chars`, its first characters are scored and the comment is at least
    /// withheld.
    pub body: String,
    #[serde(default, rename = "parentID")]
    pub parent_id: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CoralAuthor {
    /// Stored as the comment's author (its first 200 characters).
    pub id: String,
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CoralStory {
    /// Stored as the comment's article (its first 200 characters).
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CoralSite {
    pub id: String,
}

impl CoralRequest {
    /// `tenantID`, or the older `tenant.id`.
    fn tenant_id(&self) -> Option<String> {
        self.tenant_id.clone().or_else(|| self.older_tenant("id"))
    }

    /// `tenantDomain`, or the older `tenant.domain`.
    fn tenant_domain(&self) -> Option<String> {
        self.tenant_domain
            .clone()
            .or_else(|| self.older_tenant("domain"))
    }

    fn older_tenant(&self, field: &str) -> Option<String> {
        self.tenant.as_ref()?[field].as_str().map(str::to_owned)
    }
}

/// Coral sends HTML when the phase's format is HTML: keep the text, drop the tags, decode
/// the common entities.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut tag = String::new();
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
            }
            (true, '>') => {
                in_tag = false;
                let closing = tag.starts_with('/');
                let name = tag
                    .trim_start_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                let name = name.trim_end_matches('/').to_ascii_lowercase();
                // A line break where a block ends, or at <br>.
                let block = matches!(name.as_str(), "p" | "div" | "li" | "blockquote");
                if name == "br" || (closing && block) {
                    out.push('\n');
                }
            }
            (true, c) => tag.push(c),
            (false, c) => out.push(c),
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    decoded.trim().to_owned()
}

/// Coral Talk external moderation phase: verify, score, store, answer in Coral's schema.
#[utoipa::path(
    post,
    path = "/v1/integrations/coral",
    tag = "coral",
    params(("X-Coral-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of the raw body>[,sha256=…]")),
    request_body(content = CoralRequest, description = "Coral's ExternalModerationRequest"),
    responses(
        (status = 200, description = "Coral's ExternalModerationResponse: withheld for review, or rejected with a moderation action", body = answer::CoralResponse),
        (status = 204, description = "Nothing to say: allowed, or no text to score. Coral goes on with its own phases"),
        (status = 400, description = "Not JSON", body = super::error::ErrorBody),
        (status = 401, description = "Missing or bad signature", body = super::error::ErrorBody),
        (status = 422, description = "Not configured, or not Coral's request", body = super::error::ErrorBody),
    )
)]
pub async fn moderate(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<CoralAnswer, ApiError> {
    if app.config.coral_secrets.is_empty() {
        return Err(ApiError::Invalid {
            code: "not_configured",
            message: "the Coral integration is not configured: start serve with --coral-secret"
                .into(),
        });
    }
    let header = headers
        .get("x-coral-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if header.is_empty() {
        return Err(ApiError::BadSignature(
            "missing X-Coral-Signature header".into(),
        ));
    }
    let keep = app.config.limits.max_coral_body_bytes;
    let bytes = match signature::read_signed(body, &app.config.coral_secrets, header, keep).await? {
        SignedBody::Complete(bytes) => bytes,
        SignedBody::TooLarge { bytes } => {
            tracing::warn!(
                bytes,
                limit = keep,
                "Coral request over the body limit: withheld for review in Coral"
            );
            return Ok(CoralAnswer::Withheld { flagged: false });
        }
    };
    let req = parse_request(&bytes)?;
    let Some(text) = CommentText::scorable_prefix(
        &html_to_text(&req.comment.body),
        app.config.limits.max_text_chars,
    ) else {
        return Ok(CoralAnswer::NoOpinion);
    };
    let new = score_comment(&app, &req, text).await?;
    // Answering an error would publish the comment unmoderated: if storing fails, the answer
    // comes from the scores, so it is made before the record moves into the store.
    let grounds = &app.config.grounds;
    let scored_answer = CoralAnswer::from_verdict(&Verdict {
        decision: new.decision,
        flagged: &new.flagged,
        scores: &new.scores,
        explanation: new.explanation.as_ref(),
        ground: Some((grounds.for_heads(&new.flagged), &new.lang)),
    });
    let id = new.id.clone();
    Ok(match app.store.submit(new).await {
        Ok((stored, created)) => {
            log_stored(&app, &stored, created);
            CoralAnswer::from_verdict(&Verdict {
                decision: stored.decision,
                flagged: &stored.flagged,
                scores: &stored.scores,
                explanation: stored.explanation.as_ref(),
                ground: Some((grounds.for_heads(&stored.flagged), &stored.lang)),
            })
        }
        Err(e) => {
            tracing::error!(error = %e, %id, "Coral comment not stored; answered from its scores");
            scored_answer
        }
    })
}

/// Coral's request, checked: a known action, ids without NUL (no database stores one).
fn parse_request(bytes: &[u8]) -> Result<CoralRequest, ApiError> {
    let req: CoralRequest = serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::InvalidRequest(e.to_string()),
        _ => ApiError::InvalidJson(e.to_string()),
    })?;
    if req.action != "NEW" && req.action != "EDIT" {
        return Err(ApiError::InvalidRequest(format!(
            "unknown action {:?}: expected NEW or EDIT",
            req.action
        )));
    }
    if [&req.story.id, &req.author.id]
        .iter()
        .any(|v| v.is_empty() || v.contains('\0'))
    {
        return Err(ApiError::InvalidRequest(
            "story.id and author.id must be non-empty text without NUL".into(),
        ));
    }
    if [req.tenant_id(), req.tenant_domain()]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| v.contains('\0')))
    {
        return Err(ApiError::InvalidRequest(
            "tenantID and tenantDomain must be text without NUL".into(),
        ));
    }
    Ok(req)
}

/// Scores the comment (its first characters when it is long) into a record to store. A text
/// cut for scoring is at least flagged: its unscored rest could hold anything.
async fn score_comment(
    app: &super::App,
    req: &CoralRequest,
    text: crate::domain::ScorablePrefix,
) -> Result<NewComment, ApiError> {
    let model = app.model.load_full();
    let story: String = req.story.id.chars().take(200).collect();
    let scored_text = || text.scored.as_str().to_owned();
    let prepared = match prepare(app, &model, scored_text(), None, None, Some(&story)).await {
        // Coral publishes what errors: without the story's target, score without one.
        Err(SubmitRefused::Store(e)) => {
            tracing::error!(error = %e, "story's stance target unreadable; scored without one");
            prepare(app, &model, scored_text(), None, None, None).await?
        }
        other => other?,
    };
    let mut scored = crate::scoring::score(&model, &app.policy, &prepared.input);
    let note = text.cut_from.map(|chars| {
        format!(
            "scored on the first {} of its {chars} characters; held for review when it would be allowed",
            app.config.limits.max_text_chars
        )
    });
    if note.is_some() && scored.decision == Decision::Allow {
        scored.decision = Decision::Flag;
    }
    app.metrics.decided(scored.decision, &scored.flagged);
    let domain = req.tenant_domain().unwrap_or_else(|| "coral".into());
    let mut new = to_new_comment(
        comment_id(req, &text.whole),
        Some(story),
        Some(req.author.id.chars().take(200).collect()),
        format!("coral:{domain}"),
        text.whole,
        scored,
    );
    new.note = note;
    prepared.mark(&mut new);
    Ok(new)
}

/// Coral sends no comment id: the same tenant, story, author and text map to the same id, so
/// a repeated call returns the stored result instead of a duplicate.
fn comment_id(req: &CoralRequest, text: &str) -> CommentId {
    let tenant = req.tenant_id().unwrap_or_default();
    let digest = crate::util::sha256_hex(
        format!("{tenant}\n{}\n{}\n{text}", req.story.id, req.author.id).as_bytes(),
    );
    CommentId::parse(&format!("coral:{}", &digest[..32])).expect("valid id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_bodies_become_text() {
        assert_eq!(
            html_to_text("<p>Bande de <b>nuls</b> &amp; co</p><p>Merci</p>"),
            "Bande de nuls & co\nMerci"
        );
        assert_eq!(html_to_text("a&lt;script&gt;b"), "a<script>b");
        assert_eq!(html_to_text("plain"), "plain");
    }
}
