//! The worst text people send: every input gets a clear answer, nothing panics, and what
//! is stored comes back exactly as it was sent (on SQLite and, when reachable, PostgreSQL).

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use vigie::domain::{CommentId, Decision, Role};
use vigie::policy::Policy;
use vigie::store::{NewComment, SqliteStore, Store};

use crate::common::pg_schema::{self, Schema};
use crate::helpers::{on_both_backends, Setup, TestApp};

/// Texts that must score and store unchanged.
fn nasty_texts() -> Vec<(&'static str, String)> {
    vec![
        ("zalgo", "c\u{336}o\u{337}n\u{338}n\u{335}a\u{334}r\u{336}d\u{337} Z\u{300}\u{301}\u{302}\u{303}A\u{304}\u{305}L\u{306}G\u{307}O".into()),
        ("right-to-left override", "abc\u{202E}drannoc\u{202C} \u{200F}שלום\u{200E}".into()),
        ("emoji", "😡🤬".repeat(500)),
        ("combining only", "\u{301}\u{302}\u{303}".into()),
        ("sql injection", "'; DROP TABLE comments; -- \" OR 1=1 --".into()),
        ("html injection", "<script>alert(1)</script><img src=x onerror=alert(2)>".into()),
        ("control characters", "a\u{7}b\u{1b}[31mc\u{8}\r\n\t".into()),
        ("lone surrogates escaped away", "\u{FFFD}\u{FFFF}\u{10FFFF}".into()),
        ("one character, the limit", "é".repeat(10_000)),
        ("mixed scripts", "Ｍａｃｒｏｎ ｃ０ｎｎａｒｄ ΔΙΚΑΙΟΣΥΝΗ 中文 𝕮𝖔𝖓𝖓𝖆𝖗𝖉".into()),
    ]
}

async fn state() -> TestApp {
    Setup {
        policy: Policy::default(),
        keys: vec![("site", "vg_hostile", Role::Scorer)],
        ..Setup::default()
    }
    .spawn()
    .await
}

async fn post(s: &TestApp, uri: &str, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
    let r = s
        .post(uri)
        .key("vg_hostile")
        .body("application/json", body)
        .send()
        .await;
    let body = serde_json::from_slice(&r.body).expect("every answer is JSON");
    (r.status, body)
}

#[tokio::test]
async fn nasty_texts_score_and_store_unchanged() {
    let s = state().await;
    for (i, (name, text)) in nasty_texts().into_iter().enumerate() {
        let (st, b) = post(&s, "/v1/score", json!({"text": text}).to_string()).await;
        assert_eq!(st, StatusCode::OK, "{name}: {b}");
        for (_, p) in b["scores"].as_object().unwrap() {
            let p = p.as_f64().unwrap();
            assert!((0.0..=1.0).contains(&p), "{name}");
        }
        // Explanation spans stay inside the text.
        let n = text.chars().count() as u64;
        for items in b["explanation"].as_object().unwrap().values() {
            for it in items.as_array().unwrap() {
                assert!(
                    it["start"].as_u64().unwrap() < it["end"].as_u64().unwrap()
                        && it["end"].as_u64().unwrap() <= n,
                    "{name}"
                );
            }
        }
        let id = format!("h{i}");
        let (st, b) = post(
            &s,
            "/v1/comments",
            json!({"id": id, "text": text, "author": text.chars().take(200).collect::<String>()})
                .to_string(),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{name}: {b}");
        let (stored, _) = s.store().get(&id).await.unwrap().unwrap();
        assert_eq!(stored.text, text, "{name} stored unchanged");
    }
}

#[tokio::test]
async fn hostile_requests_get_clear_errors() {
    let s = state().await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "invalid UTF-8",
            b"{\"text\": \"\xff\xfe\"}".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "NUL in text",
            json!({"text": "a\u{0}b"}).to_string().into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_text",
        ),
        (
            "1 MiB of one character",
            json!({"text": "a".repeat(1 << 20)})
                .to_string()
                .into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "100,000 emoji (400 KB)",
            json!({"text": "😀".repeat(100_000)})
                .to_string()
                .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "text_too_long",
        ),
        (
            "over the character limit",
            json!({"text": "😀".repeat(10_001)})
                .to_string()
                .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "text_too_long",
        ),
        (
            "deeply nested JSON (not an object)",
            deep.clone().into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "nested in a field",
            format!("{{\"text\": {deep}}}").into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "huge number",
            b"{\"text\": 1e999999}".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "duplicate keys",
            b"{\"text\": \"a\", \"text\": \"b\"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "null text",
            b"{\"text\": null}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "empty body",
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ];
    for (name, body, status, code) in cases {
        let (st, b) = post(&s, "/v1/score", body).await;
        assert_eq!(
            (st, b["error"]["code"].as_str()),
            (status, Some(code)),
            "{name}: {b}"
        );
    }
    // Where any JSON value is accepted, depth is bounded: an error, not a stack overflow.
    let body = format!("{{\"comment\": {{\"text\": \"x\"}}, \"requestedAttributes\": {{\"TOXICITY\": {{}}}}, \"context\": {{\"entries\": {deep}}}}}");
    let (st, b) = post(&s, "/v1alpha1/comments:analyze", body).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("recursion limit"),
        "{b}"
    );
    let (st, b) = post(
        &s,
        "/v1/comments",
        json!({"text": "ok", "author": "a\u{0}"}).to_string(),
    )
    .await;
    assert_eq!(
        (st, b["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field"))
    );
    let (st, b) = post(
        &s,
        "/v1/comments",
        json!({"id": "'; DROP TABLE comments; --", "text": "ok"}).to_string(),
    )
    .await;
    assert_eq!(
        (st, b["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_id"))
    );
    // After all that, the table is still there and empty.
    assert_eq!(s.store().counts().await.unwrap().values().sum::<i64>(), 0);
}

