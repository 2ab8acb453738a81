//! The client side of the harness: [`TestApp::spawn`] (the default `Setup`), one method per
//! endpoint the tests call and [`TestApp::call`] for any other request, each returning the
//! [`Reply`] read to the end; [`Setup::with_postgres`] puts the service on PostgreSQL and
//! [`on_both_backends`] starts it on each backend.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use vigie::http::app;
use vigie::store::Store;

pub use crate::common::app::{Setup, TestApp};
use crate::common::pg_schema::{self, Schema};

impl Setup {
    /// On PostgreSQL, in a schema of its own (drop it once the service is gone); `None`
    /// when PostgreSQL is skipped (the rule of `common::postgres`).
    pub async fn with_postgres(self, name: &str) -> Option<(TestApp, Schema)> {
        let (store, schema) = pg_schema::store(name).await?;
        let app = Setup {
            store: Some(Arc::new(store)),
            ..self
        };
        Some((app.spawn().await, schema))
    }
}

/// The same service on each backend: in-memory SQLite, then PostgreSQL in a schema of its
/// own named after `name` (absent when PostgreSQL is skipped). `setup` makes each one's
/// setup; drop a service before its schema.
pub async fn on_both_backends(
    setup: impl Fn() -> Setup,
    name: &str,
) -> Vec<(&'static str, TestApp, Option<Schema>)> {
    let mut all = vec![("sqlite", setup().spawn().await, None)];
    if let Some((app, schema)) = setup().with_postgres(name).await {
        all.push(("postgres", app, Some(schema)));
    }
    all
}

impl TestApp {
    /// The default service: the committed model and thresholds, no keys, in-memory SQLite.
    pub async fn spawn() -> TestApp {
        Setup::default().spawn().await
    }

    /// The store the service uses (its failures counted in the metrics).
    pub fn store(&self) -> &Arc<dyn Store> {
        self.state.store()
    }

    /// Any request to `path` (with its query).
    pub fn call(&self, method: Method, path: &str) -> Call {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Call(client.request(method, format!("{}{path}", self.address)))
    }

