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

mod common;

use std::process::Command;
use std::sync::Arc;

use common::serve::{create_key, Server};
use vigie::http::{app, App, Limits};
use vigie::policy::Policy;
use vigie::store::SqliteStore;

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
fn serve_with_key(dir: &common::TempDir) -> (Server, String) {
    let db = ["--data-dir", dir.arg()];
    let key = create_key(&db, "client", "scorer");
    let server = Server::start(&[db[0], db[1], "--score-requires-key"]);
    (server, key)
}

#[test]
fn perspective_npm_client_works_unchanged() {
    if !node_available() {
        return;
    }
    let dir = common::path("tests/clients/perspective-npm");
    npm_ci(&dir);
    let data = common::TempDir::new("client-npm");
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
    let venv = common::path("target/clients-venv");
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
    let dir = common::path("tests/clients/openapi");
    let Some(python) = python_with(&dir) else {
        return;
    };
    let data = common::TempDir::new("client-openapi");
    let server = Server::start(&["--data-dir", data.arg()]);
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
    let dir = common::path("tests/clients/perspective-python");
    let Some(python) = python_with(&dir) else {
        return;
    };
    let python = python.as_str();
    let data = common::TempDir::new("client-python");
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
    let dir = common::path("tests/clients/coral");
    tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || npm_ci(&dir)
    })
    .await
    .unwrap();

    let mut state = App::new(
        common::default_model().clone(),
        Policy::load(&common::path("models/thresholds.toml")).unwrap(),
        Limits::default(),
        Arc::new(SqliteStore::in_memory().await.unwrap()),
    );
    state.coral_secrets = vec![SECRET.into()];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app(Arc::new(state));
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let out = tokio::process::Command::new("node")
        .args(["check.mjs", &base, SECRET])
        .current_dir(&dir)
        .output()
        .await
        .expect("run node check.mjs");
    server.abort();
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