/// SQLite in memory and, when reachable (under the rule of `common::postgres`), PostgreSQL
/// in a schema of its own.
async fn backends(name: &str) -> (Vec<(&'static str, Arc<dyn Store>)>, Option<Schema>) {
    let mut stores: Vec<(&'static str, Arc<dyn Store>)> =
        vec![("sqlite", Arc::new(SqliteStore::in_memory().await.unwrap()))];
    let schema = pg_schema::store(name).await.map(|(pg, schema)| {
        stores.push(("postgres", Arc::new(pg)));
        schema
    });
    (stores, schema)
}

/// The same texts through the storage layer of both backends.
#[tokio::test]
async fn both_backends_store_nasty_texts_unchanged() {
    let (stores, schema) = backends("hostile").await;
    for (backend, store) in &stores {
        for (i, (name, text)) in nasty_texts().into_iter().enumerate() {
            let c = NewComment {
                id: CommentId::parse(&format!("n{i}")).unwrap(),
                text: text.clone(),
                article_id: Some(text.chars().take(50).collect()),
                author: Some(name.into()),
                target: None,
                lang: "fr".into(),
                scores: [("toxicity".to_owned(), 0.5f32)].into_iter().collect(),
                stance: None,
                stance_label: None,
                flagged: vec!["toxicity".into()],
                explanation: Some(
                    json!({"toxicity": [{"text": text.chars().take(5).collect::<String>(), "start": 0, "end": 5}]}),
                ),
                model_id: "m".into(),
                decision: Decision::Flag,
                actor: text.chars().take(30).collect(),
                note: None,
                statement_token_hash: None,
                now_ms: 1,
            };
            store
                .submit(c)
                .await
                .unwrap_or_else(|e| panic!("{backend} {name}: {e}"));
            let (got, events) = store.get(&format!("n{i}")).await.unwrap().unwrap();
            assert_eq!(got.text, text, "{backend} {name}");
            assert_eq!(
                events[0].actor,
                text.chars().take(30).collect::<String>(),
                "{backend} {name}"
            );
        }
    }
    drop(stores);
    if let Some(schema) = schema {
        schema.drop().await;
    }
}

/// A NUL in a path or query parameter is refused with 422 before it reaches the database,
/// on both backends (PostgreSQL would fail the query and show its own error text).
#[tokio::test]
async fn nul_in_paths_and_queries_is_refused_before_the_database() {
    let setup = || Setup {
        policy: Policy::default(),
        keys: vec![("root", "vg_nul_admin", Role::Admin)],
        ..Setup::default()
    };
    let services = on_both_backends(setup, "nul").await;
    for (backend, s, _) in &services {
        for (method, uri) in [
            ("GET", "/v1/comments/a%00b"),
            ("POST", "/v1/comments/a%00b/decision"),
            ("GET", "/v1/queue?author=a%00b"),
            ("GET", "/v1/queue?article=a%00b"),
            ("GET", "/v1/authors/a%00b"),
            ("DELETE", "/v1/admin/keys/a%00b"),
            ("GET", "/moderation/comments/a%00b"),
            ("GET", "/moderation/queue?author=a%00b"),
        ] {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let r = s
                .call(method.clone(), uri)
                .key("vg_nul_admin")
                .body("application/json", "{}")
                .send()
                .await;
            let body = r.json();
            assert_eq!(
                (r.status, body["error"]["code"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request")),
                "{backend} {method} {uri}: {body}"
            );
        }
    }
    for (_, s, schema) in services {
        drop(s);
        if let Some(schema) = schema {
            schema.drop().await;
        }
    }
}
