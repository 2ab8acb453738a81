//! What every error answer looks like.

use serde_json::Value;

/// `{"error": {"code": CODE, "message": "…"}}` and nothing else.
pub fn assert_error(v: &Value, code: &str) {
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{v}");
    assert_eq!(v["error"].as_object().map(|o| o.len()), Some(2), "{v}");
}
