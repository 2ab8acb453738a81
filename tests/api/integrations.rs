//! Drop-in endpoints: Perspective API's `comments:analyze` and Coral Talk's external
//! moderation phase, tested with requests recorded in their documented shapes
//! (`tests/fixtures/`).

use axum::http::{header, StatusCode};
use serde_json::{json, Value};
use vigie::domain::Role;
use vigie::http::coral::sign;
use vigie::http::{AppConfig, Limits};
use vigie::policy::Policy;

use crate::common;
use crate::helpers::{Setup, TestApp};

const SECRET: &str = "coral_signing_secret_1";
const OLD_SECRET: &str = "coral_signing_secret_0";

async fn state(requires_key: bool) -> TestApp {
    Setup {
        config: AppConfig {
            score_requires_key: requires_key,
            coral_secrets: vec![OLD_SECRET.into(), SECRET.into()],
            ..AppConfig::default()
        },
        keys: vec![("site", "vg_site", Role::Scorer)],
        ..Setup::default()
    }
    .spawn()
    .await
}

async fn post(
    s: &TestApp,
    uri: &str,
    body: Vec<u8>,
    headers: &[(&str, String)],
) -> (StatusCode, Value) {
    let mut call = s.post(uri).body("application/json", body);
    for (k, v) in headers {
        call = call.header(k, v);
    }
    let r = call.send().await;
    (r.status, r.json())
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(common::files::path(&format!("tests/fixtures/{name}"))).unwrap()
}

const ANALYZE: &str = "/v1alpha1/comments:analyze";

