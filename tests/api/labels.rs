//! The site's labels: per-head labels and a stance beside a decision (from the API and from
//! the page's form), Perspective's `comments:suggestscore`, the label export that carries
//! both, and the queue's teach order (`order=informative`, the page's Teach tab).

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use vigie::domain::{CommentId, Decision, Lang, Role};
use vigie::policy::Policy;
use vigie::store::NewComment;

use crate::common;
use crate::helpers::{Reply, Setup, TestApp};

const SCORER: &str = "vg_labels_scorer";
const MODERATOR: &str = "vg_labels_moderator";
const ADMIN: &str = "vg_labels_admin";

/// Reject thresholds out of reach, so flagged comments wait in the queue.
const HOLD_ALL: &str = "[heads.toxicity]\nreject = 1.0\n[heads.insult]\nreject = 1.0\n[heads.threat]\nreject = 1.0\n[heads.identity_attack]\nreject = 1.0\n[heads.profanity]\nreject = 1.0\n";

async fn service(policy: Policy) -> TestApp {
    Setup {
        policy,
        keys: vec![
            ("site", SCORER, Role::Scorer),
            ("mod-ana", MODERATOR, Role::Moderator),
            ("admin", ADMIN, Role::Admin),
        ],
        ..Setup::default()
    }
    .spawn()
    .await
}

async fn held(s: &TestApp, id: &str, text: &str) {
    let r = s.submit(SCORER, &json!({"id": id, "text": text})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["status"], "pending", "{id} is held: {}", r.text());
}

/// The labels stored with the comment's latest event.
async fn stored_labels(s: &TestApp, id: &str) -> Value {
    let (_, events) = s.store().get(id).await.unwrap().unwrap();
    events.last().unwrap().labels.clone().unwrap_or(Value::Null)
}

/// The export's lines, each checked to read as canonical JSONL, by id.
async fn exported(s: &TestApp) -> BTreeMap<String, Value> {
    let r = s.export_labels(ADMIN).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.text();
    let path = std::path::Path::new("export.jsonl");
    let records = vigie::corpus::read_jsonl_str(path, &text).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), lines.len());
    lines
        .into_iter()
        .map(|l| (l["id"].as_str().unwrap().to_owned(), l))
        .collect()
}