    pub fn get(&self, path: &str) -> Call {
        self.call(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call {
        self.call(Method::POST, path)
    }

    /// `POST /v1/score`
    pub async fn score(&self, body: &Value) -> Reply {
        self.post("/v1/score").json(body).send().await
    }

    /// `POST /v1/comments` with `key`.
    pub async fn submit(&self, key: &str, body: &Value) -> Reply {
        self.post("/v1/comments").key(key).json(body).send().await
    }

    /// `POST /v1/comments/{id}/decision` with `key`.
    pub async fn decide(&self, key: &str, id: &str, body: &Value) -> Reply {
        let path = format!("/v1/comments/{id}/decision");
        self.post(&path).key(key).json(body).send().await
    }

    /// `GET /v1/comments/{id}/statement` with a moderator's `key`.
    pub async fn statement(&self, key: &str, id: &str) -> Reply {
        let path = format!("/v1/comments/{id}/statement");
        self.get(&path).key(key).send().await
    }

    /// `GET /v1/comments/{id}/statement?token=` without a key: the author's view.
    pub async fn statement_with_token(&self, id: &str, token: &str) -> Reply {
        self.get(&format!("/v1/comments/{id}/statement?token={token}"))
            .send()
            .await
    }

    /// `GET /v1/comments/{id}/statement?format=dsa` with `key`.
    pub async fn statement_dsa(&self, key: &str, id: &str) -> Reply {
        let path = format!("/v1/comments/{id}/statement?format=dsa");
        self.get(&path).key(key).send().await
    }

    /// `GET /v1/dsa/statements?from=&to=` with `key`.
    pub async fn dsa_export(&self, key: &str, from: &str, to: &str) -> Reply {
        self.get(&format!("/v1/dsa/statements?from={from}&to={to}"))
            .key(key)
            .send()
            .await
    }

    /// `POST /v1/comments/{id}/appeal?token=` without a key: the author's appeal.
    pub async fn appeal(&self, id: &str, token: &str, text: &str) -> Reply {
        let path = format!("/v1/comments/{id}/appeal?token={token}");
        let body = serde_json::json!({ "text": text });
        self.post(&path).json(&body).send().await
    }

    /// `GET /v1/appeals?{query}` with `key`.
    pub async fn appeals(&self, key: &str, query: &str) -> Reply {
        self.get(&format!("/v1/appeals?{query}"))
            .key(key)
            .send()
            .await
    }

    /// `POST /v1/appeals/{id}/decision` with `key`.
    pub async fn decide_appeal(&self, key: &str, id: i64, outcome: &str, reason: &str) -> Reply {
        let path = format!("/v1/appeals/{id}/decision");
        let body = serde_json::json!({ "outcome": outcome, "reason": reason });
        self.post(&path).key(key).json(&body).send().await
    }

    /// `POST /v1/comments/{id}/reports` without a key: a reader's report.
    pub async fn report(&self, id: &str, body: &Value) -> Reply {
        let path = format!("/v1/comments/{id}/reports");
        self.post(&path).json(body).send().await
    }

    /// `GET /v1/comments/{id}` with `key`.
    pub async fn comment(&self, key: &str, id: &str) -> Reply {
        self.get(&format!("/v1/comments/{id}"))
            .key(key)
            .send()
            .await
    }

    /// `GET /v1/queue?{query}` with `key`.
    pub async fn queue(&self, key: &str, query: &str) -> Reply {
        self.get(&format!("/v1/queue?{query}"))
            .key(key)
            .send()
            .await
    }

    /// `POST /v1/targets` with `key`.
    pub async fn create_target(&self, key: &str, name: &str, description: &str) -> Reply {
        let body = serde_json::json!({"name": name, "description": description});
        self.post("/v1/targets").key(key).json(&body).send().await
    }

    /// `GET /v1/targets` with `key`.
    pub async fn targets(&self, key: &str) -> Reply {
        self.get("/v1/targets").key(key).send().await
    }

    /// `POST /v1/targets/{name}/articles` with `key`.
    pub async fn attach_articles(&self, key: &str, name: &str, article_ids: &[&str]) -> Reply {
        let path = format!("/v1/targets/{name}/articles");
        let body = serde_json::json!({ "article_ids": article_ids });
        self.post(&path).key(key).json(&body).send().await
    }

    /// `GET /v1/labels/export` with `key`.
    pub async fn export_labels(&self, key: &str) -> Reply {
        self.get("/v1/labels/export").key(key).send().await
    }

    /// `POST /v1alpha1/comments:suggestscore?key={key}`, as Perspective's clients send it.
    pub async fn suggest_score(&self, key: &str, body: &Value) -> Reply {
        let path = format!("/v1alpha1/comments:suggestscore?key={key}");
        self.post(&path).json(body).send().await
    }

    /// `POST /v1/admin/model/reload` with `key`.
    pub async fn reload(&self, key: &str) -> Reply {
        self.post("/v1/admin/model/reload").key(key).send().await
    }

    /// `POST /v1/admin/model/retrain` with `key`.
    pub async fn start_retrain(&self, key: &str) -> Reply {
        self.post("/v1/admin/model/retrain").key(key).send().await
    }

    /// `GET /v1/admin/model/retrain` with `key`.
    pub async fn retrain_status(&self, key: &str) -> Reply {
        self.get("/v1/admin/model/retrain").key(key).send().await
    }

    /// `GET /v1/admin/models` with `key`.
    pub async fn models(&self, key: &str) -> Reply {
        self.get("/v1/admin/models").key(key).send().await
    }

    /// `POST /v1/admin/models/{id}/activate` with `key`.
    pub async fn activate_model(&self, key: &str, id: &str) -> Reply {
        let path = format!("/v1/admin/models/{id}/activate");
        self.post(&path).key(key).send().await
    }

    /// `POST /moderation/login` with a moderator's `key`; the session cookie, after checking
    /// the redirect to the queue and the cookie's attributes.
    pub async fn sign_in(&self, key: &str) -> String {
        let r = self
            .post("/moderation/login")
            .form(&format!("key={key}"))
            .send()
            .await;
        assert_eq!(
            (r.status, r.location()),
            (StatusCode::SEE_OTHER, "/moderation/queue"),
            "{}",
            r.text()
        );
        let set = r.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
        for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/moderation"] {
            assert!(set.contains(attr), "{attr} missing in {set}");
        }
        assert!(!set.contains(key), "the key itself is not the session");
        set.split(';').next().unwrap().to_owned()
    }

    /// A request no client on this machine could send as is (from another address, say),
    /// handled in process by the same router.
    pub async fn oneshot(&self, req: Request<Body>) -> Reply {
        let resp = app(self.state.clone()).oneshot(req).await.unwrap();
        let (parts, body) = resp.into_parts();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes(),
        }
    }
}

/// A request being built.
pub struct Call(reqwest::RequestBuilder);

impl Call {
    /// `Authorization: Bearer KEY`
    pub fn key(self, key: &str) -> Self {
        Call(self.0.bearer_auth(key))
    }

    pub fn header(self, name: &str, value: &str) -> Self {
        Call(self.0.header(name, value))
    }

    pub fn cookie(self, cookie: &str) -> Self {
        self.header("cookie", cookie)
    }

    pub fn json(self, body: &Value) -> Self {
        self.body("application/json", body.to_string())
    }

    pub fn form(self, form: &str) -> Self {
        self.body("application/x-www-form-urlencoded", form.to_owned())
    }

    pub fn body(self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        self.header("content-type", content_type).raw(body)
    }

    /// A body with no `Content-Type`.
    pub fn raw(self, body: impl Into<reqwest::Body>) -> Self {
        Call(self.0.body(body))
    }

    pub async fn send(self) -> Reply {
        let resp = self.0.send().await.unwrap();
        Reply {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.bytes().await.unwrap(),
        }
    }
}

/// A response, read to the end.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON; `Null` when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).unwrap()
    }

    /// The `Location` header, or "".
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}