/// Asserts Perspective's error shape and returns (message, errorType).
fn perspective_error(status: StatusCode, b: &Value) -> (String, String) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["error"]["code"], 400);
    assert_eq!(b["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(
        b["error"]["details"][0]["@type"],
        "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
    );
    (
        b["error"]["message"].as_str().unwrap().to_owned(),
        b["error"]["details"][0]["errorType"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

#[tokio::test]
async fn perspective_requests_get_perspective_answers() {
    let s = state(false).await;
    // What Coral's own Perspective client sends, and reads back.
    let (st, b) = post(
        &s,
        ANALYZE,
        fixture("perspective/coral_client.json").into_bytes(),
        &[],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let v = b["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
        .as_f64()
        .unwrap();
    assert!(v > 0.5, "{b}");
    assert_eq!(
        b["attributeScores"]["TOXICITY"]["summaryScore"]["type"],
        "PROBABILITY"
    );
    assert_eq!(
        (b["languages"].clone(), b["detectedLanguages"].clone()),
        (json!(["fr"]), json!(["fr"]))
    );
    assert!(
        b["attributeScores"]["TOXICITY"].get("spanScores").is_none(),
        "no spans unless asked"
    );

    // Every field of the request at once.
    let (st, b) = post(
        &s,
        ANALYZE,
        fixture("perspective/all_fields.json").into_bytes(),
        &[],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["clientToken"], "req-42");
    assert_eq!(b["languages"], json!(["en"]));
    let scores = b["attributeScores"].as_object().unwrap();
    let mut names: Vec<&str> = scores.keys().map(String::as_str).collect();
    names.sort();
    // INSULT is under its 0.999 threshold, so it is left out, as Perspective does.
    assert_eq!(
        names,
        [
            "IDENTITY_ATTACK",
            "PROFANITY",
            "SEVERE_TOXICITY",
            "THREAT",
            "TOXICITY"
        ]
    );
    // Span annotations are per sentence, in UTF-16 units, end exclusive.
    let spans: Vec<(u64, u64)> = b["attributeScores"]["TOXICITY"]["spanScores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["begin"].as_u64().unwrap(), s["end"].as_u64().unwrap()))
        .collect();
    assert_eq!(spans, [(0, 31), (32, 56)]);
    // Each span's score is that sentence's own score.
    let span_scores: Vec<f64> = b["attributeScores"]["TOXICITY"]["spanScores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["score"]["value"].as_f64().unwrap())
        .collect();
    for (sentence, got) in [
        "What kind of idiot name is foo?",
        "Sorry, I like your name.",
    ]
    .iter()
    .zip(&span_scores)
    {
        let (_, one) = post(
            &s,
            "/v1/score",
            json!({"text": sentence, "lang": "en"})
                .to_string()
                .into_bytes(),
            &[],
        )
        .await;
        assert!(
            (one["scores"]["toxicity"].as_f64().unwrap() - got).abs() < 1e-6,
            "{sentence}"
        );
    }

    // SEVERE_TOXICITY is the documented derivation from the heads /v1/score returns.
    let text = "What kind of idiot name is foo? Sorry, I like your name.";
    let (_, sc) = post(
        &s,
        "/v1/score",
        json!({"text": text, "lang": "en"}).to_string().into_bytes(),
        &[],
    )
    .await;
    let h = |n: &str| sc["scores"][n].as_f64().unwrap();
    let expected = h("toxicity")
        * h("threat")
            .max(h("identity_attack"))
            .max(h("insult") * h("profanity"));
    let got = b["attributeScores"]["SEVERE_TOXICITY"]["summaryScore"]["value"]
        .as_f64()
        .unwrap();
    assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
    assert!(
        (b["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
            .as_f64()
            .unwrap()
            - h("toxicity"))
        .abs()
            < 1e-6
    );

    // *_EXPERIMENTAL names map to the same heads.
    let (st, b) = post(
        &s,
        ANALYZE,
        fixture("perspective/experimental_fr.json").into_bytes(),
        &[],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert!(
        b["attributeScores"]["INSULT_EXPERIMENTAL"]["summaryScore"]["value"]
            .as_f64()
            .unwrap()
            > 0.5
    );
}

#[tokio::test]
async fn perspective_errors_have_perspective_shapes() {
    let s = state(false).await;
    let (st, b) = post(
        &s,
        ANALYZE,
        fixture("perspective/unknown_attribute.json").into_bytes(),
        &[],
    )
    .await;
    assert_eq!(
        perspective_error(st, &b),
        (
            "Unknown requested attribute: SEXUALLY_EXPLICIT".into(),
            "INVALID_REQUEST".into()
        )
    );
    // …unless the client asks to drop what is not supported.
    let mut req: Value =
        serde_json::from_str(&fixture("perspective/unknown_attribute.json")).unwrap();
    req["dropUnsupportedAttributes"] = true.into();
    let (st, b) = post(&s, ANALYZE, req.to_string().into_bytes(), &[]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        b["attributeScores"]["TOXICITY"].is_object()
            && b["attributeScores"].get("SEXUALLY_EXPLICIT").is_none()
    );

    let (st, b) = post(
        &s,
        ANALYZE,
        fixture("perspective/unsupported_language.json").into_bytes(),
        &[],
    )
    .await;
    let (msg, kind) = perspective_error(st, &b);
    assert_eq!(
        (msg.as_str(), kind.as_str()),
        (
            "Attribute TOXICITY does not support request languages: de",
            "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
        )
    );
    assert_eq!(
        b["error"]["details"][0]["languageNotSupportedByAttributeError"]["attribute"],
        "TOXICITY"
    );

    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}),
            "Comment must be non-empty.",
            "COMMENT_EMPTY",
        ),
        (
            json!({"comment": {"text": "   "}, "requestedAttributes": {"TOXICITY": {}}}),
            "Comment must be non-empty.",
            "COMMENT_EMPTY",
        ),
        (
            json!({"comment": {"text": "x".repeat(20_481)}, "requestedAttributes": {"TOXICITY": {}}}),
            "Comment text too long.",
            "COMMENT_TOO_LONG",
        ),
        (
            json!({"comment": {"text": "hello"}}),
            "No requested attributes specified.",
            "NO_REQUESTED_ATTRIBUTES",
        ),
        (
            json!({"comment": {"text": "hello"}, "requestedAttributes": {}}),
            "No requested attributes specified.",
            "NO_REQUESTED_ATTRIBUTES",
        ),
        (
            json!({"comment": {"text": "<b>hi</b>", "type": "HTML"}, "requestedAttributes": {"TOXICITY": {}}}),
            "Currently, only 'PLAIN_TEXT' comments are supported",
            "INVALID_REQUEST",
        ),
        (
            json!({"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {"scoreType": "PERCENTILE"}}}),
            "Requested score type PERCENTILE is not supported by attribute TOXICITY",
            "INVALID_REQUEST",
        ),
    ];
    for (req, message, kind) in cases {
        let (st, b) = post(&s, ANALYZE, req.to_string().into_bytes(), &[]).await;
        assert_eq!(
            perspective_error(st, &b),
            (message.to_owned(), kind.to_owned()),
            "{req}"
        );
    }
    for bad in [&b"{\"comment\": "[..], b"{\"comment\": {\"text\": \"hi\"}, \"requestedAttributes\": {\"TOXICITY\": {}}, \"colour\": 1}", b"{\"requestedAttributes\": {\"TOXICITY\": {}}}"] {
        let (st, b) = post(&s, ANALYZE, bad.to_vec(), &[]).await;
        let (msg, kind) = perspective_error(st, &b);
        assert!(msg.starts_with("Invalid JSON payload received."), "{msg}");
        assert_eq!(kind, "INVALID_REQUEST");
    }
}

#[tokio::test]
async fn perspective_keys_come_as_query_parameters() {
    let s = state(true).await;
    let body = fixture("perspective/coral_client.json").into_bytes();
    let (st, b) = post(&s, ANALYZE, body.clone(), &[]).await;
    assert_eq!(
        (st, b["error"]["status"].as_str()),
        (StatusCode::FORBIDDEN, Some("PERMISSION_DENIED"))
    );
    let (st, b) = post(&s, &format!("{ANALYZE}?key=wrong"), body.clone(), &[]).await;
    assert_eq!(
        (st, b["error"]["message"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("API key not valid. Please pass a valid API key.")
        )
    );
    let (st, _) = post(&s, &format!("{ANALYZE}?key=vg_site"), body.clone(), &[]).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = post(
        &s,
        ANALYZE,
        body.clone(),
        &[("authorization", "Bearer vg_site".into())],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    // As Google's clients may send it.
    let (st, _) = post(
        &s,
        ANALYZE,
        body.clone(),
        &[("x-goog-api-key", "vg_site".into())],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, b) = post(&s, ANALYZE, body, &[("x-goog-api-key", "wrong".into())]).await;
    assert_eq!(
        (st, b["error"]["details"][0]["reason"].as_str()),
        (StatusCode::BAD_REQUEST, Some("API_KEY_INVALID"))
    );
}

/// Perspective takes 20,480 bytes of text; so does the drop-in endpoint, over the API's own
/// 10,000-character limit.
#[tokio::test]
async fn perspective_takes_what_perspective_takes() {
    let s = state(false).await;
    for text in [
        "x ".repeat(10_240),
        "é".repeat(10_240),
        "Quel idiot. ".repeat(1_706),
    ] {
        assert!(text.len() <= 20_480 && text.chars().count() > Limits::default().max_text_chars);
        let body = json!({"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}, "spanAnnotations": true});
        let (st, b) = post(&s, ANALYZE, body.to_string().into_bytes(), &[]).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let v = b["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
            .as_f64()
            .unwrap();
        assert!((0.0..=1.0).contains(&v));
    }
}

/// Google's generated clients build themselves from the discovery document.
#[tokio::test]
async fn perspective_discovery_document_points_at_this_server() {
    let s = state(false).await;
    let get = |uri: &'static str| {
        let call = s.get(uri).header(header::HOST.as_str(), "vigie.test:8080");
        async move {
            let r = call.send().await;
            (r.status, serde_json::from_slice::<Value>(&r.body).unwrap())
        }
    };
    let (st, doc) = get("/$discovery/rest?version=v1alpha1").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(doc["kind"], "discovery#restDescription");
    assert_eq!(doc["name"], "commentanalyzer");
    assert_eq!(doc["rootUrl"], "http://vigie.test:8080/");
    assert_eq!(
        doc["resources"]["comments"]["methods"]["analyze"]["path"],
        "v1alpha1/comments:analyze"
    );
    let (st, b) = get("/$discovery/rest?version=v9").await;
    assert_eq!(
        (st, b["error"]["code"].as_u64()),
        (StatusCode::NOT_FOUND, Some(404))
    );
}

type Headers = Vec<(&'static str, String)>;

/// A Coral request as Coral sends it: pretty-printed with two spaces, signed.
fn coral_body(text: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_str(&fixture("coral/new_comment.json")).unwrap();
    v["comment"]["body"] = text.into();
    serde_json::to_string_pretty(&v).unwrap().into_bytes()
}

fn signed(secret: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("x-coral-signature", sign(secret, body)),
        ("user-agent", "Coral Moderation/9.0.0".into()),
    ]
}

#[tokio::test]
async fn coral_phase_scores_stores_and_answers_in_coral_schema() {
    let s = state(false).await;
    const URI: &str = "/v1/integrations/coral";

    // A civil comment: nothing to say (204), so Coral goes on with its own phases, its
    // pre-moderation of new commenters included.
    let body = coral_body("Merci pour cet article très complet.");
    let (st, b) = post(&s, URI, body.clone(), &signed(SECRET, &body)).await;
    assert_eq!((st, b), (StatusCode::NO_CONTENT, Value::Null));
    // A rude one: withheld for review, flagged as toxic, and in our queue.
    let body = coral_body("Quelle bande de bras cassés");
    let (st, b) = post(&s, URI, body.clone(), &signed(SECRET, &body)).await;
    assert_eq!(
        (st, &b),
        (
            StatusCode::OK,
            &json!({"status": "SYSTEM_WITHHELD", "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]})
        )
    );
    let page = s
        .store()
        .queue(&vigie::store::QueueQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let stored = &page.items[0];
    assert_eq!(stored.text, "Quelle bande de bras cassés");
    assert_eq!(
        stored.author.as_deref(),
        Some("baf4e943-f4f5-4dcd-a0cc-c1a5f6b87a65")
    );
    assert_eq!(
        stored.article_id.as_deref(),
        Some("245b3856-3e8b-4aea-b1b2-2c2f7a7b1f12")
    );
    let (_, events) = s.store().get(&stored.id).await.unwrap().unwrap();
    assert_eq!(events[0].actor, "coral:localhost");
    // The same call again: the stored answer, no duplicate.
    let (_, again) = post(&s, URI, body.clone(), &signed(SECRET, &body)).await;
    assert_eq!(again, b);
    assert_eq!(s.store().counts().await.unwrap().values().sum::<i64>(), 2);
    // Over a reject threshold (0.90 in models/thresholds.toml): rejected. The default model
    // scores this insult 0.96 (`score`); a milder one sat at 0.89 after a retrain. The
    // older secret still signs while rotating.
    let body = coral_body("Bande de guignols et de connards, démission !");
    let (st, b) = post(&s, URI, body.clone(), &signed(OLD_SECRET, &body)).await;
    assert_eq!(
        (st, b["status"].as_str()),
        (StatusCode::OK, Some("REJECTED"))
    );
    // With the moderation action that makes Coral record it and notify the author: the
    // code of the most serious head that fired, and the words that made it fire.
    let action = &b["moderationAction"];
    assert_eq!(action["status"], "REJECTED", "{b}");
    let reason = &action["rejectionReason"];
    assert!(
        ["ABUSIVE", "OFFENSIVE", "HATE_SPEECH", "HARASSMENT_BULLYING"]
            .contains(&reason["code"].as_str().unwrap()),
        "{b}"
    );
    let explanation = reason["detailedExplanation"].as_str().unwrap();
    assert!(
        explanation.starts_with("Automated moderation (Vigie): ")
            && explanation.contains("connards")
            && explanation.contains(". Rule "),
        "{explanation}"
    );
    // HTML bodies and the older `tenant` shape.
    let body = fixture("coral/older_tenant_shape.json").into_bytes();
    let (st, b) = post(&s, URI, body.clone(), &signed(SECRET, &body)).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let all = s.store().author("user-2").await.unwrap();
    assert_eq!(all.comments[0].text, "Bande de guignols, dégagez tous !");
    assert_eq!(all.comments[0].article_id.as_deref(), Some("story-9"));
}

#[tokio::test]
async fn coral_phase_refuses_bad_signatures_and_bad_bodies() {
    let s = state(false).await;
    const URI: &str = "/v1/integrations/coral";
    let body = coral_body("Bonjour");
    let before = s.store().counts().await.unwrap().values().sum::<i64>();
    let cases: Vec<(Headers, Vec<u8>)> = vec![
        (vec![], body.clone()),
        (vec![("x-coral-signature", "".into())], body.clone()),
        (signed("not_the_secret", &body), body.clone()),
        (
            vec![(
                "x-coral-signature",
                sign(SECRET, &body).replace("sha256=", "sha1="),
            )],
            body.clone(),
        ),
        (
            vec![("x-coral-signature", "sha256=00ff".into())],
            body.clone(),
        ),
        // Signed, then tampered with.
        (signed(SECRET, &body), coral_body("Bonjour!")),
    ];
    for (headers, b) in cases {
        let (st, resp) = post(&s, URI, b, &headers).await;
        assert_eq!(
            (st, resp["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_signature")),
            "{headers:?}"
        );
    }
    assert_eq!(
        s.store().counts().await.unwrap().values().sum::<i64>(),
        before,
        "nothing stored"
    );

    let not_json = b"{\"action\": ".to_vec();
    let (st, b) = post(&s, URI, not_json.clone(), &signed(SECRET, &not_json)).await;
    assert_eq!(
        (st, b["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_json"))
    );
    let missing = br#"{"action": "NEW", "comment": {"body": "x"}}"#.to_vec();
    let (st, b) = post(&s, URI, missing.clone(), &signed(SECRET, &missing)).await;
    assert_eq!(
        (st, b["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request"))
    );
    let mut v: Value = serde_json::from_slice(&coral_body("x")).unwrap();
    v["action"] = "DELETE".into();
    let odd = serde_json::to_vec(&v).unwrap();
    let (st, _) = post(&s, URI, odd.clone(), &signed(SECRET, &odd)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // Without a configured secret the endpoint is off.
    let off = Setup {
        policy: Policy::default(),
        ..Setup::default()
    }
    .spawn()
    .await;
    assert!(off.state.config().coral_secrets.is_empty());
    let (st, b) = post(&off, URI, body.clone(), &signed(SECRET, &body)).await;
    assert_eq!(
        (st, b["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_configured"))
    );
}

/// Coral publishes a comment whose phase answers an error, so what Coral really sends is
/// answered, never refused: a long text is scored on its first characters and held, a body
/// too large to keep is held once its signature checks, an image-only comment gets 204.
#[tokio::test]
async fn coral_phase_judges_long_empty_and_oversized_comments_instead_of_failing() {
    let s = state(false).await;
    const URI: &str = "/v1/integrations/coral";
    let max = Limits::default().max_text_chars;

    // 20,000 harmless characters: the first 10,000 are scored; the rest could hold anything,
    // so it is held for review, and the record says so.
    let text = "Merci pour cet article très complet. ".repeat(20_000 / 37 + 1);
    let long = coral_body(&text);
    let (st, b) = post(&s, URI, long.clone(), &signed(SECRET, &long)).await;
    assert_eq!(
        (st, b),
        (StatusCode::OK, json!({"status": "SYSTEM_WITHHELD"}))
    );
    let page = s
        .store()
        .author("baf4e943-f4f5-4dcd-a0cc-c1a5f6b87a65")
        .await
        .unwrap();
    let stored = &page.comments[0];
    assert_eq!(stored.text, text.trim(), "the whole text is kept");
    assert_eq!(stored.status.as_str(), "pending");
    let (_, events) = s.store().get(&stored.id).await.unwrap().unwrap();
    let chars = text.trim().chars().count();
    assert_eq!(
        events[0].reason.as_deref(),
        Some(format!("scored on the first {max} of its {chars} characters; held for review when it would be allowed").as_str())
    );
    // Insults after the first 10,000 characters are not scored, and still not published.
    let rude = format!(
        "{}Bande de guignols et de connards !",
        "Merci. ".repeat(max / 7 + 1)
    );
    let rude = coral_body(&rude);
    let (st, b) = post(&s, URI, rude.clone(), &signed(SECRET, &rude)).await;
    assert_eq!(
        (st, b["status"].as_str()),
        (StatusCode::OK, Some("SYSTEM_WITHHELD")),
        "{b}"
    );

    // Nothing to score (an image-only comment, a NUL): 204, nothing stored.
    let before = s.store().counts().await.unwrap().values().sum::<i64>();
    for body in [
        "<p><img src=\"https://example.org/cat.gif\"/></p>",
        "<p> </p>",
        "\0",
    ] {
        let empty = coral_body(body);
        let (st, b) = post(&s, URI, empty.clone(), &signed(SECRET, &empty)).await;
        assert_eq!((st, b), (StatusCode::NO_CONTENT, Value::Null), "{body:?}");
    }
    assert_eq!(
        s.store().counts().await.unwrap().values().sum::<i64>(),
        before
    );

    // A body over the general 1 MiB limit is read and scored as any other.
    let huge = coral_body(&"Très bon article. ".repeat((1 << 20) / 18 + 1));
    assert!(huge.len() > Limits::default().max_body_bytes);
    let (st, b) = post(&s, URI, huge.clone(), &signed(SECRET, &huge)).await;
    assert_eq!(
        (st, b),
        (StatusCode::OK, json!({"status": "SYSTEM_WITHHELD"}))
    );

    // Over the Coral body limit: read to the end for its signature, then held, unstored.
    let small = Setup {
        policy: Policy::default(),
        config: AppConfig {
            limits: Limits {
                max_coral_body_bytes: 4096,
                ..Limits::default()
            },
            coral_secrets: vec![SECRET.into()],
            ..AppConfig::default()
        },
        ..Setup::default()
    }
    .spawn()
    .await;
    let big = coral_body(&"Bonjour. ".repeat(1000));
    assert!(big.len() > 4096);
    let (st, b) = post(&small, URI, big.clone(), &signed(SECRET, &big)).await;
    assert_eq!(
        (st, b),
        (StatusCode::OK, json!({"status": "SYSTEM_WITHHELD"}))
    );
    assert_eq!(
        small.store().counts().await.unwrap().values().sum::<i64>(),
        0
    );
    let (st, b) = post(&small, URI, big.clone(), &signed("not_the_secret", &big)).await;
    assert_eq!(
        (st, b["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_signature"))
    );
}

/// A database failure must not publish a comment Vigie scored as toxic: the answer comes
/// from the scores, and the failure is logged.
#[tokio::test]
async fn coral_phase_answers_from_the_scores_when_the_database_fails() {
    let dir = common::tempdir::TempDir::new("coral-db-fails");
    let file = dir.path().join("vigie.db");
    let url = format!("sqlite://{}", file.display());
    let store = vigie::store::open(Some(&url), dir.path()).await.unwrap();
    let s = Setup {
        config: AppConfig {
            coral_secrets: vec![SECRET.into()],
            ..AppConfig::default()
        },
        store: Some(store),
        ..Setup::default()
    }
    .spawn()
    .await;
    // Another process breaks the database under the running service.
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE comments RENAME TO comments_gone")
        .execute(&mut conn)
        .await
        .unwrap();
    const URI: &str = "/v1/integrations/coral";
    let body = coral_body("Quelle bande de bras cassés");
    let (st, b) = post(&s, URI, body.clone(), &signed(SECRET, &body)).await;
    assert_eq!(
        (st, b),
        (
            StatusCode::OK,
            json!({"status": "SYSTEM_WITHHELD", "actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}]})
        )
    );
    let body = coral_body("Merci pour cet article très complet.");
    let (st, _) = post(&s, URI, body.clone(), &signed(SECRET, &body)).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
}
