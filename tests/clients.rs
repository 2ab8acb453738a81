//! Clients the project did not write, against the service on a real port. Coral Talk's
//! external-moderation phase (`tests/clients/coral/check.mjs`: Coral's signing, response
//! handling, Joi schema and merge semantics) runs in Node.js with `joi` installed from the
//! npm registry by `npm ci`. Without `node` and `npm` the test says it was skipped, unless
//! `VIGIE_REQUIRE_NODE` is set (as `.ci/run` does).

mod common;

use std::process::Command;
use std::sync::Arc;

use vigie::http::{app, App, Limits};
use vigie::policy::Policy;
use vigie::store::SqliteStore;

const SECRET: &str = "coral_client_secret";

fn node_available() -> bool {
    let ok = |bin: &str| {
        Command::new(bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let found = ok("node") && ok("npm");
    assert!(
        found || std::env::var_os("VIGIE_REQUIRE_NODE").is_none(),
        "VIGIE_REQUIRE_NODE is set but node or npm is missing"
    );
    if !found {
        eprintln!("SKIPPED: node and npm are needed for the client checks");
    }
    found
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
