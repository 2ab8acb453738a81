//! Coral Talk's external moderation phase: Coral POSTs each new or edited comment, signed
//! with a shared secret (`X-Coral-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, one
//! per active secret while secrets rotate). Vigie checks the signature, scores the comment,
//! stores it in the review queue, and answers in Coral's response schema:
//! allow → `{"status": "NONE"}` (published as usual), flag → `SYSTEM_WITHHELD` (held for
//! review) with a `FLAG` action `COMMENT_DETECTED_TOXIC`, reject → `REJECTED` with the same
//! action. Coral skips a phase that answers with an error or too late, so a failure here
//! never blocks a comment.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use hmac::{KeyInit, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

use super::error::ApiError;
use super::score::{score_input, validate};
use super::AppState;
use crate::domain::{CommentId, Decision};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/integrations/coral", post(moderate))
}

/// The request body Coral sends (`ExternalModerationRequest` in Coral's source). Fields
/// Coral may add later are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoralRequest {
    pub action: String,
    pub comment: CoralComment,
    pub author: CoralAuthor,
    pub story: CoralStory,
    #[serde(default)]
    pub site: Option<CoralSite>,
    #[serde(default, rename = "tenantID")]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub tenant_domain: Option<String>,
    /// Older Coral versions sent `tenant: {id, domain}`.
    #[serde(default)]
    pub tenant: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoralComment {
    pub body: String,
    #[serde(default, rename = "parentID")]
    pub parent_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CoralAuthor {
    pub id: String,
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CoralStory {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CoralSite {
    pub id: String,
}

/// Whether one of the `sha256=<hex>` signatures of the header is the HMAC-SHA256 of `body`
/// under one of `secrets`. Compared in constant time.
pub fn verify_signature(secrets: &[String], header: &str, body: &[u8]) -> bool {
    let signatures: Vec<Vec<u8>> = header
        .split(',')
        .filter_map(|s| s.trim().strip_prefix("sha256="))
        .filter_map(|h| hex_decode(h.trim()))
        .collect();
    secrets.iter().any(|secret| {
        signatures.iter().any(|sig| {
            let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
                .expect("HMAC takes any key length");
            mac.update(body);
            mac.verify_slice(sig).is_ok()
        })
    })
}

/// The header value Coral would send for `body` (for tests and for clients of this API).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
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
    params(("X-Coral-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of the raw body>[,sha256=…]")),
    request_body(content = Object, description = "Coral ExternalModerationRequest: action, comment {body, parentID}, author {id, role}, story {id, url}, site {id}, tenantID, tenantDomain"),
    responses(
        (status = 200, description = "Coral ExternalModerationResponse: status (NONE, SYSTEM_WITHHELD, REJECTED), actions [{actionType: FLAG, reason: COMMENT_DETECTED_TOXIC}]", body = Object),
        (status = 401, description = "Missing or bad signature", body = super::error::ErrorBody),
        (status = 422, description = "Not configured, or an invalid comment", body = super::error::ErrorBody),
    )
)]
pub async fn moderate(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    if app.coral_secrets.is_empty() {
        return Err(ApiError::Invalid {
            code: "not_configured",
            message: "the Coral integration is not configured: start serve with --coral-secret"
                .into(),
        });
    }
    let body = body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(app.limits.max_body_bytes)
        } else {
            ApiError::InvalidRequest(e.body_text())
        }
    })?;
    let signature = headers
        .get("x-coral-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if signature.is_empty() {
        return Err(ApiError::BadSignature(
            "missing X-Coral-Signature header".into(),
        ));
    }
    if !verify_signature(&app.coral_secrets, signature, &body) {
        return Err(ApiError::BadSignature(
            "X-Coral-Signature does not match the body".into(),
        ));
    }
    let req: CoralRequest = serde_json::from_slice(&body).map_err(|e| match e.classify() {
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
    let text = html_to_text(&req.comment.body);
    let model = app.model.load_full();
    let input = validate(&model, &app.limits, text, None, None)?;
    let scored = score_input(&model, &app.policy, &input);

    // Coral sends no comment id: the same author, story and text map to the same id, so a
    // repeated call returns the stored result instead of a duplicate.
    let tenant = req
        .tenant_id
        .clone()
        .or_else(|| {
            req.tenant
                .as_ref()
                .and_then(|t| t["id"].as_str())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let digest = crate::train::sha256_hex(
        format!(
            "{tenant}\n{}\n{}\n{}",
            req.story.id,
            req.author.id,
            input.text.as_str()
        )
        .as_bytes(),
    );
    let id = CommentId::parse(&format!("coral:{}", &digest[..32])).expect("valid id");
    let domain = req
        .tenant_domain
        .clone()
        .or_else(|| {
            req.tenant
                .as_ref()
                .and_then(|t| t["domain"].as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "coral".into());
    let new = super::comments::to_new_comment(
        id,
        Some(req.story.id.chars().take(200).collect()),
        Some(req.author.id.chars().take(200).collect()),
        format!("coral:{domain}"),
        &input.text,
        scored,
    );
    let (stored, created) = app.store.submit(new).await?;
    super::comments::log_stored(&app, &stored, created);
    let flag = json!([{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]);
    Ok(axum::Json(match stored.decision {
        Decision::Allow => json!({"status": "NONE"}),
        Decision::Flag => json!({"status": "SYSTEM_WITHHELD", "actions": flag}),
        Decision::Reject => json!({"status": "REJECTED", "actions": flag}),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_with_any_active_secret() {
        let body = b"{\n  \"action\": \"NEW\"\n}";
        let secrets = vec!["old_secret".to_owned(), "new_secret".to_owned()];
        assert!(verify_signature(&secrets, &sign("new_secret", body), body));
        let both = format!("{},{}", sign("other", body), sign("old_secret", body));
        assert!(verify_signature(&secrets, &both, body));
        assert!(!verify_signature(&secrets, &sign("other", body), body));
        assert!(!verify_signature(
            &secrets,
            &sign("new_secret", b"tampered"),
            body
        ));
        assert!(!verify_signature(&secrets, "sha256=zz", body));
        assert!(!verify_signature(&secrets, "", body));
        assert!(!verify_signature(
            &secrets,
            &sign("new_secret", body).replace("sha256=", "sha1="),
            body
        ));
    }

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
