//! Arbitrary bytes as the JSON body of the scoring routes, sent through the real router
//! (`vigie::http::app`) with an in-memory SQLite store: `POST /v1/score`,
//! `/v1/score/batch`, `/v1alpha1/comments:analyze` (Perspective), `/v1/comments` (with a
//! scorer key) and `/v1/integrations/coral` (signed as Coral signs, so the body is parsed).
//! Every input goes to every route (or to those named in `$VIGIE_FUZZ_ROUTES`, e.g.
//! `score,batch,perspective,comments,coral`).
//!
//! Invariants:
//! - nothing panics, and no answer is a 5xx;
//! - every answer is `application/json`;
//! - every 4xx is `{"error": {"code", "message"}}` with non-empty strings (the Perspective
//!   route: `{"error": {"code": <the status>, "message", "status", "details": [...]}}`);
//! - a 200 from `/v1/score` or `/v1/score/batch` has probabilities in [0, 1] and
//!   explanation spans that are character ranges of the submitted text, on char boundaries,
//!   whose `text` is that slice; Perspective's span scores are UTF-16 ranges of the text.

#![no_main]

mod common;

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use common::{model, repo_path};
use vigie::fuzzing::char_span;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tokio::runtime::Runtime;
use tower::ServiceExt;
use vigie::domain::Role;
use vigie::http::{app, App, AppConfig};
use vigie::policy::Policy;
use vigie::store::{hash_key, SqliteStore, Store};

const SCORER_KEY: &str = "vg_fuzz_scorer";
const CORAL_SECRET: &str = "coral_fuzz_secret";
/// Stored comments pile up in the in-memory database: start a fresh one this often.
const FRESH_STORE_EVERY: u32 = 5_000;

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

async fn fresh_router() -> Router {
    let store = SqliteStore::in_memory().await.expect("in-memory SQLite");
    store
        .create_key("fuzz", &hash_key(SCORER_KEY), Role::Scorer, 0)
        .await
        .expect("scorer key");
    let policy = Policy::load(&repo_path("models/thresholds.toml")).expect("thresholds");
    let config = AppConfig {
        coral_secrets: vec![CORAL_SECRET.to_owned()],
        ..AppConfig::default()
    };
    app(Arc::new(App::new(model().clone(), policy, Arc::new(store), config)))
}