fn error_code(r: &Reply) -> (StatusCode, String) {
    let b = r.json();
    (
        r.status,
        b["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn labels_given_with_a_decision_are_checked_stored_and_exported() {
    let s = service(Policy::from_toml(HOLD_ALL).unwrap()).await;
    held(&s, "l1", "Espèce de connard, je vais te retrouver").await;
    held(&s, "l2", "Bande d'abrutis, tous des imbéciles").await;

    // Bad labels decide nothing: 422 with a stable code.
    for bad in [
        json!({"insult": 2}),
        json!({"insult": true}),
        json!({"insult": 1.0}),
        json!({"spam": 1}),
        json!({"stance": "pro"}),
        json!({"stance": 1}),
    ] {
        let r = s
            .decide(
                MODERATOR,
                "l1",
                &json!({"action": "reject", "version": 1, "labels": bad}),
            )
            .await;
        assert_eq!(
            error_code(&r),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_labels".into()),
            "{bad}"
        );
    }
    assert_eq!(s.store().get("l1").await.unwrap().unwrap().1.len(), 1);

    let labels = json!({"insult": 1, "threat": 0, "stance": "against"});
    let r = s
        .decide(
            MODERATOR,
            "l1",
            &json!({"action": "reject", "version": 1, "labels": labels}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(stored_labels(&s, "l1").await, labels);
    // No labels (or an empty set) are none given: nothing stored, no zeros invented.
    let r = s
        .decide(
            MODERATOR,
            "l2",
            &json!({"action": "approve", "version": 1, "labels": {}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(stored_labels(&s, "l2").await, Value::Null);

    let lines = exported(&s).await;
    let l1 = &lines["l1"];
    // The verdict's own label (a rejection: toxic) under those given.
    assert_eq!(
        l1["labels"],
        json!({"toxicity": 1, "insult": 1, "threat": 0, "stance": "against"})
    );
    assert_eq!(
        (&l1["source"], &l1["by"], &l1["action"], &l1["target"]),
        (
            &json!("decision"),
            &json!("mod-ana"),
            &json!("reject"),
            &json!("gouvernement")
        )
    );
    // The approval teaches 0 on exactly the heads that had flagged it.
    let (c2, _) = s.store().get("l2").await.unwrap().unwrap();
    let zeros: serde_json::Map<String, Value> =
        c2.flagged.iter().map(|h| (h.clone(), json!(0))).collect();
    assert!(!zeros.is_empty());
    assert_eq!(lines["l2"]["labels"], Value::Object(zeros));
}

#[tokio::test]
async fn labels_toggled_on_the_page_are_stored_with_the_decision() {
    let s = service(Policy::from_toml(HOLD_ALL).unwrap()).await;
    held(&s, "p1", "Espèce de connard, je vais te retrouver").await;
    held(&s, "p2", "Bande d'abrutis, tous des imbéciles").await;
    let cookie = s.sign_in(MODERATOR).await;

    // Each card offers the binary heads but toxicity (the verdict says it), and a stance.
    let page = s
        .get("/moderation/queue")
        .cookie(&cookie)
        .send()
        .await
        .text();
    for head in ["insult", "threat", "identity_attack", "profanity"] {
        assert!(
            page.contains(&format!("name=\"label\" value=\"{head}\"")),
            "{head}"
        );
    }
    assert!(!page.contains("name=\"label\" value=\"toxicity\""));
    assert!(page.contains("name=\"stance\" value=\"against\""));

    let form = |f: &str| {
        s.post("/moderation/comments/p1/decision")
            .cookie(&cookie)
            .form(f)
            .send()
    };
    // A head the model does not have decides nothing.
    let r = form("action=reject&version=1&label=spam").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("unknown head"), "{}", r.text());
    assert_eq!(stored_labels(&s, "p1").await, Value::Null);

    let r = form("action=reject&version=1&reason=menace&label=insult&label=threat&stance=against&return_to=%2Fmoderation%2Fqueue").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.location().contains("p1+rejected"), "{}", r.location());
    assert_eq!(
        stored_labels(&s, "p1").await,
        json!({"insult": 1, "threat": 1, "stance": "against"})
    );
    // Nothing toggled and the stance left "not given": no labels at all.
    let r = s
        .post("/moderation/comments/p2/decision")
        .cookie(&cookie)
        .form("action=approve&version=1&stance=")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(stored_labels(&s, "p2").await, Value::Null);
    assert_eq!(
        exported(&s).await["p1"]["labels"],
        json!({"toxicity": 1, "insult": 1, "threat": 1, "stance": "against"})
    );
}

const SUGGEST: &str = "/v1alpha1/comments:suggestscore";

fn suggestion(attributes: Value) -> Value {
    json!({
        "comment": {"text": "Tu es un vrai guignol, rentre chez toi", "type": "PLAIN_TEXT"},
        "attributeScores": attributes,
        "languages": ["fr"],
        "communityId": "sports",
        "clientToken": "tok-1",
        "sessionId": "s-9",
    })
}

/// Perspective's INVALID_ARGUMENT: returns (errorType, message).
fn invalid_argument(r: &Reply) -> (String, String) {
    let b = r.json();
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(
        (&b["error"]["code"], &b["error"]["status"]),
        (&json!(400), &json!("INVALID_ARGUMENT")),
        "{b}"
    );
    let kind = b["error"]["details"][0]["errorType"].as_str().unwrap_or("");
    let message = b["error"]["message"].as_str().unwrap().to_owned();
    (kind.to_owned(), message)
}

#[tokio::test]
async fn suggested_scores_are_stored_as_labels_with_who_sent_them() {
    let s = service(Policy::default()).await;
    let body = suggestion(json!({
        "TOXICITY": {"summaryScore": {"value": 0.9, "type": "PROBABILITY"}},
        "INSULT_EXPERIMENTAL": {"summaryScore": {"value": 0.2}, "spanScores": [{"begin": 0, "end": 5, "score": {"value": 0.1}}]},
        "SEVERE_TOXICITY": {"summaryScore": {"value": 0.1}},
    }));
    // A key always, even where scoring is open: what this route is sent teaches the model.
    let r = s.post(SUGGEST).json(&body).send().await;
    assert_eq!(
        (r.status, r.json()["error"]["status"].as_str()),
        (StatusCode::FORBIDDEN, Some("PERMISSION_DENIED"))
    );
    let r = s.suggest_score("vg_nope", &body).await;
    assert_eq!(
        r.json()["error"]["details"][0]["reason"],
        "API_KEY_INVALID",
        "{}",
        r.text()
    );

    let r = s.suggest_score(SCORER, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"detectedLanguages": ["fr"], "requestedLanguages": ["fr"], "clientToken": "tok-1"})
    );
    // SEVERE_TOXICITY alone at 0.5 or more: toxic; under it, it labels nothing.
    let severe = json!({"comment": {"text": "Je vais te crever"}, "attributeScores": {"SEVERE_TOXICITY": {"summaryScore": {"value": 0.8}}}});
    let r = s.suggest_score(SCORER, &severe).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["clientToken"], Value::Null);

    let stored = s.store().suggestions().await.unwrap();
    assert_eq!(stored.len(), 2);
    let first = &stored[0];
    assert_eq!(
        (
            first.key_name.as_str(),
            first.lang.as_str(),
            first.community_id.as_deref(),
            first.client_token.as_deref()
        ),
        ("site", "fr", Some("sports"), Some("tok-1"))
    );
    assert_eq!(first.text, "Tu es un vrai guignol, rentre chez toi");
    assert_eq!(first.labels, json!({"toxicity": 1, "insult": 0}));
    assert_eq!(stored[1].labels, json!({"toxicity": 1}));

    let lines = exported(&s).await;
    let line = &lines[&format!("suggestscore/{}", first.seq)];
    assert_eq!(
        (
            &line["source"],
            &line["by"],
            &line["community_id"],
            &line["labels"]
        ),
        (
            &json!("suggestscore"),
            &json!("site"),
            &json!("sports"),
            &json!({"toxicity": 1, "insult": 0})
        )
    );
    assert_eq!(lines.len(), 2);
}

#[tokio::test]
async fn bad_suggestions_get_perspectives_errors_and_store_nothing() {
    let s = service(Policy::default()).await;
    let good = json!({"TOXICITY": {"summaryScore": {"value": 1}}});
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            suggestion(json!({"SPAM": {"summaryScore": {"value": 1}}})),
            "INVALID_REQUEST",
            "Unknown attribute: SPAM",
        ),
        (
            json!({"attributeScores": good}),
            "COMMENT_EMPTY",
            "non-empty",
        ),
        (
            json!({"comment": {"type": "PLAIN_TEXT"}, "attributeScores": good}),
            "INVALID_REQUEST",
            "text",
        ),
        (
            json!({"comment": {"text": "  "}, "attributeScores": good}),
            "COMMENT_EMPTY",
            "non-empty",
        ),
        (
            suggestion(json!({"TOXICITY": {"summaryScore": {"value": 1.5}}})),
            "INVALID_REQUEST",
            "must lie in [0, 1], got 1.5",
        ),
        (
            suggestion(json!({"TOXICITY": {"summaryScore": {"value": -0.1}}})),
            "INVALID_REQUEST",
            "must lie in [0, 1]",
        ),
        (
            suggestion(json!({"TOXICITY": {"summaryScore": {"value": "high"}}})),
            "INVALID_REQUEST",
            "Invalid JSON payload",
        ),
        (
            suggestion(json!({})),
            "INVALID_REQUEST",
            "must not be empty",
        ),
        (
            suggestion(json!({"TOXICITY": {"spanScores": []}})),
            "INVALID_REQUEST",
            "needs a summaryScore",
        ),
        (
            suggestion(
                json!({"TOXICITY": {"summaryScore": {"value": 0}}, "SEVERE_TOXICITY": {"summaryScore": {"value": 0.9}}}),
            ),
            "INVALID_REQUEST",
            "different labels for toxicity",
        ),
        (
            suggestion(json!({"SEVERE_TOXICITY": {"summaryScore": {"value": 0.2}}})),
            "INVALID_REQUEST",
            "labels nothing",
        ),
        (
            suggestion(
                json!({"TOXICITY": {"summaryScore": {"value": 1}, "spanScores": [{"begin": 3, "end": 999, "score": {"value": 1}}]}}),
            ),
            "INVALID_REQUEST",
            "begin 3 and end 999",
        ),
        (
            suggestion(
                json!({"TOXICITY": {"summaryScore": {"value": 1, "type": "STD_DEV_SCORE"}}}),
            ),
            "INVALID_REQUEST",
            "STD_DEV_SCORE",
        ),
        (
            json!({"comment": {"text": "x"}, "attributeScores": good, "languages": ["de"]}),
            "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
            "de",
        ),
        (
            json!({"comment": {"text": "a\u{0}b"}, "attributeScores": good}),
            "INVALID_REQUEST",
            "NUL",
        ),
        (
            json!({"comment": {"text": "x", "type": "HTML"}, "attributeScores": good}),
            "INVALID_REQUEST",
            "PLAIN_TEXT",
        ),
        (
            json!({"comment": {"text": "x"}, "attributeScores": good, "communityId": "c".repeat(300)}),
            "INVALID_REQUEST",
            "communityId",
        ),
        (
            json!({"comment": {"text": "x"}, "attributeScores": good, "doNotStore": true}),
            "INVALID_REQUEST",
            "doNotStore",
        ),
    ];
    for (body, kind, says) in cases {
        let r = s.suggest_score(SCORER, &body).await;
        let (k, message) = invalid_argument(&r);
        assert_eq!(k, kind, "{body}: {message}");
        assert!(message.contains(says), "{body}: {message}");
    }
    assert!(s.store().suggestions().await.unwrap().is_empty());
    // The method is in the API's document and in Google's discovery document.
    let doc = s.get("/openapi.json").send().await.json();
    assert!(doc["paths"][SUGGEST]["post"].is_object());
    let discovery = s.get("/$discovery/rest").send().await.json();
    let method = &discovery["resources"]["comments"]["methods"]["suggestscore"];
    assert_eq!(method["path"], "v1alpha1/comments:suggestscore");
}

