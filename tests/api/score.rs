//! The scoring API on a real port: every endpoint, every bad input.

use axum::http::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::common;
use crate::helpers::TestApp;

/// One request to a fresh service; every answer is JSON.
async fn send(
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let app = TestApp::spawn().await;
    let mut call = app.call(method, uri);
    if let Some(ct) = content_type {
        call = call.header("content-type", ct);
    }
    let r = call.raw(body).send().await;
    let ct = r
        .headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap());
    assert_eq!(
        ct,
        Some("application/json"),
        "{} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

async fn post(uri: &str, body: Value) -> (StatusCode, Value) {
    send(
        Method::POST,
        uri,
        Some("application/json"),
        body.to_string(),
    )
    .await
}

async fn get(uri: &str) -> (StatusCode, Value) {
    send(Method::GET, uri, None, "").await
}

fn error_code(status: StatusCode, body: &Value, expected_status: StatusCode) -> String {
    assert_eq!(status, expected_status, "{body}");
    let msg = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!msg.is_empty(), "{body}");
    body["error"]["code"].as_str().unwrap().to_owned()
}

fn chars(s: &str, start: u64, end: u64) -> String {
    s.chars()
        .skip(start as usize)
        .take((end - start) as usize)
        .collect()
}

#[tokio::test]
async fn health_and_model_card() {
    let (s, b) = get("/healthz").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["status"], "ok");
    assert_eq!(
        b["model_id"],
        common::model::default_model().card.model_id.as_str()
    );

    let (s, b) = get("/v1/model").await;
    assert_eq!(s, StatusCode::OK);
    let heads: Vec<&str> = b["card"]["heads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        heads,
        [
            "identity_attack",
            "insult",
            "profanity",
            "threat",
            "toxicity"
        ]
    );
    let targets: Vec<&str> = b["card"]["stance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["gouvernement", "nucleaire"]);
    assert_eq!(b["card"]["default_target"], "gouvernement");
    assert!(b["card"]["training"]["items"].as_u64().unwrap() > 800);
    // The real-data tables measured for this model (models/default.realdata.json).
    let model_id = common::model::default_model().card.model_id.as_str();
    assert_eq!(b["realdata"]["model_id"], model_id);
    let french: Vec<&str> = b["realdata"]["french"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["head"].as_str().unwrap())
        .collect();
    assert_eq!(french, ["toxicity", "insult", "identity_attack", "threat"]);
    assert!(b["realdata"]["cross_corpus"].as_array().unwrap().len() >= 5);
    // The config file overrides profanity; other heads keep the model's thresholds.
    assert_eq!(b["thresholds"]["profanity"]["reject"], 1.0);
    assert_eq!(
        b["thresholds"]["toxicity"]["reject"].as_f64().unwrap() as f32,
        0.9
    );
    let tox = common::model::default_model()
        .card
        .head("toxicity")
        .unwrap()
        .thresholds;
    assert_eq!(
        b["thresholds"]["toxicity"]["flag"].as_f64().unwrap() as f32,
        tox.flag
    );
}

#[tokio::test]
async fn openapi_describes_every_route() {
    let (s, b) = get("/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert!(b["openapi"].as_str().unwrap().starts_with("3."));
    for (path, method) in [
        ("/v1/score", "post"),
        ("/v1/score/batch", "post"),
        ("/v1/model", "get"),
        ("/healthz", "get"),
    ] {
        assert!(b["paths"][path][method].is_object(), "{path} {method}");
    }
    assert!(b["components"]["schemas"]["ScoreResponse"].is_object());
    assert!(b["components"]["schemas"]["ErrorBody"].is_object());
    // Every schema the spec refers to is in it (the model card's nested types included,
    // such as a head's calibration).
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&b, &mut all);
    assert!(all.iter().any(|r| r.ends_with("/Platt")), "{all:?}");
    for r in &all {
        let name = r.strip_prefix("#/components/schemas/").expect(r);
        assert!(b["components"]["schemas"][name].is_object(), "{r}");
    }
}

