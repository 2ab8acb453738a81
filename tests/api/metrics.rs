//! `GET /metrics`: the counters move by what was done (requests per route template and
//! status, latency, decisions per decision and per head, comments per status, database
//! failures), the text is Prometheus' exposition format (read by `common::prom`), the route
//! needs an admin key on the service's address and none on `--metrics-addr`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use vigie::domain::Role;
use vigie::store::SqliteStore;

use crate::common::{
    self,
    prom::{self, Exposition},
    tempdir::TempDir,
};
use crate::helpers::{Setup, TestApp};

const SCORER: &str = "vg_metrics_scorer";
const ADMIN: &str = "vg_metrics_admin";

/// The service on a SQLite file in `dir`, with a scorer and an admin key.
async fn service(dir: &TempDir) -> TestApp {
    let store = SqliteStore::open(&dir.path().join("vigie.db"))
        .await
        .unwrap();
    Setup {
        keys: vec![
            ("scorer", SCORER, Role::Scorer),
            ("admin", ADMIN, Role::Admin),
        ],
        store: Some(Arc::new(store)),
        ..Setup::default()
    }
    .spawn()
    .await
}

async fn call(
    state: &TestApp,
    method: Method,
    uri: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, String) {
    let mut call = state.call(method, uri);
    if let Some(k) = key {
        call = call.key(k);
    }
    if let Some(b) = body {
        call = call.json(&b);
    }
    let r = call.send().await;
    (r.status, r.text())
}

