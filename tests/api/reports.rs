//! Reader reports (DSA Art. 16) on both backends: a reader reports a published comment with
//! a reason of the site's grounds; it enters the queue's `reported` filter and the page's
//! Reported tab with its report on the card; the reporter reads the outcome with the
//! report's token (open, then removed or no action) and nothing else; refusals; and the
//! per-address rate limit.

use axum::http::StatusCode;
use serde_json::{json, Value};
use vigie::domain::Role;
use vigie::service::ratelimit::RateLimit;
use vigie::service::AppConfig;

use crate::helpers::{on_both_backends, Reply, Setup, TestApp};

const SCORER: &str = "vg_report_scorer";
const MODERATOR: &str = "vg_report_moderator";
const MODERATOR_NAME: &str = "mia-moderatrice";
const CIVIL: &str = "Merci pour cet article très clair sur le budget.";
const OTHER: &str = "Je ne suis pas d'accord avec la conclusion de l'auteur.";

fn setup() -> Setup {
    Setup {
        keys: vec![
            ("site", SCORER, Role::Scorer),
            (MODERATOR_NAME, MODERATOR, Role::Moderator),
        ],
        ..Setup::default()
    }
}

async fn publish(s: &TestApp, id: &str, text: &str) -> i64 {
    let body = json!({"id": id, "text": text, "lang": "fr"});
    let r = s.submit(SCORER, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["status"], "published", "{}", r.text());
    r.json()["version"].as_i64().unwrap()
}

fn error(r: &Reply) -> (StatusCode, String) {
    (
        r.status,
        r.json()["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

fn ids(r: &Reply) -> Vec<String> {
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_reported_comment_is_reviewed_and_its_reporter_told_on_both_backends() {
    for (backend, s, schema) in on_both_backends(setup, "reports").await {
        reported_then_removed(backend, &s).await;
        reported_then_kept(backend, &s).await;
        drop(s);
        if let Some(schema) = schema {
            schema.drop().await;
        }
    }
}

async fn reported_then_removed(backend: &str, s: &TestApp) {
    let version = publish(s, "rp-one", CIVIL).await;
    let body =
        json!({"reason": "insult", "text": "Insulte déguisée.", "contact": "lecteur@example.org"});

    // Refusals.
    let r = s.report("rp-nothing", &body).await;
    assert_eq!(
        error(&r),
        (StatusCode::NOT_FOUND, "comment_not_found".into())
    );
    let r = s.report("rp-one", &json!({"reason": "rudeness"})).await;
    assert_eq!(
        error(&r),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_ground".into())
    );
    let long = json!({"reason": "insult", "text": "a".repeat(2001)});
    let r = s.report("rp-one", &long).await;
    assert_eq!(
        error(&r),
        (StatusCode::UNPROCESSABLE_ENTITY, "text_too_long".into())
    );

    let r = s.report("rp-one", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{backend} {}", r.text());
    let receipt = r.json();
    assert_eq!(receipt["report"]["status"], "open");
    let url = receipt["status_url"].as_str().unwrap().to_owned();
    let token = receipt["token"].as_str().unwrap().to_owned();
    assert!(url.contains(&token), "{url}");

    // In the reported filter, whatever its status; not in the pending queue.
    let q = s.queue(MODERATOR, "reported=true").await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text());
    assert_eq!(ids(&q), ["rp-one"], "{backend}");
    assert!(!ids(&s.queue(MODERATOR, "").await).contains(&"rp-one".to_owned()));
    let detail = s.comment(MODERATOR, "rp-one").await.json();
    let rep = &detail["reports"][0];
    assert_eq!(
        (&rep["reason"], &rep["text"], &rep["contact"], &rep["open"]),
        (
            &json!("insult"),
            &json!("Insulte déguisée."),
            &json!("lecteur@example.org"),
            &json!(true)
        ),
        "{detail}"
    );

    // The Reported tab shows it, its report on the card.
    let cookie = s.sign_in(MODERATOR).await;
    let page = s
        .get("/moderation/queue?reported=1")
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("reported: insult"), "{html}");
    assert!(html.contains("Insulte déguisée."), "{html}");

    // The reporter: open; a wrong or missing token gets nothing.
    let mine = s.get(&url).send().await;
    assert_eq!(mine.json()["status"], "open", "{}", mine.text());
    let id = receipt["id"].as_i64().unwrap();
    let r = s
        .get(&format!("/v1/reports/{id}?token=rp_nope"))
        .send()
        .await;
    assert_eq!(
        error(&r),
        (StatusCode::NOT_FOUND, "report_not_found".into())
    );
    let r = s.get(&format!("/v1/reports/{id}")).send().await;
    assert_eq!(error(&r), (StatusCode::FORBIDDEN, "missing_token".into()));

    // A moderator removes it: the report is closed and its reporter told.
    let d = s
        .decide(
            MODERATOR,
            "rp-one",
            &json!({"action": "reject", "version": version, "ground": "insult"}),
        )
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    let after = s.get(&url).send().await;
    let v: Value = after.json();
    assert_eq!(v["status"], "removed", "{v}");
    assert!(v["decided_at"].is_string(), "{v}");
    assert!(!after.text().contains(MODERATOR_NAME));
    assert!(ids(&s.queue(MODERATOR, "reported=true").await).is_empty());
}

async fn reported_then_kept(backend: &str, s: &TestApp) {
    let version = publish(s, "rp-two", OTHER).await;
    let r = s.report("rp-two", &json!({"reason": "hate"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{backend} {}", r.text());
    let url = r.json()["status_url"].as_str().unwrap().to_owned();
    let d = s
        .decide(
            MODERATOR,
            "rp-two",
            &json!({"action": "approve", "version": version}),
        )
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    assert_eq!(s.get(&url).send().await.json()["status"], "no_action");
}

#[tokio::test]
async fn reports_are_rate_limited_per_address() {
    let s = Setup {
        config: AppConfig {
            report_limit: RateLimit {
                per_second: 0.001,
                burst: 2.0,
            },
            ..AppConfig::default()
        },
        ..setup()
    }
    .spawn()
    .await;
    publish(&s, "rp-limit", CIVIL).await;
    let body = json!({"reason": "incivility"});
    for _ in 0..2 {
        assert_eq!(
            s.report("rp-limit", &body).await.status,
            StatusCode::CREATED
        );
    }
    let r = s.report("rp-limit", &body).await;
    assert_eq!(
        error(&r),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited".into())
    );
    let stored = s
        .store()
        .reports_of(&["rp-limit".to_owned()])
        .await
        .unwrap();
    assert_eq!(stored.len(), 2, "the refused report is not stored");
}