/// A flagged comment stored as it is, its stored scores saying nothing (0): the teach order
/// reads the serving model's own.
fn pending(id: &str, text: &str, author: &str) -> NewComment {
    NewComment {
        id: CommentId::parse(id).unwrap(),
        text: text.to_owned(),
        article_id: None,
        author: Some(author.to_owned()),
        target: None,
        lang: "fr".into(),
        scores: BTreeMap::from([("toxicity".to_owned(), 0.0)]),
        stance: None,
        stance_label: None,
        flagged: vec!["toxicity".into()],
        explanation: None,
        model_id: "m".into(),
        decision: Decision::Flag,
        actor: "site".into(),
        note: None,
        statement_token_hash: None,
        now_ms: 1,
    }
}

/// Near copies (the same text six times) and six comments unlike each other and it.
const COPY: &str = "Les ministres sont des clowns incompétents";
const DISTINCT: [&str; 6] = [
    "Merci pour cet article très clair sur la réforme",
    "Tu es un abruti fini, va te cacher",
    "Je vais te faire la peau si je te croise",
    "Putain mais quelle merde ce match hier soir",
    "Les immigrés volent nos emplois, dehors",
    "Quel temps magnifique aujourd'hui à Lyon",
];

/// Every head flags exactly at the copies' probability: the copies are as uncertain as a
/// comment can be, on every head.
fn policy_around(text: &str) -> Policy {
    let model = common::model::default_model();
    let probs = vigie::scoring::run(model, text, Some(Lang::Fr)).probs;
    let toml: String = model
        .card
        .heads
        .iter()
        .zip(&probs)
        .map(|(h, p)| format!("[heads.{}]\nflag = {p}\nreject = 1.0\n", h.name))
        .collect();
    Policy::from_toml(&toml).unwrap()
}

