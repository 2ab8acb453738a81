//! Limits that protect the service: per-key rate limiting (429 with `Retry-After`), the
//! request deadline (408 for a stalled upload), and logs that keep keys out always and
//! comment text out with `--redact-logs`.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use serde_json::{json, Value};
use vigie::domain::Role;
use vigie::http::limits::RateLimit;
use vigie::http::{AppConfig, Limits};
use vigie::policy::Policy;
use vigie::store::hash_key;

use crate::helpers::{Reply, Setup, TestApp};

const KEY_A: &str = "vg_limits_key_a";
const KEY_B: &str = "vg_limits_key_b";

async fn state(config: AppConfig) -> TestApp {
    Setup {
        policy: Policy::default(),
        config,
        keys: vec![("a", KEY_A, Role::Scorer), ("b", KEY_B, Role::Scorer)],
        ..Setup::default()
    }
    .spawn()
    .await
}

fn parts(r: Reply) -> (StatusCode, HeaderMap, Value) {
    let body = r.json();
    (r.status, r.headers, body)
}

/// `POST uri` with a JSON body, and `key` as a bearer token when given.
async fn post(
    s: &TestApp,
    uri: &str,
    key: Option<&str>,
    body: Value,
) -> (StatusCode, HeaderMap, Value) {
    let call = s.post(uri).json(&body);
    let call = match key {
        Some(k) => call.key(k),
        None => call,
    };
    parts(call.send().await)
}