async fn scrape(state: &TestApp) -> Exposition {
    let (s, text) = call(state, Method::GET, "/metrics", Some(ADMIN), None).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    prom::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// What the answers said: decisions, and heads that fired per decision.
#[derive(Default)]
struct Tally {
    decisions: BTreeMap<String, f64>,
    heads: BTreeMap<(String, String), f64>,
}

impl Tally {
    fn add(&mut self, answer: &Value) {
        let decision = answer["decision"].as_str().unwrap().to_owned();
        *self.decisions.entry(decision.clone()).or_default() += 1.0;
        for head in answer["flagged"].as_array().unwrap() {
            let head = head.as_str().unwrap().to_owned();
            *self.heads.entry((head, decision.clone())).or_default() += 1.0;
        }
    }
}

fn delta(before: &Exposition, after: &Exposition, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.count(name, labels) - before.count(name, labels)
}

/// Scores, a batch and submissions through the API; then the counters moved by exactly
/// what the answers said.
async fn score_batch_and_submit(state: &TestApp) -> (Tally, BTreeMap<String, f64>) {
    let mut tally = Tally::default();
    for text in common::texts::TEXTS {
        let (s, b) = call(
            state,
            Method::POST,
            "/v1/score",
            None,
            Some(json!({"text": text})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        tally.add(&serde_json::from_str(&b).unwrap());
    }
    let batch = json!({"comments": common::texts::TEXTS[..3].iter().map(|t| json!({"text": t})).collect::<Vec<_>>()});
    let (s, b) = call(state, Method::POST, "/v1/score/batch", None, Some(batch)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let b: Value = serde_json::from_str(&b).unwrap();
    b["results"]
        .as_array()
        .unwrap()
        .iter()
        .for_each(|r| tally.add(r));
    let mut statuses = BTreeMap::new();
    for (i, text) in common::texts::TEXTS.iter().enumerate() {
        let body = json!({"id": format!("c{i}"), "text": text});
        let (s, b) = call(
            state,
            Method::POST,
            "/v1/comments",
            Some(SCORER),
            Some(body),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let b: Value = serde_json::from_str(&b).unwrap();
        tally.add(&b);
        *statuses
            .entry(b["status"].as_str().unwrap().to_owned())
            .or_default() += 1.0;
    }
    (tally, statuses)
}

#[tokio::test]
async fn scoring_and_submitting_move_the_counters_by_what_was_done() {
    let dir = TempDir::new("metrics-counters");
    let state = service(&dir).await;
    let before = scrape(&state).await;
    let (tally, statuses) = score_batch_and_submit(&state).await;
    assert!(
        tally.decisions.len() >= 2,
        "the texts should not all get one decision"
    );
    assert!(!tally.heads.is_empty(), "some head should fire");
    // An error, a path with an id, a path no route has.
    let (s, _) = call(
        &state,
        Method::POST,
        "/v1/score",
        None,
        Some(json!({"text": ""})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = call(&state, Method::GET, "/v1/comments/c0", Some(ADMIN), None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(&state, Method::GET, "/no/such/path", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let after = scrape(&state).await;

    let requests = |route, status| {
        let method = if route == "/metrics" || route == "/v1/comments/{id}" || route == "unmatched"
        {
            "GET"
        } else {
            "POST"
        };
        delta(
            &before,
            &after,
            "vigie_http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    let n = common::texts::TEXTS.len() as f64;
    assert_eq!(requests("/v1/score", "200"), n);
    assert_eq!(requests("/v1/score", "422"), 1.0);
    assert_eq!(requests("/v1/score/batch", "200"), 1.0);
    assert_eq!(requests("/v1/comments", "201"), n);
    assert_eq!(requests("/v1/comments/{id}", "200"), 1.0);
    assert_eq!(requests("unmatched", "404"), 1.0);
    // The first scrape is counted once it has answered.
    assert_eq!(requests("/metrics", "200"), 1.0);
    assert!(
        after
            .samples
            .iter()
            .all(|s| s.labels.values().all(|v| !v.contains("c0"))),
        "a raw path leaked into a label"
    );
    let latency = |route: &str| {
        delta(
            &before,
            &after,
            "vigie_http_request_duration_seconds_count",
            &[("method", "POST"), ("route", route)],
        )
    };
    assert_eq!(latency("/v1/score"), n + 1.0);
    assert_eq!(latency("/v1/comments"), n);
    let sum = after.count(
        "vigie_http_request_duration_seconds_sum",
        &[("method", "POST"), ("route", "/v1/score")],
    );
    assert!(sum > 0.0, "scoring took no time at all: {sum}");

    for decision in ["allow", "flag", "reject"] {
        let expected = tally.decisions.get(decision).copied().unwrap_or(0.0);
        let got = delta(
            &before,
            &after,
            "vigie_decisions_total",
            &[("decision", decision)],
        );
        assert_eq!(got, expected, "{decision}");
    }
    let fired: f64 = after
        .named("vigie_decision_heads_total")
        .map(|s| s.value)
        .sum();
    assert_eq!(fired, tally.heads.values().sum::<f64>());
    for ((head, decision), expected) in &tally.heads {
        let got = after.count(
            "vigie_decision_heads_total",
            &[("head", head), ("decision", decision)],
        );
        assert_eq!(got, *expected, "{head} {decision}");
    }
    for status in ["published", "pending", "approved", "rejected"] {
        let expected = statuses.get(status).copied().unwrap_or(0.0);
        assert_eq!(
            after.get("vigie_comments", &[("status", status)]),
            Some(expected),
            "{status}"
        );
    }
    let model_id = common::model::default_model().card.model_id.as_str();
    assert_eq!(
        after.get("vigie_model_info", &[("model_id", model_id)]),
        Some(1.0)
    );
    for kind in ["unavailable", "error"] {
        assert_eq!(
            after.get("vigie_database_failures_total", &[("kind", kind)]),
            Some(0.0)
        );
    }
}

/// The database fails under the service (its table renamed away): the failures are counted
/// whichever call met them, and the comment counts are left out rather than made up.
#[tokio::test]
async fn database_failures_are_counted() {
    let dir = TempDir::new("metrics-db");
    let state = service(&dir).await;
    let before = scrape(&state).await;
    assert!(before
        .get("vigie_comments", &[("status", "pending")])
        .is_some());

    let url = format!("sqlite://{}", dir.path().join("vigie.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("ALTER TABLE comments RENAME TO comments_gone")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let body = json!({"text": common::texts::TEXTS[0]});
    let (s, b) = call(
        &state,
        Method::POST,
        "/v1/comments",
        Some(SCORER),
        Some(body),
    )
    .await;
    assert!(s.is_server_error(), "{s} {b}");
    let after = scrape(&state).await;
    // One failure for the submission, one for this scrape's own comment counts.
    assert_eq!(
        delta(
            &before,
            &after,
            "vigie_database_failures_total",
            &[("kind", "error")]
        ),
        2.0
    );
    assert_eq!(
        delta(
            &before,
            &after,
            "vigie_database_failures_total",
            &[("kind", "unavailable")]
        ),
        0.0
    );
    assert_eq!(after.named("vigie_comments").count(), 0);
    // The route still answers, with what it knows.
    assert!(after
        .get("vigie_decisions_total", &[("decision", "allow")])
        .is_some());
}

#[test]
fn the_reader_refuses_what_a_scraper_would() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"\\n\"} 3\n\
                # TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 4.5\nh_count 2\n";
    let e = prom::parse(good).unwrap();
    assert_eq!(e.get("a_total", &[("x", "q\"\n")]), Some(3.0));
    assert_eq!(e.get("h_sum", &[]), Some(4.5));
    for bad in [
        "a 1\n",                                                    // no TYPE
        "# TYPE a gauge\na{x=\"1} 1\n",                             // unterminated value
        "# TYPE a gauge\na{x=\"\\t\"} 1\n",                         // bad escape
        "# TYPE a gauge\na one\n",                                  // bad value
        "# TYPE a gauge\na 1\na 2\n",                               // repeated
        "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"y\"} 1\n", // not together
        "# TYPE a counter\na -1\n",                                 // negative counter
        "# TYPE a gauge\n# TYPE a gauge\n",                         // TYPE twice
        "# TYPE a gauge\n1a 1\n",                                   // bad name
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n", // no +Inf
        "# TYPE a gauge\na 1",                                   // no final newline
    ] {
        assert!(prom::parse(bad).is_err(), "accepted {bad:?}");
    }
}
