//! Clients the project did not write, against the service on a real port:
//! - Coral Talk's external-moderation phase (`tests/clients/coral/check.mjs`: Coral's
//!   signing, response handling, Joi schema and merge semantics), with `joi` from npm;
//! - the npm `perspective-api-client` 3.1.0 (`tests/clients/perspective-npm/check.js`) and
//!   Google's `google-api-python-client` built from Vigie's discovery document
//!   (`tests/clients/perspective-python/check.py`), against the real `serve` binary.
//!
//! Their packages come from the npm registry (`npm ci`) and PyPI (a virtualenv under
//! `target/`). Without `node`/`npm` or `python3` a test says it was skipped, unless
//! `VIGIE_REQUIRE_NODE` / `VIGIE_REQUIRE_PYTHON` is set (as `.ci/run` does).

#[path = "common"]
mod common {
    pub mod app;
    pub mod files;
    pub mod model;
    pub mod serve;
    pub mod tempdir;
}

use std::process::Command;

use common::app::{Setup, TestApp};
use common::serve::{create_key, Server};
use serde_json::Value;
use vigie::http::AppConfig;

const SECRET: &str = "coral_client_secret";

/// Whether every one of `bins` runs; if not, skipped unless `require` is set.
fn available(bins: &[&str], require: &str) -> bool {
    let runs = |bin: &&str| {
        Command::new(bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let found = bins.iter().all(runs);
    assert!(
        found || std::env::var_os(require).is_none(),
        "{require} is set but one of {bins:?} is missing"
    );
    if !found {
        eprintln!("SKIPPED: {bins:?} needed for this client check");
    }
    found
}

fn node_available() -> bool {
    available(&["node", "npm"], "VIGIE_REQUIRE_NODE")
}

/// Runs `program args` in `dir`; asserts it exits 0 and prints what it printed.
fn run_check(program: &str, args: &[&str], dir: &std::path::Path) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The real `serve` on a free port with the committed model, requiring a scorer key; and
/// that key.
fn serve_with_key(dir: &common::tempdir::TempDir) -> (Server, String) {
    let db = ["--data-dir", dir.path().to_str().unwrap()];
    let key = create_key(&db, "client", "scorer");
    let server = Server::start(&[db[0], db[1], "--score-requires-key"]);
    (server, key)
}

#[test]
fn perspective_npm_client_works_unchanged() {
    if !node_available() {
        return;
    }
    let dir = common::files::path("tests/clients/perspective-npm");
    npm_ci(&dir);
    let data = common::tempdir::TempDir::new("client-npm");
    let (server, key) = serve_with_key(&data);
    let out = run_check("node", &["check.js", &server.base(), &key], &dir);
    assert_eq!(out.matches("\"ok\":true").count(), 10, "{out}");
}

/// The Python of a virtualenv under `target/` with `dir`'s `requirements.txt` installed
/// from PyPI; `None` (skipped) without python3.
fn python_with(dir: &std::path::Path) -> Option<String> {
    if !available(&["python3"], "VIGIE_REQUIRE_PYTHON") {
        return None;
    }
    // The tests of this file run at once and share one virtualenv: one makes it at a time.
    static VENV: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = VENV.lock().unwrap_or_else(|e| e.into_inner());
    let venv = common::files::path("target/clients-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        run_check("python3", &["-m", "venv", venv.to_str().unwrap()], dir);
    }
    let python = python.to_str().unwrap().to_owned();
    let pip = [
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ];
    run_check(
        &python,
        &[&pip[..], &["-r", "requirements.txt"]].concat(),
        dir,
    );
    Some(python)
}

/// `/openapi.json` of the real `serve` passes `openapi-spec-validator` (every response has a
/// description, every `$ref` resolves); it refused 22 responses without a description.
#[test]
fn openapi_document_passes_openapi_spec_validator() {
    let dir = common::files::path("tests/clients/openapi");
    let Some(python) = python_with(&dir) else {
        return;
    };
    let data = common::tempdir::TempDir::new("client-openapi");
    let server = Server::start(&["--data-dir", data.path().to_str().unwrap()]);
    let url = format!("{}/openapi.json", server.base());
    let check = "import json, sys, urllib.request\n\
                 from openapi_spec_validator import validate\n\
                 validate(json.load(urllib.request.urlopen(sys.argv[1])))\n\
                 print('valid')";
    let out = run_check(&python, &["-c", check, &url], &dir);
    assert_eq!(out.trim(), "valid");
}

#[test]
fn perspective_python_client_builds_from_the_discovery_document() {
    let dir = common::files::path("tests/clients/perspective-python");
    let Some(python) = python_with(&dir) else {
        return;
    };
    let python = python.as_str();
    let data = common::tempdir::TempDir::new("client-python");
    let (server, key) = serve_with_key(&data);
    let out = run_check(python, &["check.py", &server.base(), &key], &dir);
    assert_eq!(out.matches("\"ok\": true").count(), 6, "{out}");
}

/// `npm ci` in `dir`: the versions of `package-lock.json`, from the npm registry.
fn npm_ci(dir: &std::path::Path) {
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .output()
        .expect("run npm ci");
    assert!(
        out.status.success(),
        "npm ci in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn coral_pipeline_accepts_every_answer_and_never_skips_premoderation() {
    if !node_available() {
        return;
    }
    let dir = common::files::path("tests/clients/coral");
    tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || npm_ci(&dir)
    })
    .await
    .unwrap();

    let server = with_coral_secret().await;
    let base = server.address.clone();

    let out = tokio::process::Command::new("node")
        .args(["check.mjs", &base, SECRET])
        .current_dir(&dir)
        .output()
        .await
        .expect("run node check.mjs");
    drop(server);
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "Coral's phase logic refused an answer:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every case ran and passed (the script exits 0 only then, but an early exit prints less).
    assert_eq!(stdout.matches("\"ok\":true").count(), 7, "{stdout}");
}

/// `schema`, its `$ref` followed.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.strip_prefix("#/components/schemas/").expect(r);
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// Whether `v` conforms to `schema` as far as these documents use JSON Schema (`$ref`,
/// `oneOf`, `type`, `required`, `properties`, `additionalProperties`, `items`). A field the
/// schema does not describe is an error: the point is that the document names every field.
fn conforms(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    if let Some(branches) = schema["oneOf"].as_array() {
        return match branches.iter().any(|b| conforms(doc, b, v, at).is_ok()) {
            true => Ok(()),
            false => Err(format!("{at}: {v} matches no branch of {schema}")),
        };
    }
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![kind],
    };
    let fits = types.contains(&kind) || (kind == "integer" && types.contains(&"number"));
    if !fits {
        return Err(format!("{at}: a {kind}, the schema says {types:?}"));
    }
    match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| conforms(doc, &schema["items"], item, &format!("{at}[{i}]"))),
        Value::Object(fields) => {
            for r in schema["required"].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap();
                if !fields.contains_key(r) {
                    return Err(format!("{at}: required {r} is missing"));
                }
            }
            let extra = &schema["additionalProperties"];
            for (k, field) in fields {
                let sub = match &schema["properties"][k] {
                    Value::Null if extra.is_object() => extra,
                    Value::Null if schema["properties"].is_object() || extra.is_boolean() => {
                        return Err(format!("{at}: field {k} is not in the schema"));
                    }
                    Value::Null => continue, // a free-form object (`Object`)
                    s => s,
                };
                conforms(doc, sub, field, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The schema of `path`'s `method` request body (`None`) or response of `status`, with at
/// least one described field.
fn body_schema<'a>(doc: &'a Value, path: &str, method: &str, status: Option<&str>) -> &'a Value {
    let op = &doc["paths"][path][method];
    let content = match status {
        None => &op["requestBody"]["content"],
        Some(s) => &op["responses"][s]["content"],
    };
    let schema = resolve(doc, &content["application/json"]["schema"]);
    let fields = schema["properties"].as_object();
    assert!(
        fields.is_some_and(|f| !f.is_empty()),
        "{method} {path} {status:?}: {schema}"
    );
    schema
}