struct Harness {
    router: Router,
    uses: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Route {
    Score,
    Batch,
    Perspective,
    Comments,
    Coral,
}

const ROUTES: [(Route, &str, &str); 5] = [
    (Route::Score, "score", "/v1/score"),
    (Route::Batch, "batch", "/v1/score/batch"),
    (
        Route::Perspective,
        "perspective",
        "/v1alpha1/comments:analyze",
    ),
    (Route::Comments, "comments", "/v1/comments"),
    (Route::Coral, "coral", "/v1/integrations/coral"),
];

/// The routes this run sends to: all, or those named in `$VIGIE_FUZZ_ROUTES`.
fn routes() -> &'static [(Route, &'static str)] {
    static R: OnceLock<Vec<(Route, &'static str)>> = OnceLock::new();
    R.get_or_init(|| {
        let only = std::env::var("VIGIE_FUZZ_ROUTES").ok();
        let chosen: Vec<_> = ROUTES
            .iter()
            .filter(|(_, name, _)| {
                only.as_deref()
                    .is_none_or(|o| o.split(',').any(|x| x.trim() == *name))
            })
            .map(|&(r, _, uri)| (r, uri))
            .collect();
        assert!(
            !chosen.is_empty(),
            "VIGIE_FUZZ_ROUTES names no route of {ROUTES:?}"
        );
        chosen
    })
}

fuzz_target!(|data: &[u8]| {
    static H: std::sync::Mutex<Option<Harness>> = std::sync::Mutex::new(None);
    let mut guard = H.lock().unwrap_or_else(|e| e.into_inner());
    let rt = runtime();
    if guard.as_ref().is_none_or(|h| h.uses >= FRESH_STORE_EVERY) {
        *guard = None; // drop the old store before building the next one
        *guard = Some(Harness {
            router: rt.block_on(fresh_router()),
            uses: 0,
        });
    }
    let h = guard.as_mut().expect("harness");
    h.uses += 1;
    let request: Option<Value> = serde_json::from_slice(data).ok();
    for &(route, uri) in routes() {
        let mut req = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {SCORER_KEY}"));
        if route == Route::Coral {
            req = req.header(
                "x-coral-signature",
                vigie::http::coral::sign(CORAL_SECRET, data),
            );
        }
        let req = req.body(Body::from(data.to_vec())).expect("request");
        let (status, body) = rt.block_on(async {
            let resp = h.router.clone().oneshot(req).await.expect("infallible");
            let status = resp.status();
            let ct = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = resp.into_body().collect().await.expect("body").to_bytes();
            if route == Route::Coral && status == StatusCode::NO_CONTENT {
                // Coral's "nothing to say": no body, so Coral's other phases run.
                assert!(bytes.is_empty(), "{uri}: 204 with a body");
                return (status, bytes);
            }
            assert_eq!(
                ct.as_deref(),
                Some("application/json"),
                "{uri}: {status} {}",
                String::from_utf8_lossy(&bytes)
            );
            (status, bytes)
        });
        if status == StatusCode::NO_CONTENT {
            continue;
        }
        let body: Value = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{uri}: {status}: body is not JSON ({e})"));
        assert!(
            !status.is_server_error(),
            "{uri}: {status} {body} for {:?}",
            String::from_utf8_lossy(data)
        );
        if status.is_client_error() {
            check_error(route, status, &body);
        } else {
            assert!(status.is_success(), "{uri}: {status} {body}");
            check_ok(route, request.as_ref(), &body);
        }
    }
});

fn non_empty_str(v: &Value) -> bool {
    v.as_str().is_some_and(|s| !s.is_empty())
}

fn check_error(route: Route, status: StatusCode, body: &Value) {
    let e = &body["error"];
    assert!(e.is_object(), "{status}: {body}");
    assert!(non_empty_str(&e["message"]), "{status}: {body}");
    if route == Route::Perspective {
        assert_eq!(e["code"].as_u64(), Some(status.as_u16() as u64), "{body}");
        assert!(non_empty_str(&e["status"]), "{body}");
        assert!(e["details"].is_array(), "{body}");
    } else {
        assert!(non_empty_str(&e["code"]), "{status}: {body}");
        assert_eq!(e.as_object().map(|o| o.len()), Some(2), "{body}");
    }
}

fn prob(v: &Value) {
    let p = v.as_f64().unwrap_or_else(|| panic!("probability {v}"));
    assert!((0.0..=1.0).contains(&p), "probability {p}");
}

/// A `ScoreResponse` for the comment `text`.
fn check_score(text: &str, r: &Value) {
    let scores = r["scores"].as_object().expect("scores");
    scores.values().for_each(prob);
    if let Some(p) = r["stance"]["probabilities"].as_object() {
        p.values().for_each(prob);
    }
    for items in r["explanation"].as_object().expect("explanation").values() {
        for it in items.as_array().expect("explanation items") {
            let (s, e) = (it["start"].as_u64().unwrap(), it["end"].as_u64().unwrap());
            assert_eq!(Some(char_span(text, s, e)), it["text"].as_str(), "{it}");
        }
    }
}

fn check_ok(route: Route, request: Option<&Value>, body: &Value) {
    let request = || request.expect("a 2xx answers a JSON request");
    match route {
        Route::Score => check_score(request()["text"].as_str().expect("text"), body),
        Route::Batch => {
            let comments = request()["comments"].as_array().expect("comments");
            let results = body["results"].as_array().expect("results");
            assert_eq!(comments.len(), results.len());
            for (c, r) in comments.iter().zip(results) {
                assert_eq!(c.get("id").unwrap_or(&Value::Null), &r["id"]);
                check_score(c["text"].as_str().expect("text"), r);
            }
        }
        Route::Perspective => {
            let text = request()["comment"]["text"].as_str().expect("comment.text");
            let units = text.encode_utf16().count() as u64;
            for a in body["attributeScores"]
                .as_object()
                .expect("scores")
                .values()
            {
                prob(&a["summaryScore"]["value"]);
                for s in a["spanScores"].as_array().into_iter().flatten() {
                    let (b, e) = (s["begin"].as_u64().unwrap(), s["end"].as_u64().unwrap());
                    assert!(b < e && e <= units, "span {b}..{e} of {units} units");
                    prob(&s["score"]["value"]);
                }
            }
        }
        // 201 stored, or 200 for a retry of a stored id: the stored comment either way.
        Route::Comments => assert!(body["id"].is_string() && body["status"].is_string()),
        Route::Coral => {
            assert!(body["status"].is_string(), "{body}");
            if body["status"] == "REJECTED" {
                let reason = &body["moderationAction"]["rejectionReason"];
                assert!(non_empty_str(&reason["code"]), "{body}");
            }
        }
    }
}
