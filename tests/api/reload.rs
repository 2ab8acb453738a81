//! Reloads of damaged model files: each is refused with the reason, and the model serving
//! (per `/v1/model`, `/healthz` and the scores) stays the one before, whether it is the one
//! the service started with or one a reload swapped in. (Moved from `tests/faults.rs`, which
//! now runs only the real binary.)

use axum::http::Method;
use serde_json::{json, Value};
use vigie::domain::Role;
use vigie::http::AppConfig;

use crate::common::{self, tempdir::TempDir};
use crate::helpers::{Setup, TestApp};

const ADMIN: &str = "vg_faults_admin";

async fn call(state: &TestApp, method: Method, uri: &str, body: Option<Value>) -> (u16, Value) {
    let call = state.call(method, uri).key(ADMIN);
    let r = match body {
        Some(b) => call.json(&b),
        None => call,
    }
    .send()
    .await;
    (r.status.as_u16(), r.json())
}

/// The model serving: its id per /v1/model and /healthz, and the id a score comes with.
async fn serving(state: &TestApp) -> String {
    let (s, card) = call(state, Method::GET, "/v1/model", None).await;
    assert_eq!(s, 200);
    let id = card["card"]["model_id"].as_str().unwrap().to_owned();
    let (_, health) = call(state, Method::GET, "/healthz", None).await;
    assert_eq!(health["model_id"], id.as_str());
    let (s, scored) = call(
        state,
        Method::POST,
        "/v1/score",
        Some(json!({"text": "Quelle bande de bras cassés"})),
    )
    .await;
    assert_eq!(s, 200, "{scored}");
    assert_eq!(scored["model_id"], id.as_str());
    assert!(
        scored["scores"]["insult"].as_f64().unwrap() > 0.5,
        "{scored}"
    );
    id
}

#[tokio::test]
async fn damaged_model_files_are_refused_and_the_old_model_keeps_serving() {
    let dir = TempDir::new("faults-reload");
    let path = dir.path().join("site.vigie");
    let good = std::fs::read(common::files::path("models/default.vigie")).unwrap();
    let state = Setup {
        config: AppConfig {
            model_path: Some(path.clone()),
            ..AppConfig::default()
        },
        keys: vec![("ops", ADMIN, Role::Admin)],
        ..Setup::default()
    }
    .spawn()
    .await;
    let original = common::model::default_model().card.model_id.clone();
    assert_eq!(serving(&state).await, original);

    // Header: magic (8 bytes), format version (u32 LE), payload length (u64 LE); then
    // the payload and its SHA-256. The checksum covers the payload only, so a file whose
    // version bytes are rewritten is intact except for its version.
    let truncated = good[..good.len() - 10].to_vec();
    let mut flipped = good.clone();
    let mid = 20 + (good.len() - 52) / 2;
    flipped[mid] ^= 0x55;
    let next_version = vigie::model::FORMAT_VERSION + 1;
    let mut future = good.clone();
    future[8..12].copy_from_slice(&next_version.to_le_bytes());
    let future_message = format!(
        "model file format version {next_version} is not supported (this build reads version {})",
        vigie::model::FORMAT_VERSION
    );
    let cases: [(&str, Option<Vec<u8>>, &str); 6] = [
        ("truncated", Some(truncated), "length mismatch"),
        (
            "truncated header",
            Some(good[..15].to_vec()),
            "truncated header",
        ),
        ("a flipped payload byte", Some(flipped), "checksum mismatch"),
        (
            "a newer format version",
            Some(future),
            future_message.as_str(),
        ),
        (
            "not a model",
            Some(b"name,score\nx,1\n".to_vec()),
            "not a Vigie model file",
        ),
        ("missing", None, "cannot read model file"),
    ];

    // Each damaged file, first over the model the server started with, then over one
    // a successful reload swapped in.
    let mut expected = original.clone();
    for round in 0..2 {
        for (what, bytes, message) in &cases {
            match bytes {
                Some(b) => std::fs::write(&path, b).unwrap(),
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            }
            let (s, v) = call(&state, Method::POST, "/v1/admin/model/reload", None).await;
            assert_eq!(s, 422, "{what}: {v}");
            common::errors::assert_error(&v, "model_rejected");
            let m = v["error"]["message"].as_str().unwrap();
            assert!(
                m.starts_with("model file refused, the previous model keeps serving: ")
                    && m.contains(message),
                "{what}: {m}"
            );
            assert_eq!(serving(&state).await, expected, "{what}, round {round}");
        }
        // A good file with another id: the reload swaps it in.
        let mut next = common::model::default_model().clone();
        next.card.model_id = format!("faults-next-{round}");
        std::fs::write(&path, next.to_bytes()).unwrap();
        let (s, v) = call(&state, Method::POST, "/v1/admin/model/reload", None).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            (v["previous_model_id"].as_str(), v["model_id"].as_str()),
            (Some(expected.as_str()), Some(next.card.model_id.as_str()))
        );
        expected = next.card.model_id.clone();
        assert_eq!(serving(&state).await, expected);
    }
}
