//! `X-Coral-Signature`: `sha256=<hex HMAC-SHA256 of the raw body>`, one per active secret
//! while secrets rotate, joined by commas. The body is hashed as it streams in, so a body
//! too large to keep is still authenticated before anything is answered about it.

use axum::body::Body;
use hmac::{KeyInit, Mac};
use http_body_util::BodyExt;
use sha2::Sha256;

use crate::http::ApiError;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Whether one of the `sha256=<hex>` signatures of the header is the HMAC-SHA256 of `body`
/// under one of `secrets`. Compared in constant time.
pub fn verify_signature(secrets: &[String], header: &str, body: &[u8]) -> bool {
    let mut macs = Macs::new(secrets);
    macs.update(body);
    macs.matches(&parse_header(header))
}

/// The header value Coral would send for `body` (for tests and for clients of this API).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = mac_for(secret);
    mac.update(body);
    format!("sha256={}", crate::util::hex(&mac.finalize().into_bytes()))
}

/// A request body whose signature matched.
#[derive(Debug)]
pub enum SignedBody {
    /// The whole body, at most the kept size.
    Complete(Vec<u8>),
    /// Longer than the kept size: authenticated, but not kept.
    TooLarge { bytes: u64 },
}

/// Reads `body` to its end, hashing every byte under every secret and keeping at most
/// `keep` bytes; `Err(BadSignature)` unless a signature of `header` matches.
pub async fn read_signed(
    body: Body,
    secrets: &[String],
    header: &str,
    keep: usize,
) -> Result<SignedBody, ApiError> {
    let signatures = parse_header(header);
    if signatures.is_empty() {
        return Err(ApiError::BadSignature(
            "X-Coral-Signature holds no sha256=<hex> signature".into(),
        ));
    }
    let mut macs = Macs::new(secrets);
    let mut kept = Vec::new();
    let mut total: u64 = 0;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::InvalidRequest(format!("reading body: {e}")))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        macs.update(&chunk);
        total += chunk.len() as u64;
        if total <= keep as u64 {
            kept.extend_from_slice(&chunk);
        } else {
            kept = Vec::new();
        }
    }
    if !macs.matches(&signatures) {
        return Err(ApiError::BadSignature(
            "X-Coral-Signature does not match the body".into(),
        ));
    }
    Ok(if total <= keep as u64 {
        SignedBody::Complete(kept)
    } else {
        SignedBody::TooLarge { bytes: total }
    })
}

/// One running HMAC per active secret.
struct Macs(Vec<HmacSha256>);

impl Macs {
    fn new(secrets: &[String]) -> Macs {
        Macs(secrets.iter().map(|s| mac_for(s)).collect())
    }

    fn update(&mut self, bytes: &[u8]) {
        for mac in &mut self.0 {
            mac.update(bytes);
        }
    }

    fn matches(self, signatures: &[Vec<u8>]) -> bool {
        self.0.into_iter().any(|mac| {
            signatures
                .iter()
                .any(|sig| mac.clone().verify_slice(sig).is_ok())
        })
    }
}

fn mac_for(secret: &str) -> HmacSha256 {
    <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length")
}

fn parse_header(header: &str) -> Vec<Vec<u8>> {
    header
        .split(',')
        .filter_map(|s| s.trim().strip_prefix("sha256="))
        .filter_map(|h| crate::util::hex_decode(h.trim()))
        .collect()
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

    fn chunked(parts: &[&'static [u8]]) -> Body {
        let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = parts
            .iter()
            .map(|p| Ok(bytes::Bytes::from_static(p)))
            .collect();
        Body::from_stream(futures_util::stream::iter(chunks))
    }

    #[tokio::test]
    async fn bodies_are_hashed_whole_and_kept_up_to_the_limit() {
        let secrets = vec!["s".to_owned()];
        let header = sign("s", b"abcdef");
        let body = read_signed(chunked(&[b"abc", b"def"]), &secrets, &header, 6)
            .await
            .unwrap();
        assert!(matches!(body, SignedBody::Complete(b) if b == b"abcdef"));
        let body = read_signed(chunked(&[b"abc", b"def"]), &secrets, &header, 4)
            .await
            .unwrap();
        assert!(matches!(body, SignedBody::TooLarge { bytes: 6 }));
        let err = read_signed(chunked(&[b"abc", b"deF"]), &secrets, &header, 4)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_signature");
    }
}