/// A JSON request for [`TestApp::oneshot`].
fn request(uri: &str, key: Option<&str>, body: Value) -> Request<Body> {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(k) = key {
        b = b.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    b.body(Body::from(body.to_string())).unwrap()
}

fn rate(per_second: f64, burst: f64) -> RateLimit {
    RateLimit { per_second, burst }
}

#[tokio::test]
async fn each_key_gets_its_own_budget_then_429_with_retry_after() {
    let s = state(AppConfig {
        rate_limit: rate(0.5, 3.0),
        ..AppConfig::default()
    })
    .await;
    let submit = |key: &'static str, i: usize| {
        let body =
            json!({"id": format!("c-{key}-{i}"), "text": "Un commentaire tout à fait correct."});
        let s = &s;
        async move { parts(s.submit(key, &body).await) }
    };
    for i in 0..3 {
        let (st, _, body) = submit(KEY_A, i).await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
    }
    let (st, headers, body) = submit(KEY_A, 3).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    let retry: u64 = headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // One token comes back every 2 s.
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    // The refused submission stored nothing.
    assert!(s
        .store()
        .get("c-vg_limits_key_a-3")
        .await
        .unwrap()
        .is_none());

    // Another key has its own budget; requests without a key are not limited here.
    let (st, _, _) = submit(KEY_B, 0).await;
    assert_eq!(st, StatusCode::CREATED);
    for _ in 0..5 {
        let (st, _, _) = post(&s, "/v1/score", None, json!({"text": "Bonjour"})).await;
        assert_eq!(st, StatusCode::OK);
    }
    // Perspective clients send the key as ?key=: the same bucket.
    let (st, _, _) = post(
        &s,
        &format!("/v1alpha1/comments:analyze?key={KEY_A}"),
        None,
        json!({"comment": {"text": "Bonjour"}, "requestedAttributes": {"TOXICITY": {}}}),
    )
    .await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    // An unknown key is throttled too (guessing keys costs budget), before the lookup.
    for _ in 0..3 {
        let (st, _, _) = submit("vg_guess", 0).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    let (st, _, _) = submit("vg_guess", 0).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_stalled_upload_gets_408_and_a_prompt_one_passes() {
    let s = state(AppConfig {
        limits: Limits {
            request_timeout: Duration::from_millis(300),
            ..Limits::default()
        },
        ..AppConfig::default()
    })
    .await;
    // Sends half a body, then nothing for far longer than the deadline.
    let stream = async_stream_body(
        b"{\"text\": \"Un commentaire qui n'arrive ".to_vec(),
        Duration::from_secs(30),
    );
    let req = Request::builder()
        .method(Method::POST)
        .uri("/v1/score")
        .header(header::CONTENT_TYPE, "application/json")
        .body(stream)
        .unwrap();
    let started = std::time::Instant::now();
    let (st, _, body) = parts(s.oneshot(req).await);
    assert_eq!(st, StatusCode::REQUEST_TIMEOUT, "{body}");
    assert_eq!(body["error"]["code"], "request_timeout");
    assert!(started.elapsed() < Duration::from_secs(10));
    let (st, _, _) = post(&s, "/v1/score", None, json!({"text": "Bonjour"})).await;
    assert_eq!(st, StatusCode::OK);
}

/// A body that yields `first` and then stalls for `stall`.
fn async_stream_body(first: Vec<u8>, stall: Duration) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    tokio::spawn(async move {
        let _ = tx.send(Ok(bytes::Bytes::from(first))).await;
        tokio::time::sleep(stall).await;
        drop(tx);
    });
    let mut rx = rx;
    Body::from_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
}

/// Everything logged while a test runs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Submits a comment, a Perspective call with `?key=` and a bad request, with every log
/// line down to debug captured.
async fn logged_session(redact: bool) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let s = state(AppConfig {
        redact_logs: redact,
        ..AppConfig::default()
    })
    .await;
    let secret_text = "Zorglub habite rue des Lilas et vous êtes tous des nuls";
    let (st, _, _) = post(
        &s,
        "/v1/comments",
        Some(KEY_A),
        json!({"id": "log-1", "text": secret_text, "author": "zorglub"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _, _) = post(
        &s,
        &format!("/v1alpha1/comments:analyze?key={KEY_B}"),
        None,
        json!({"comment": {"text": secret_text}, "requestedAttributes": {"TOXICITY": {}}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _, _) = post(
        &s,
        "/v1/comments",
        Some(KEY_A),
        json!({"text": secret_text, "oops": 1}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    captured.text()
}

#[tokio::test(flavor = "current_thread")]
async fn keys_never_reach_the_logs_and_redact_logs_keeps_text_out() {
    // A session first, its lines thrown away. Tracing registers a log line's callsite the
    // first time any thread reaches it, and while the subscriber of this test is the only
    // one, a test on another thread (which has none) registers it as wanted by nobody; each
    // new subscriber recomputes the callsites registered so far, so the sessions below see
    // every line.
    logged_session(false).await;
    let plain = logged_session(false).await;
    // The logs are not empty: requests and stored comments are logged …
    assert!(plain.contains("comment stored"), "{plain}");
    assert!(plain.contains("/v1alpha1/comments:analyze"), "{plain}");
    // … with the text when not redacted (so the redacted run below proves something).
    assert!(plain.contains("Zorglub habite"), "{plain}");
    for logs in [&plain, &logged_session(true).await] {
        assert!(!logs.contains(KEY_A) && !logs.contains(KEY_B), "{logs}");
        assert!(!logs.contains(&hash_key(KEY_A)), "{logs}");
    }
    let redacted = logged_session(true).await;
    assert!(redacted.contains("comment stored"), "{redacted}");
    assert!(redacted.contains("log-1"), "{redacted}");
    assert!(
        !redacted.contains("Zorglub") && !redacted.contains("nuls"),
        "{redacted}"
    );
}

/// Each guess presents a new key, so per-key buckets never stop a key guesser: refused keys
/// are counted per client address. Past its budget an address gets 429 for any key (its
/// guesses included) until the budget refills; other addresses are not affected.
#[tokio::test]
async fn failed_key_guesses_are_throttled_per_client_address() {
    let s = state(AppConfig {
        key_failures: rate(0.001, 3.0),
        ..AppConfig::default()
    })
    .await;
    let from = |addr: &str, key: &str| {
        let mut req = request(
            "/v1/comments",
            Some(key),
            json!({"text": "Un commentaire tout à fait correct."}),
        );
        let peer: std::net::SocketAddr = addr.parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        req
    };
    for i in 0..3 {
        let (st, _, b) = parts(
            s.oneshot(from("203.0.113.7:4000", &format!("vg_guess_{i}")))
                .await,
        );
        assert_eq!(
            (st, b["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_key"))
        );
    }
    // The budget is spent: the next guess, and even a right key, from that address wait.
    for key in ["vg_guess_3", KEY_A] {
        let (st, headers, b) = parts(s.oneshot(from("203.0.113.7:4001", key)).await);
        assert_eq!(
            (st, b["error"]["code"].as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")),
            "{key}"
        );
        assert!(headers.contains_key(header::RETRY_AFTER));
    }
    // Another address is not affected, and a valid key spends nothing.
    let (st, _, _) = parts(s.oneshot(from("198.51.100.2:5000", KEY_A)).await);
    assert_eq!(st, StatusCode::CREATED);
    // Perspective's wrong-key answer counts too.
    let perspective = |key: &str| {
        let mut req = request(
            &format!("/v1alpha1/comments:analyze?key={key}"),
            None,
            json!({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}}),
        );
        let peer: std::net::SocketAddr = "192.0.2.9:6000".parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        req
    };
    let s2 = state(AppConfig {
        score_requires_key: true,
        key_failures: rate(0.001, 2.0),
        ..AppConfig::default()
    })
    .await;
    for _ in 0..2 {
        let (st, _, _) = parts(s2.oneshot(perspective("wrong")).await);
        assert_eq!(st, StatusCode::BAD_REQUEST);
    }
    let (st, _, _) = parts(s2.oneshot(perspective(KEY_A)).await);
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
}

/// A key sent in `X-Goog-Api-Key` (as Google's clients may) counts against its budget like
/// any other way of sending it.
#[tokio::test]
async fn keys_in_the_google_header_have_a_budget_too() {
    let s = state(AppConfig {
        rate_limit: rate(0.001, 2.0),
        ..AppConfig::default()
    })
    .await;
    let analyze = || {
        s.post("/v1alpha1/comments:analyze")
            .header("x-goog-api-key", KEY_A)
            .json(&json!({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}}))
            .send()
    };
    for _ in 0..2 {
        assert_eq!(analyze().await.status, StatusCode::OK);
    }
    assert_eq!(analyze().await.status, StatusCode::TOO_MANY_REQUESTS);
}