#[tokio::test]
async fn a_toxic_comment_is_flagged_and_explained() {
    let text = "Macron est un gros c0nnard, dégaaage !";
    let (s, b) = post("/v1/score", json!({"text": text})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["lang"], "fr");
    assert_eq!(b["lang_detected"], true);
    assert_ne!(b["decision"], "allow");
    assert!(b["scores"]["toxicity"].as_f64().unwrap() > 0.5);
    assert!(b["scores"]["insult"].as_f64().unwrap() > 0.5);
    let flagged: Vec<&str> = b["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        flagged.contains(&"toxicity") && flagged.contains(&"insult"),
        "{flagged:?}"
    );
    // Every flagged head is explained, with spans that point at the words as written.
    for head in &flagged {
        let items = b["explanation"][head].as_array().unwrap();
        assert!(!items.is_empty(), "{head}");
        for it in items {
            let (start, end) = (it["start"].as_u64().unwrap(), it["end"].as_u64().unwrap());
            assert_eq!(chars(text, start, end), it["text"].as_str().unwrap());
            assert!(it["weight"].as_f64().unwrap() > 0.0);
        }
    }
    let insult_words: Vec<&str> = b["explanation"]["insult"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    assert!(insult_words.contains(&"c0nnard"), "{insult_words:?}");
    assert_eq!(b["stance"]["target"], "gouvernement");
    assert_eq!(b["stance"]["label"], "against");
    let p = &b["stance"]["probabilities"];
    let sum =
        p["favor"].as_f64().unwrap() + p["against"].as_f64().unwrap() + p["none"].as_f64().unwrap();
    assert!((sum - 1.0).abs() < 1e-4);
}

#[tokio::test]
async fn a_civil_comment_is_allowed_without_explanation() {
    let (s, b) = post("/v1/score", json!({"text": "Le conseil de défense s'est réuni jeudi matin à l'Élysée, selon le porte-parole."})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["decision"], "allow", "{b}");
    assert_eq!(b["flagged"], json!([]));
    assert_eq!(b["explanation"], json!({}));
}

#[tokio::test]
async fn language_and_target_can_be_given() {
    let (_, b) = post(
        "/v1/score",
        json!({"text": "The government handled this well."}),
    )
    .await;
    assert_eq!(b["lang"], "en");
    let (_, b) = post(
        "/v1/score",
        json!({"text": "Le gouvernement a bien géré", "lang": "en-GB"}),
    )
    .await;
    assert_eq!(b["lang"], "en");
    assert_eq!(b["lang_detected"], false);
    let (s, b) = post(
        "/v1/score",
        json!({"text": "Vive l'EPR, enfin une énergie propre et pilotable", "target": "nucleaire"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["stance"]["target"], "nucleaire");
    // A target as people write it finds its slug.
    let (s, b) = post(
        "/v1/score",
        json!({"text": "Vive l'EPR, enfin une énergie propre et pilotable", "target": "Nucléaire"}),
    )
    .await;
    assert_eq!(
        (s, &b["stance"]["target"]),
        (StatusCode::OK, &json!("nucleaire"))
    );
}

#[tokio::test]
async fn batch_scores_like_single_requests() {
    let texts = [
        "Quel bouffon ce ministre",
        "Merci pour cet article très clair",
        "you are a m o r o n",
    ];
    let comments: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"id": format!("c{i}"), "text": t}))
        .collect();
    let (s, b) = post("/v1/score/batch", json!({"comments": comments})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let results = b["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for (i, (r, t)) in results.iter().zip(texts).enumerate() {
        assert_eq!(r["id"], format!("c{i}"));
        let (_, single) = post("/v1/score", json!({"text": t})).await;
        assert_eq!(r["scores"], single["scores"], "{t}");
        assert_eq!(r["decision"], single["decision"]);
    }
}

#[tokio::test]
async fn bad_inputs_get_clear_errors() {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let cases: Vec<(&str, Option<&str>, String, StatusCode, &str)> = vec![
        (
            "/v1/score",
            Some("application/json"),
            "{\"text\": ".into(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "/v1/score",
            Some("application/json"),
            "{\"text\": \"a\",}".into(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "/v1/score",
            Some("application/json"),
            json!({"text": 5}).to_string(),
            unprocessable,
            "invalid_request",
        ),
        (
            "/v1/score",
            Some("application/json"),
            json!({"text": "ok", "lang": ["fr"]}).to_string(),
            unprocessable,
            "invalid_request",
        ),
        (
            "/v1/score",
            Some("application/json"),
            json!({}).to_string(),
            unprocessable,
            "invalid_request",
        ),
        (
            "/v1/score",
            Some("application/json"),
            json!([]).to_string(),
            unprocessable,
            "invalid_request",
        ),
        (
            "/v1/score",
            Some("application/json"),
            json!({"text": ""}).to_string(),
            unprocessable,
            "empty_text",
        ),
        (
            "/v1/score",
            Some("application/json"),
            json!({"text": " \n\t "}).to_string(),
            unprocessable,
            "empty_text",
        ),
        (
            "/v1/score",
            Some("application/json"),
            json!({"text": "é".repeat(10_001)}).to_string(),
            unprocessable,
            "text_too_long",
        ),
        (
            "/v1/score",
            Some("application/json"),
            json!({"text": "x".repeat(1 << 20)}).to_string(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "/v1/score",
            Some("application/json"),
            json!({"text": "ok", "target": "football"}).to_string(),
            unprocessable,
            "unknown_target",
        ),
        (
            "/v1/score",
            Some("application/json"),
            json!({"text": "ok", "lang": "de"}).to_string(),
            unprocessable,
            "invalid_lang",
        ),
        (
            "/v1/score",
            Some("application/json"),
            json!({"text": "ok", "toxicity": 1}).to_string(),
            unprocessable,
            "unknown_field",
        ),
        (
            "/v1/score",
            None,
            json!({"text": "ok"}).to_string(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "/v1/score",
            Some("text/plain"),
            json!({"text": "ok"}).to_string(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "/v1/score/batch",
            Some("application/json"),
            json!({"comments": []}).to_string(),
            unprocessable,
            "empty_batch",
        ),
        (
            "/v1/score/batch",
            Some("application/json"),
            json!({"comments": vec![json!({"text": "a"}); 1001]}).to_string(),
            unprocessable,
            "batch_too_large",
        ),
        (
            "/v1/score/batch",
            Some("application/json"),
            json!({"comments": [{"text": "a"}, {"text": ""}]}).to_string(),
            unprocessable,
            "empty_text",
        ),
        (
            "/v1/score/batch",
            Some("application/json"),
            json!({"comments": [{"text": "a", "target": "x"}]}).to_string(),
            unprocessable,
            "unknown_target",
        ),
        (
            "/v1/score/batch",
            Some("application/json"),
            json!({"comments": [{"txt": "a"}]}).to_string(),
            unprocessable,
            "unknown_field",
        ),
        (
            "/v1/score/batch",
            Some("application/json"),
            json!({"text": "a"}).to_string(),
            unprocessable,
            "unknown_field",
        ),
    ];
    for (uri, ct, body, status, code) in cases {
        let (s, b) = send(Method::POST, uri, ct, body.clone()).await;
        assert_eq!(
            error_code(s, &b, status),
            code,
            "{uri} {}",
            &body[..body.len().min(80)]
        );
    }
    // Exactly at the limit is fine.
    let (s, _) = post("/v1/score", json!({"text": "é".repeat(10_000)})).await;
    assert_eq!(s, StatusCode::OK);
    // Batch errors name the comment.
    let (_, b) = post(
        "/v1/score/batch",
        json!({"comments": [{"text": "a"}, {"text": ""}]}),
    )
    .await;
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("comments[1]:"),
        "{b}"
    );
    // Unknown paths and methods.
    let (s, b) = get("/v1/nope").await;
    assert_eq!(error_code(s, &b, StatusCode::NOT_FOUND), "not_found");
    let (s, b) = get("/v1/score").await;
    assert_eq!(
        error_code(s, &b, StatusCode::METHOD_NOT_ALLOWED),
        "method_not_allowed"
    );
}

/// One service answers route after route on its port.
#[tokio::test]
async fn serves_on_a_real_port() {
    let app = TestApp::spawn().await;
    let h = app.get("/healthz").send().await.json();
    assert_eq!(h["status"], "ok");
    let r = app
        .score(&json!({"text": "Bande d'abrutis, on va venir vous chercher"}))
        .await;
    assert_eq!(r.status, 200);
    let b = r.json();
    assert_eq!(b["model_id"], h["model_id"]);
    assert!(b["scores"]["toxicity"].as_f64().unwrap() > 0.5, "{b}");
    let r = app
        .post("/v1/score/batch")
        .json(&json!({"comments": [{"text": "a"}, {"text": "b"}]}))
        .send()
        .await;
    assert_eq!(r.json()["results"].as_array().unwrap().len(), 2);
    let m = app.get("/v1/model").send().await.json();
    assert_eq!(m["card"]["model_id"], h["model_id"]);
    let o = app.get("/openapi.json").send().await.json();
    assert!(o["paths"]["/v1/score"].is_object());
    let r = app
        .post("/v1/score")
        .body("application/json", "{oops")
        .send()
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "invalid_json");
}
