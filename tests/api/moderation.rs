//! The review queue over HTTP: keys and roles on every route, a whole moderation session,
//! bad input, model reload, and concurrent submitters and moderators on a real port.

use axum::http::{header, Method, StatusCode};
use serde_json::{json, Value};
use vigie::domain::Role;
use vigie::http::auth::{Access, ROUTES};
use vigie::http::AppConfig;
use vigie::policy::Policy;
use vigie::store::SqliteStore;

use crate::common::{self, tempdir::TempDir};
use crate::helpers::{Setup, TestApp};

const SCORER: &str = "vg_test_scorer";
const MODERATOR: &str = "vg_test_moderator";
const MODERATOR2: &str = "vg_test_moderator_2";
const ADMIN: &str = "vg_test_admin";

/// Reject thresholds out of reach, so flagged comments wait in the queue.
const HOLD_ALL: &str = "[heads.toxicity]\nflag = 0.4\nreject = 1.0\n[heads.insult]\nflag = 0.4\nreject = 1.0\n\
[heads.threat]\nflag = 0.5\nreject = 1.0\n[heads.identity_attack]\nflag = 0.5\nreject = 1.0\n[heads.profanity]\nflag = 0.5\nreject = 1.0\n";

/// The service on a SQLite file, with a copy of the model to reload, in a directory that
/// goes with it.
async fn service(name: &str, policy: &str, score_requires_key: bool) -> (TestApp, TempDir) {
    let temp = TempDir::new(&format!("mod-{name}"));
    let dir = temp.path();
    let store = SqliteStore::open(&dir.join("vigie.db")).await.unwrap();
    let model_path = dir.join("model.vigie");
    std::fs::copy(common::files::path("models/default.vigie"), &model_path).unwrap();
    let app = Setup {
        policy: Policy::from_toml(policy).unwrap(),
        config: AppConfig {
            model_path: Some(model_path),
            score_requires_key,
            coral_secrets: vec!["coral_test_secret".into()],
            ..AppConfig::default()
        },
        keys: vec![
            ("scorer", SCORER, Role::Scorer),
            ("mod-ana", MODERATOR, Role::Moderator),
            ("mod-ben", MODERATOR2, Role::Moderator),
            ("admin", ADMIN, Role::Admin),
        ],
        store: Some(std::sync::Arc::new(store)),
    }
    .spawn()
    .await;
    (app, temp)
}

/// A JSON request with `key` as a bearer token; the answer as JSON (`Null` when empty, a
/// string when not JSON).
async fn api(
    svc: &TestApp,
    method: Method,
    uri: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut call = svc.call(method, uri);
    if let Some(k) = key {
        call = call.key(k);
    }
    if let Some(b) = body {
        call = call.json(&b);
    }
    let r = call.send().await;
    let v = if r.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&r.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&r.body).into_owned()))
    };
    (r.status, v)
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "some-id")
        .replace("{author}", "someone")
        .replace("{name}", "somekey")
}