async fn informative(s: &TestApp, query: &str) -> Vec<String> {
    let r = s.queue(MODERATOR, query).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let b = r.json();
    assert_eq!(b["next_cursor"], Value::Null, "one page");
    b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_teach_order_puts_uncertain_comments_first_and_skips_near_copies() {
    let s = service(policy_around(COPY)).await;
    for i in 0..6 {
        let c = pending(&format!("copy-{i}"), COPY, "carl");
        s.store().submit(c).await.unwrap();
    }
    for (i, text) in DISTINCT.iter().enumerate() {
        s.store()
            .submit(pending(&format!("d-{i}"), text, "dana"))
            .await
            .unwrap();
    }
    let is_copy = |id: &String| id.starts_with("copy-");

    // The first pick is the most uncertain (a copy); then the diversity rule keeps the
    // other copies out while anything else is left.
    let top = informative(&s, "order=informative&limit=7").await;
    assert_eq!(top.len(), 7);
    assert!(is_copy(&top[0]), "{top:?}");
    assert_eq!(top.iter().filter(|id| is_copy(id)).count(), 1, "{top:?}");
    // All twelve when asked for all, each once.
    let mut all = informative(&s, "order=informative&limit=50").await;
    assert_eq!(all.len(), 12);
    assert!(all[7..].iter().all(is_copy), "{all:?}");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 12);
    // The other filters hold.
    let dana = informative(&s, "order=informative&author=dana").await;
    assert_eq!(dana.len(), 6);
    assert!(dana.iter().all(|id| id.starts_with("d-")));
    // The ordinary queue keeps its order.
    let r = s.queue(MODERATOR, "order=oldest&limit=3").await;
    let b = r.json();
    let oldest: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(oldest, ["copy-0", "copy-1", "copy-2"]);
    assert!(b["next_cursor"].is_string());

    // The Teach tab shows the same order.
    let cookie = s.sign_in(MODERATOR).await;
    let page = s
        .get("/moderation/queue?order=informative")
        .cookie(&cookie)
        .send()
        .await
        .text();
    assert!(page.contains("class=\"tab teach current\""), "{page}");
    let first_card = page.find("class=\"card\"").unwrap();
    assert!(
        page[first_card..].starts_with(&format!("class=\"card\" id=\"c-{}\"", top[0])),
        "{}",
        &page[first_card..first_card + 80]
    );
}

