//! The site's labels: per-head labels and a stance beside a decision (from the API and from
//! the page's form), and the label export that carries them.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{json, Value};
use vigie::domain::Role;
use vigie::policy::Policy;

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