/// The Perspective and Coral routes describe their bodies with named schemas (they were a
/// bare `object`), and what real clients send (the fixtures, Coral's own request) and what
/// Vigie answers conform to them, field by field.
#[tokio::test]
async fn integration_bodies_are_described_and_real_bodies_conform() {
    let doc = serde_json::to_value(vigie::http::openapi()).unwrap();
    let analyze = "/v1alpha1/comments:analyze";
    let coral = "/v1/integrations/coral";
    let check = |schema: &Value, v: &Value, what: &str| {
        conforms(&doc, schema, v, what).unwrap_or_else(|e| panic!("{e}"));
    };
    let request = body_schema(&doc, analyze, "post", None);
    assert!(request["properties"]["requestedAttributes"].is_object());
    for f in [
        "all_fields",
        "coral_client",
        "experimental_fr",
        "unknown_attribute",
    ] {
        let v = fixture_json(&format!("perspective/{f}.json"));
        check(request, &v, f);
    }
    let request = body_schema(&doc, coral, "post", None);
    for f in ["new_comment", "older_tenant_shape"] {
        check(request, &fixture_json(&format!("coral/{f}.json")), f);
    }

    let state = with_coral_secret().await;
    let all_fields = fixture_json("perspective/all_fields.json");
    let (s, v) = call(&state, analyze, all_fields.to_string().into_bytes(), &[]).await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v["attributeScores"]["TOXICITY"]["spanScores"].is_array(),
        "{v}"
    );
    check(
        body_schema(&doc, analyze, "post", Some("200")),
        &v,
        "analyze",
    );
    let unknown = fixture_json("perspective/unknown_attribute.json");
    let (s, v) = call(&state, analyze, unknown.to_string().into_bytes(), &[]).await;
    assert_eq!(s, 400, "{v}");
    check(
        body_schema(&doc, analyze, "post", Some("400")),
        &v,
        "analyze error",
    );
    let (s, v) = get(&state, "/$discovery/rest?version=v1alpha1").await;
    assert_eq!(s, 200);
    check(
        body_schema(&doc, "/$discovery/rest", "get", Some("200")),
        &v,
        "discovery",
    );

    let answer = body_schema(&doc, coral, "post", Some("200"));
    let mut statuses = Vec::new();
    for text in [
        "Quelle bande de bras cassés",
        "Bande de guignols et de connards, démission !",
    ] {
        let mut body = fixture_json("coral/new_comment.json");
        body["comment"]["body"] = text.into();
        let body = body.to_string().into_bytes();
        let signature = vigie::http::coral::sign(SECRET, &body);
        let (s, v) = call(&state, coral, body, &[("x-coral-signature", &signature)]).await;
        assert_eq!(s, 200, "{v}");
        check(answer, &v, text);
        statuses.push(v["status"].as_str().unwrap().to_owned());
    }
    // Both shapes were checked: withheld, and rejected with its moderation action.
    assert_eq!(statuses, ["SYSTEM_WITHHELD", "REJECTED"]);
    // And both comments were stored.
    let counts = state.state.store().counts().await.unwrap();
    assert_eq!(counts.values().sum::<i64>(), 2, "{counts:?}");
}

fn fixture_json(name: &str) -> Value {
    let text =
        std::fs::read_to_string(common::files::path(&format!("tests/fixtures/{name}"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The service in process on a loopback port, Coral's signing secret configured.
async fn with_coral_secret() -> TestApp {
    Setup {
        config: AppConfig {
            coral_secrets: vec![SECRET.into()],
            ..AppConfig::default()
        },
        ..Setup::default()
    }
    .spawn()
    .await
}

/// A POST to the service: the status and the body as JSON.
async fn call(app: &TestApp, uri: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = client()
        .post(format!("{}{uri}", app.address))
        .header("content-type", "application/json")
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    respond(req).await
}

async fn get(app: &TestApp, uri: &str) -> (u16, Value) {
    respond(client().get(format!("{}{uri}", app.address))).await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn respond(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}