#[tokio::test]
async fn every_protected_route_refuses_missing_wrong_and_weak_keys() {
    for requires in [false, true] {
        let (svc, _dir) = service(&format!("walk{requires}"), HOLD_ALL, requires).await;
        for route in ROUTES {
            let (method, path, access) = (&route.method, route.path, &route.access);
            let need = match (access, requires) {
                (Access::Role(r), _) => Some(*r),
                (Access::Scoring, true) => Some(Role::Scorer),
                // Without its `?token=`, a statement needs a moderator's key.
                (Access::ModeratorOrToken, _) => Some(Role::Moderator),
                _ => None,
            };
            let uri = concrete(path);
            let (s, b) = api(&svc, method.clone(), &uri, None, None).await;
            // The integrations answer in their own shapes.
            match access {
                Access::Perspective | Access::PerspectiveKey => {
                    // `suggestscore` stores what it is sent: a key always.
                    if requires || *access == Access::PerspectiveKey {
                        assert_eq!(
                            (s, b["error"]["status"].as_str()),
                            (StatusCode::FORBIDDEN, Some("PERMISSION_DENIED")),
                            "{path}"
                        );
                        let (s, b) = api(
                            &svc,
                            method.clone(),
                            &format!("{uri}?key=vg_wrong"),
                            None,
                            None,
                        )
                        .await;
                        assert_eq!(
                            (s, b["error"]["details"][0]["reason"].as_str()),
                            (StatusCode::BAD_REQUEST, Some("API_KEY_INVALID")),
                            "{path}"
                        );
                        let (s, _) = api(
                            &svc,
                            method.clone(),
                            &format!("{uri}?key={SCORER}"),
                            None,
                            None,
                        )
                        .await;
                        assert_ne!(s, StatusCode::FORBIDDEN);
                    } else {
                        assert_ne!(s, StatusCode::FORBIDDEN, "{path} is public");
                    }
                    continue;
                }
                Access::CoralSignature => {
                    assert_eq!(
                        (s, b["error"]["code"].as_str()),
                        (StatusCode::UNAUTHORIZED, Some("invalid_signature")),
                        "{path}"
                    );
                    // Even an admin key is no signature.
                    let (s, _) = api(&svc, method.clone(), &uri, Some(ADMIN), None).await;
                    assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
                    continue;
                }
                _ => {}
            }
            match need {
                None => assert_ne!(s, StatusCode::UNAUTHORIZED, "{method} {path} is public"),
                Some(role) => {
                    assert_eq!(
                        (s, b["error"]["code"].as_str()),
                        (StatusCode::UNAUTHORIZED, Some("missing_key")),
                        "{method} {path}"
                    );
                    let (s, b) = api(&svc, method.clone(), &uri, Some("vg_wrong"), None).await;
                    assert_eq!(
                        (s, b["error"]["code"].as_str()),
                        (StatusCode::UNAUTHORIZED, Some("invalid_key")),
                        "{method} {path}"
                    );
                    let weaker = match role {
                        Role::Scorer => None,
                        Role::Moderator => Some(SCORER),
                        Role::Admin => Some(MODERATOR),
                    };
                    if let Some(k) = weaker {
                        let (s, b) = api(&svc, method.clone(), &uri, Some(k), None).await;
                        assert_eq!(
                            (s, b["error"]["code"].as_str()),
                            (StatusCode::FORBIDDEN, Some("forbidden")),
                            "{method} {path}"
                        );
                    }
                    // The right key gets past the guard (the request itself may still be bad).
                    let right = match role {
                        Role::Scorer => SCORER,
                        Role::Moderator => MODERATOR,
                        Role::Admin => ADMIN,
                    };
                    let (s, _) = api(&svc, method.clone(), &uri, Some(right), None).await;
                    assert!(
                        s != StatusCode::UNAUTHORIZED && s != StatusCode::FORBIDDEN,
                        "{method} {path}: {s}"
                    );
                }
            }
        }
        // A revoked key stops working at once.
        let (s, b) = api(
            &svc,
            Method::POST,
            "/v1/admin/keys",
            Some(ADMIN),
            Some(json!({"name": "tmp", "role": "scorer"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        let key = b["key"].as_str().unwrap().to_owned();
        let submit = json!({"text": "Bonjour"});
        assert_eq!(
            api(
                &svc,
                Method::POST,
                "/v1/comments",
                Some(&key),
                Some(submit.clone())
            )
            .await
            .0,
            StatusCode::CREATED
        );
        assert_eq!(
            api(
                &svc,
                Method::DELETE,
                "/v1/admin/keys/tmp",
                Some(ADMIN),
                None
            )
            .await
            .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            api(&svc, Method::POST, "/v1/comments", Some(&key), Some(submit))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            api(
                &svc,
                Method::DELETE,
                "/v1/admin/keys/tmp",
                Some(ADMIN),
                None
            )
            .await
            .0,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn a_moderation_session() {
    let (svc, _dir) = service("session", HOLD_ALL, false).await;
    let post = |uri: &'static str, key: &'static str, body: Value| {
        api(&svc, Method::POST, uri, Some(key), Some(body))
    };

    // Submit: a flagged comment waits, a civil one is published.
    let toxic = json!({"id": "coral-1", "text": "Bande d'abrutis, ce gouvernement de guignols", "article_id": "pegasus", "author": "jarod"});
    let (s, c1) = post("/v1/comments", SCORER, toxic.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{c1}");
    assert_eq!(
        (
            c1["status"].as_str(),
            c1["decision"].as_str(),
            c1["version"].as_i64()
        ),
        (Some("pending"), Some("flag"), Some(1))
    );
    assert!(
        c1["explanation"]["toxicity"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "{c1}"
    );
    assert_eq!(c1["stance"]["label"], "against");
    let (s, c2) = post("/v1/comments", SCORER, json!({"id": "coral-2", "text": "Merci pour cet article très complet.", "article_id": "pegasus", "author": "jarod"})).await;
    assert_eq!(
        (s, c2["status"].as_str()),
        (StatusCode::CREATED, Some("published"))
    );
    let (_, c3) = post(
        "/v1/comments",
        SCORER,
        json!({"text": "Quelle bande de connards", "article_id": "autre", "author": "lea"}),
    )
    .await;
    let generated = c3["id"].as_str().unwrap().to_owned();
    assert_eq!(c3["status"], "pending");

    // A retry is idempotent; the same id with another text is a conflict.
    // The retry gets no statement token: only the first answer shows it.
    let (s, again) = post("/v1/comments", SCORER, toxic).await;
    let mut first = c1.clone();
    let fields = first.as_object_mut().unwrap();
    assert!(fields.remove("statement_token").is_some() && fields.remove("statement_url").is_some());
    assert_eq!((s, &again), (StatusCode::OK, &first));
    let (s, b) = post(
        "/v1/comments",
        SCORER,
        json!({"id": "coral-1", "text": "autre chose"}),
    )
    .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("id_conflict"))
    );
    // So is the same text under another author, article or language: nothing is dropped
    // silently.
    for changed in [
        json!({"author": "someone-else"}),
        json!({"article_id": "other-article"}),
        json!({"lang": "en"}),
    ] {
        let mut retry = json!({"id": "coral-1", "text": "Bande d'abrutis, ce gouvernement de guignols", "article_id": "pegasus", "author": "jarod"});
        for (k, v) in changed.as_object().unwrap() {
            retry[k] = v.clone();
        }
        let (s, b) = post("/v1/comments", SCORER, retry).await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("id_conflict")),
            "{changed}"
        );
    }

    // The queue: pending only, filters, counts.
    let (s, q) = api(&svc, Method::GET, "/v1/queue", Some(MODERATOR), None).await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<&str> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"coral-1") && ids.contains(&generated.as_str()));
    assert_eq!(q["counts"]["pending"], 2);
    assert_eq!(q["counts"]["published"], 1);
    let (_, q) = api(
        &svc,
        Method::GET,
        "/v1/queue?article=pegasus&order=oldest",
        Some(MODERATOR),
        None,
    )
    .await;
    assert_eq!(q["items"][0]["id"], "coral-1");
    assert_eq!(q["items"].as_array().unwrap().len(), 1);
    let (_, q) = api(
        &svc,
        Method::GET,
        "/v1/queue?author=lea&head=insult&min_score=0.1",
        Some(MODERATOR),
        None,
    )
    .await;
    assert_eq!(q["items"][0]["id"], generated.as_str());
    let (_, q) = api(
        &svc,
        Method::GET,
        "/v1/queue?limit=1",
        Some(MODERATOR),
        None,
    )
    .await;
    let cursor = q["next_cursor"].as_str().unwrap().to_owned();
    let (_, q2) = api(
        &svc,
        Method::GET,
        &format!("/v1/queue?limit=1&cursor={cursor}"),
        Some(MODERATOR),
        None,
    )
    .await;
    assert_ne!(q["items"][0]["id"], q2["items"][0]["id"]);
    assert!(q2["next_cursor"].is_null());

    // Claims: two moderators, two different comments, then nothing.
    let (s, a) = post("/v1/queue/claim", MODERATOR, json!({"lease_seconds": 120})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (a["id"].as_str(), a["claimed_by"].as_str()),
        (Some("coral-1"), Some("mod-ana"))
    );
    let (_, b) = api(
        &svc,
        Method::POST,
        "/v1/queue/claim",
        Some(MODERATOR2),
        None,
    )
    .await;
    assert_eq!(b["id"], generated.as_str());
    let (s, none) = api(
        &svc,
        Method::POST,
        "/v1/queue/claim",
        Some(MODERATOR2),
        None,
    )
    .await;
    assert_eq!((s, none), (StatusCode::NO_CONTENT, Value::Null));

    // Ben cannot release Ana's claim; an admin can break it, and Ana claims it again.
    let release = "/v1/comments/coral-1/release";
    let (s, e) = api(&svc, Method::POST, release, Some(MODERATOR2), None).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("claimed"))
    );
    let (s, r) = api(&svc, Method::POST, release, Some(ADMIN), None).await;
    assert_eq!((s, &r["claimed_by"]), (StatusCode::OK, &Value::Null), "{r}");
    let (_, again) = post("/v1/queue/claim", MODERATOR, json!({"lease_seconds": 120})).await;
    assert_eq!(again["id"], "coral-1");

    // Ben cannot decide Ana's comment while her lease runs.
    let (s, e) = post(
        "/v1/comments/coral-1/decision",
        MODERATOR2,
        json!({"action": "approve", "version": 1}),
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("claimed"))
    );
    // Ana rejects it with labels; a stale second decision changes nothing.
    let (s, d) = post("/v1/comments/coral-1/decision", MODERATOR, json!({"action": "reject", "reason": "insultes", "labels": {"toxicity": 1, "insult": 1, "stance": "against"}, "version": 1})).await;
    assert_eq!(
        (s, d["status"].as_str(), d["version"].as_i64()),
        (StatusCode::OK, Some("rejected"), Some(2)),
        "{d}"
    );
    let (s, e) = post(
        "/v1/comments/coral-1/decision",
        MODERATOR,
        json!({"action": "approve", "version": 1}),
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("version_conflict"))
    );
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("version 2"));
    // Ben approves his, without labels.
    let path = format!("/v1/comments/{generated}/decision");
    let (s, _) = api(
        &svc,
        Method::POST,
        &path,
        Some(MODERATOR2),
        Some(json!({"action": "approve", "version": 1})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // History: who did what, when, with which model.
    let (s, h) = api(
        &svc,
        Method::GET,
        "/v1/comments/coral-1",
        Some(MODERATOR),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["comment"]["status"], "rejected");
    let events: Vec<(&str, &str)> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        events,
        [
            ("submitted", "scorer"),
            ("claimed", "mod-ana"),
            ("released", "admin"),
            ("claimed", "mod-ana"),
            ("reject", "mod-ana")
        ]
    );
    let reject = &h["history"][4];
    assert_eq!(
        (reject["reason"].as_str(), reject["from_status"].as_str()),
        (Some("insultes"), Some("pending"))
    );
    assert_eq!(
        reject["model_id"],
        common::model::default_model().card.model_id.as_str()
    );
    assert!(reject["at"].as_str().unwrap().ends_with('Z'));

    // The author's history.
    let (_, au) = api(
        &svc,
        Method::GET,
        "/v1/authors/jarod",
        Some(MODERATOR),
        None,
    )
    .await;
    assert_eq!(
        (au["total"].as_i64(), au["by_status"]["rejected"].as_i64()),
        (Some(2), Some(1))
    );
    assert!((au["rejection_rate"].as_f64().unwrap() - 0.5).abs() < 1e-9);

    // Export: canonical JSONL that `train --data` reads.
    let resp = svc.get("/v1/labels/export").key(ADMIN).send().await;
    assert_eq!(resp.headers[header::CONTENT_TYPE], "application/x-ndjson");
    let text = resp.text();
    let records =
        vigie::corpus::read_jsonl_str(std::path::Path::new("export.jsonl"), &text).unwrap();
    assert_eq!(records.len(), 2);
    let rejected = records.iter().find(|r| r.id == "coral-1").unwrap();
    assert_eq!(
        rejected
            .labels
            .binary
            .iter()
            .map(|(h, v)| (h.as_str(), *v))
            .collect::<Vec<_>>(),
        [("insult", 1), ("toxicity", 1)]
    );
    assert_eq!(rejected.labels.stance, Some(vigie::domain::Stance::Against));
    let approved = records.iter().find(|r| r.id == generated).unwrap();
    assert!(
        !approved.labels.binary.is_empty() && approved.labels.binary.values().all(|&v| v == 0),
        "{approved:?}"
    );

    // Reload: the same file swaps in; a damaged one is refused and the old model serves on.
    let (s, r) = api(
        &svc,
        Method::POST,
        "/v1/admin/model/reload",
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(
        (s, r["model_id"].as_str()),
        (
            StatusCode::OK,
            Some(common::model::default_model().card.model_id.as_str())
        )
    );
    let path = svc.state.config().model_path.clone().unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() - 10);
    std::fs::write(&path, bytes).unwrap();
    let (s, r) = api(
        &svc,
        Method::POST,
        "/v1/admin/model/reload",
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(
        (s, r["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("model_rejected"))
    );
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("length mismatch"),
        "{r}"
    );
    let (s, _) = api(
        &svc,
        Method::POST,
        "/v1/score",
        None,
        Some(json!({"text": "toujours là"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, ready) = api(&svc, Method::GET, "/readyz", None, None).await;
    assert_eq!(ready["database"], "ok");
}

/// method, uri, key, body, expected status, expected error code.
type Case = (
    Method,
    &'static str,
    &'static str,
    Option<Value>,
    StatusCode,
    &'static str,
);

#[tokio::test]
async fn bad_moderation_input_gets_clear_errors() {
    let (svc, _dir) = service("bad", HOLD_ALL, false).await;
    let (_, c) = api(
        &svc,
        Method::POST,
        "/v1/comments",
        Some(SCORER),
        Some(json!({"id": "x1", "text": "Bande de crétins"})),
    )
    .await;
    assert_eq!(c["status"], "pending");
    let cases: Vec<Case> = vec![
        (
            Method::POST,
            "/v1/comments",
            SCORER,
            Some(json!({"id": "a/b", "text": "x"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id",
        ),
        (
            Method::POST,
            "/v1/comments",
            SCORER,
            Some(json!({"id": "", "text": "x"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id",
        ),
        (
            Method::POST,
            "/v1/comments",
            SCORER,
            Some(json!({"text": "x", "author": "a".repeat(201)})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::POST,
            "/v1/comments",
            SCORER,
            Some(json!({"text": "x", "article_id": " "})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::POST,
            "/v1/comments",
            SCORER,
            Some(json!({"text": ""})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_text",
        ),
        (
            Method::POST,
            "/v1/comments",
            SCORER,
            Some(json!({"text": "x", "score": 1})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
        ),
        (
            Method::POST,
            "/v1/comments",
            SCORER,
            Some(json!({"text": "x", "target": "foot"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_target",
        ),
        (
            Method::GET,
            "/v1/queue?limit=0",
            MODERATOR,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        ),
        (
            Method::GET,
            "/v1/queue?limit=abc",
            MODERATOR,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        ),
        (
            Method::GET,
            "/v1/queue?order=random",
            MODERATOR,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        ),
        (
            Method::GET,
            "/v1/queue?head=spam",
            MODERATOR,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        ),
        (
            Method::GET,
            "/v1/queue?min_score=2",
            MODERATOR,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        ),
        (
            Method::GET,
            "/v1/queue?status=deleted",
            MODERATOR,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        ),
        (
            Method::GET,
            "/v1/queue?stance=pro",
            MODERATOR,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        ),
        (
            Method::GET,
            "/v1/queue?cursor=garbage",
            MODERATOR,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        ),
        (
            Method::GET,
            "/v1/queue?colour=red",
            MODERATOR,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        ),
        (
            Method::POST,
            "/v1/queue/claim",
            MODERATOR,
            Some(json!({"lease_seconds": 1})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_lease",
        ),
        // One key cannot hold comments for an hour: leases are capped (600 s by default).
        (
            Method::POST,
            "/v1/queue/claim",
            MODERATOR,
            Some(json!({"lease_seconds": 601})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_lease",
        ),
        (
            Method::POST,
            "/v1/queue/claim",
            MODERATOR,
            Some(json!({"lease": 60})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            Method::GET,
            "/v1/comments/nope",
            MODERATOR,
            None,
            StatusCode::NOT_FOUND,
            "comment_not_found",
        ),
        (
            Method::POST,
            "/v1/comments/nope/decision",
            MODERATOR,
            Some(json!({"action": "approve", "version": 1})),
            StatusCode::NOT_FOUND,
            "comment_not_found",
        ),
        (
            Method::POST,
            "/v1/comments/x1/decision",
            MODERATOR,
            Some(json!({"action": "delete", "version": 1})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            Method::POST,
            "/v1/comments/x1/decision",
            MODERATOR,
            Some(json!({"action": "approve"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            Method::POST,
            "/v1/comments/x1/decision",
            MODERATOR,
            Some(json!({"action": "reject", "version": 1, "labels": {"spam": 1}})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_labels",
        ),
        (
            Method::POST,
            "/v1/comments/x1/decision",
            MODERATOR,
            Some(json!({"action": "reject", "version": 1, "labels": {"toxicity": 2}})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_labels",
        ),
        (
            Method::POST,
            "/v1/comments/x1/decision",
            MODERATOR,
            Some(json!({"action": "reject", "version": 1, "labels": {"stance": "pro"}})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_labels",
        ),
        (
            Method::POST,
            "/v1/comments/x1/decision",
            MODERATOR,
            Some(json!({"action": "reject", "version": 1, "reason": "r".repeat(2001)})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            Method::POST,
            "/v1/admin/keys",
            ADMIN,
            Some(json!({"name": "a b", "role": "admin"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_key_name",
        ),
        (
            Method::POST,
            "/v1/admin/keys",
            ADMIN,
            Some(json!({"name": "ok", "role": "root"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            Method::POST,
            "/v1/admin/keys",
            ADMIN,
            Some(json!({"name": "admin", "role": "admin"})),
            StatusCode::CONFLICT,
            "key_exists",
        ),
    ];
    for (method, uri, key, body, status, code) in cases {
        let (s, b) = api(&svc, method.clone(), uri, Some(key), body).await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (status, Some(code)),
            "{method} {uri}: {b}"
        );
        assert!(!b["error"]["message"].as_str().unwrap().is_empty());
    }
    // None of that changed the comment.
    let (_, h) = api(&svc, Method::GET, "/v1/comments/x1", Some(MODERATOR), None).await;
    assert_eq!(
        (
            h["comment"]["version"].as_i64(),
            h["history"].as_array().unwrap().len()
        ),
        (Some(1), 1)
    );
}

/// Submitters and moderators at once, over real HTTP: every 2xx comment is stored once, every
/// accepted decision is in the history once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_lose_nothing() {
    let (svc, _dir) = service("concurrent", HOLD_ALL, false).await;
    let base = svc.address.clone();
    let client = reqwest::Client::new();
    let texts = [
        "Bande de guignols incompétents",
        "Merci pour cet article",
        "Quel crétin ce ministre",
        "Dégagez tous, bande d'abrutis",
    ];

    let mut submitters = Vec::new();
    for w in 0..10 {
        let (client, base) = (client.clone(), base.clone());
        submitters.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..20 {
                let id = format!("w{w}-{i}");
                let body = json!({"id": id, "text": format!("{} ({id})", texts[i % texts.len()]), "author": format!("a{w}")});
                let r = client.post(format!("{base}/v1/comments")).bearer_auth(SCORER).json(&body).send().await.unwrap();
                if r.status().is_success() {
                    acked.push(id);
                }
            }
            acked
        }));
    }
    let mut moderators = Vec::new();
    for key in [MODERATOR, MODERATOR2] {
        let (client, base) = (client.clone(), base.clone());
        moderators.push(tokio::spawn(async move {
            let mut decided = Vec::new();
            for _ in 0..80 {
                let r = client
                    .post(format!("{base}/v1/queue/claim"))
                    .bearer_auth(key)
                    .send()
                    .await
                    .unwrap();
                if r.status() == 204 {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    continue;
                }
                let c: Value = r.json().await.unwrap();
                let id = c["id"].as_str().unwrap().to_owned();
                let d = json!({"action": "reject", "version": c["version"]});
                let r = client
                    .post(format!("{base}/v1/comments/{id}/decision"))
                    .bearer_auth(key)
                    .json(&d)
                    .send()
                    .await
                    .unwrap();
                if r.status() == 200 {
                    decided.push(id);
                }
            }
            decided
        }));
    }
    let mut acked = Vec::new();
    for s in submitters {
        acked.extend(s.await.unwrap());
    }
    let mut decided = Vec::new();
    for m in moderators {
        decided.extend(m.await.unwrap());
    }
    assert_eq!(acked.len(), 200);
    let unique: std::collections::HashSet<&String> = decided.iter().collect();
    assert_eq!(unique.len(), decided.len(), "a comment was decided twice");
    let store = svc.store();
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.values().sum::<i64>(), 200, "{counts:?}");
    for id in &acked {
        let (c, events) = store
            .get(id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{id} acknowledged but missing"));
        assert_eq!(events.iter().filter(|e| e.action == "submitted").count(), 1);
        let n = events.iter().filter(|e| e.action == "reject").count();
        assert_eq!(n, usize::from(decided.contains(id)), "{id}");
        if decided.contains(id) {
            assert_eq!(c.status, vigie::domain::CommentStatus::Rejected);
        }
    }
}