#[tokio::test]
async fn the_teach_order_ranks_the_oldest_500_and_refuses_bad_parameters() {
    let s = service(policy_around(COPY)).await;
    for i in 0..500 {
        let c = pending(&format!("old-{i:03}"), DISTINCT[0], "olga");
        s.store().submit(c).await.unwrap();
    }
    // The most uncertain comment of all, but the 501st: not a candidate.
    s.store()
        .submit(pending("late", COPY, "lou"))
        .await
        .unwrap();
    let top = informative(&s, "order=informative&limit=200").await;
    assert_eq!(top.len(), 200);
    assert!(!top.contains(&"late".to_owned()));
    assert_eq!(
        informative(&s, "order=informative&author=lou").await,
        ["late"]
    );

    for (query, says) in [
        ("order=informative&cursor=3ff0000000000000.1", "no cursor"),
        ("order=informative&status=approved", "pending comments only"),
        ("order=informative&limit=0", "limit"),
        ("order=random", "score, oldest or informative"),
    ] {
        let r = s.queue(MODERATOR, query).await;
        assert_eq!(
            error_code(&r),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_query".into()),
            "{query}"
        );
        assert!(r.text().contains(says), "{query}: {}", r.text());
    }
    // The API's document says how the order pages.
    let doc = s.get("/openapi.json").send().await.json();
    let params = doc["paths"]["/v1/queue"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let order = params.iter().find(|p| p["name"] == "order").unwrap();
    assert!(
        order["description"].as_str().unwrap().contains("one page"),
        "{order}"
    );

    let cookie = s.sign_in(MODERATOR).await;
    let r = s
        .call(
            Method::GET,
            "/moderation/queue?order=informative&status=rejected",
        )
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("pending comments only"));
}
