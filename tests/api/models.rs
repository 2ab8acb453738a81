//! The model registry: every model that served is kept (its file in the models directory, its
//! row in the store), listed with its activations; an admin rolls back (and forward) through
//! the API, a damaged or missing file is refused while the model serving keeps serving, a
//! restart serves the active model, and replicas on one PostgreSQL database follow an
//! activation made on any of them within their poll period.
//!
//! The second model of these tests is the committed one under another id: another file (its
//! card differs), which is all the registry looks at.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{json, Value};
use vigie::domain::{ActivationReason, Role};
use vigie::http::AppConfig;
use vigie::model::Model;
use vigie::service::models::{self, RegistryError};
use vigie::store::{SqliteStore, Store, StoreError};

use crate::common::{self, errors::assert_error, tempdir::TempDir};
use crate::helpers::{Setup, TestApp};

const ADMIN: &str = "vg_models_admin";
const MODERATOR: &str = "vg_models_moderator";

fn default_id() -> String {
    common::model::default_model().card.model_id.clone()
}

/// The committed model under another id.
fn renamed(id: &str) -> Model {
    let mut m = common::model::default_model().clone();
    m.card.model_id = id.to_owned();
    m
}

/// A service keeping its models in `dir/models`, reloading from `dir/site.vigie`; the keys
/// are created only when `keys` (a restart finds them in its database).
fn setup(dir: &Path, store: Option<Arc<dyn Store>>, poll: Option<Duration>, keys: bool) -> Setup {
    Setup {
        config: AppConfig {
            model_path: Some(dir.join("site.vigie")),
            models_dir: Some(dir.join("models")),
            model_poll: poll,
            ..AppConfig::default()
        },
        keys: if keys {
            vec![
                ("ops", ADMIN, Role::Admin),
                ("mod", MODERATOR, Role::Moderator),
            ]
        } else {
            Vec::new()
        },
        store,
        ..Setup::default()
    }
}

/// The id of the model that scores, per `/v1/score`, `/v1/model` and `/healthz` alike.
async fn scoring_model(app: &TestApp) -> String {
    let r = app
        .score(&json!({"text": "Quelle bande de bras cassés"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let id = r.json()["model_id"].as_str().unwrap().to_owned();
    let card = app.get("/v1/model").send().await.json();
    assert_eq!(card["card"]["model_id"], id.as_str());
    assert_eq!(
        app.get("/healthz").send().await.json()["model_id"],
        id.as_str()
    );
    id
}

/// `GET /v1/admin/models`, checked to be a 200.
async fn listed(app: &TestApp) -> Value {
    let r = app.models(ADMIN).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

/// Per listed model (in the listed order): its id, whether it is active, whether it serves,
/// and its activations as "reason by actor", newest first.
fn summary(list: &Value) -> Vec<(String, bool, bool, Vec<String>)> {
    let models = list["models"].as_array().unwrap();
    models
        .iter()
        .map(|m| {
            let history = m["activations"].as_array().unwrap().iter();
            let history = history.map(|a| {
                format!(
                    "{} by {}",
                    a["reason"].as_str().unwrap(),
                    a["actor"].as_str().unwrap()
                )
            });
            (
                m["model_id"].as_str().unwrap().to_owned(),
                m["active"].as_bool().unwrap(),
                m["serving"].as_bool().unwrap(),
                history.collect(),
            )
        })
        .collect()
}

fn entry(
    id: &str,
    active: bool,
    serving: bool,
    history: &[&str],
) -> (String, bool, bool, Vec<String>) {
    let history = history.iter().map(|h| h.to_string()).collect();
    (id.to_owned(), active, serving, history)
}

/// `POST …/activate` refused with `status` and `code`, the message containing `says`.
async fn refused(app: &TestApp, id: &str, status: StatusCode, code: &str, says: &str) {
    let r = app.activate_model(ADMIN, id).await;
    assert_eq!(r.status, status, "{id}: {}", r.text());
    assert_error(&r.json(), code);
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains(says), "{id}: {message}");
}

#[tokio::test]
async fn models_are_kept_listed_and_rolled_back() {
    let dir = TempDir::new("models-rollback");
    let app = setup(dir.path(), None, None, true).spawn().await;
    let default = default_id();
    let kept = dir.path().join("models").join(format!("{default}.vigie"));
    let committed = std::fs::read(common::files::path("models/default.vigie")).unwrap();
    assert_eq!(
        std::fs::read(&kept).unwrap(),
        committed,
        "the model is kept as it is"
    );
    assert!(
        dir.path()
            .join("models")
            .join(format!("{default}.realdata.json"))
            .exists(),
        "its real-data evaluation goes with it"
    );

    // The first start registered and activated the model it was given.
    let list = listed(&app).await;
    assert_eq!(
        summary(&list),
        [entry(&default, true, true, &["startup by serve"])]
    );
    assert_eq!(
        (
            list["serving_model_id"].as_str(),
            list["active_model_id"].as_str()
        ),
        (Some(default.as_str()), Some(default.as_str()))
    );
    let first = &list["models"][0];
    assert_eq!(first["registered_by"], "serve");
    assert_eq!(first["file"], format!("{default}.vigie"));
    assert_eq!(first["sha256"], vigie::util::sha256_hex(&committed));
    assert_eq!(first["report"], Value::Null);

    // A reload registers the new file and activates it.
    renamed("site-2")
        .save(&dir.path().join("site.vigie"))
        .unwrap();
    let r = app.reload(ADMIN).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"previous_model_id": default, "model_id": "site-2"})
    );
    assert_eq!(scoring_model(&app).await, "site-2");
    assert_eq!(
        summary(&listed(&app).await),
        [
            entry("site-2", true, true, &["reload by ops"]),
            entry(&default, false, false, &["startup by serve"])
        ]
    );

    // Rollback: the older model serves again, and its history says who chose it.
    let r = app.activate_model(ADMIN, &default).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"previous_model_id": "site-2", "model_id": default})
    );
    assert_eq!(scoring_model(&app).await, default);
    let rolled_back = [
        entry("site-2", false, false, &["reload by ops"]),
        entry(
            &default,
            true,
            true,
            &["rollback by ops", "startup by serve"],
        ),
    ];
    assert_eq!(summary(&listed(&app).await), rolled_back);

    // Refusals: none records an activation, none changes the model serving.
    refused(
        &app,
        "no-such-model",
        StatusCode::NOT_FOUND,
        "model_not_found",
        "\"no-such-model\"",
    )
    .await;
    let site2 = dir.path().join("models/site-2.vigie");
    let good = std::fs::read(&site2).unwrap();
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x55;
    std::fs::write(&site2, &flipped).unwrap();
    refused(
        &app,
        "site-2",
        StatusCode::UNPROCESSABLE_ENTITY,
        "model_rejected",
        "checksum mismatch",
    )
    .await;
    // A sound model file, but not the one registered under this id.
    std::fs::write(&site2, &committed).unwrap();
    refused(
        &app,
        "site-2",
        StatusCode::UNPROCESSABLE_ENTITY,
        "model_rejected",
        "not the registered file",
    )
    .await;
    std::fs::remove_file(&site2).unwrap();
    refused(
        &app,
        "site-2",
        StatusCode::UNPROCESSABLE_ENTITY,
        "model_rejected",
        "cannot read model file",
    )
    .await;
    assert_eq!(scoring_model(&app).await, default);
    assert_eq!(summary(&listed(&app).await), rolled_back);

    // Another file under a registered id is refused, and the kept file is not touched.
    std::fs::write(&site2, &good).unwrap();
    let mut impostor = renamed("site-2");
    impostor.card.name = "impostor".into();
    impostor.save(&dir.path().join("site.vigie")).unwrap();
    let r = app.reload(ADMIN).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_error(&r.json(), "model_conflict");
    assert_eq!(std::fs::read(&site2).unwrap(), good);
    assert_eq!(scoring_model(&app).await, default);

    // The file restored, rolling forward works.
    let r = app.activate_model(ADMIN, "site-2").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(scoring_model(&app).await, "site-2");

    // Admins only.
    assert_eq!(app.models(MODERATOR).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.activate_model(MODERATOR, &default).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/v1/admin/models").send().await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_registered_model_keeps_its_report_and_serves_once_activated() {
    let dir = TempDir::new("models-register");
    let app = setup(dir.path(), None, None, true).spawn().await;
    let report =
        json!({"promoted": true, "heads": {"insult": {"champion": 0.81, "challenger": 0.86}}});
    let challenger = Arc::new(renamed("site-retrained"));
    let kept = models::register(
        &app.state,
        challenger.clone(),
        Some(report.clone()),
        "retrain",
    )
    .await
    .unwrap();
    assert!(kept.new);
    assert_eq!(kept.file, "site-retrained.vigie");
    // Registered, not serving yet.
    assert_eq!(scoring_model(&app).await, default_id());
    let again = models::register(&app.state, challenger, None, "retrain")
        .await
        .unwrap();
    assert!(!again.new, "the same file again is no new model");
    assert_eq!(again.sha256, kept.sha256);

    let switched = models::activate(
        &app.state,
        "site-retrained",
        "retrain",
        ActivationReason::Retrain,
    )
    .await
    .unwrap();
    assert_eq!(
        (switched.previous_model_id, switched.model_id.as_str()),
        (default_id(), "site-retrained")
    );
    assert_eq!(scoring_model(&app).await, "site-retrained");
    let list = listed(&app).await;
    assert_eq!(list["models"][0]["report"], report);
    assert_eq!(list["models"][0]["registered_by"], "retrain");
    assert_eq!(
        summary(&list)[0],
        entry("site-retrained", true, true, &["retrain by retrain"])
    );

    // An id that cannot name a file is refused before anything is written.
    let err = models::register(&app.state, Arc::new(renamed("../escape")), None, "retrain")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RegistryError::Rejected(m) if m.contains("cannot name a file")),
        "{err}"
    );
    assert!(!dir.path().join("escape.vigie").exists());
    let err = models::activate(&app.state, "nope", "retrain", ActivationReason::Retrain)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RegistryError::Unknown(id) if id == "nope"),
        "{err}"
    );
    let other = renamed("site-retrained");
    let mut other = other;
    other.card.name = "other".into();
    let err = models::register(&app.state, Arc::new(other), None, "retrain")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RegistryError::Store(StoreError::ModelConflict(id)) if id == "site-retrained"),
        "{err}"
    );
}

#[tokio::test]
async fn a_restart_serves_the_active_model_unless_its_file_is_gone() {
    let dir = TempDir::new("models-restart");
    let db = dir.path().join("vigie.db");
    let open = || async { Some(Arc::new(SqliteStore::open(&db).await.unwrap()) as Arc<dyn Store>) };
    let first = setup(dir.path(), open().await, None, true).spawn().await;
    renamed("site-2")
        .save(&dir.path().join("site.vigie"))
        .unwrap();
    assert_eq!(first.reload(ADMIN).await.status, StatusCode::OK);
    drop(first);

    // Started again with the committed model: the database's active model serves, and no
    // activation is recorded for the model given (registered already).
    let second = setup(dir.path(), open().await, None, false).spawn().await;
    assert_eq!(scoring_model(&second).await, "site-2");
    let after_restart = [
        entry("site-2", true, true, &["reload by ops"]),
        entry(&default_id(), false, false, &["startup by serve"]),
    ];
    assert_eq!(summary(&listed(&second).await), after_restart);
    drop(second);

    // The active model's file gone: the model given serves (an error is logged), and the
    // database still names the other as active.
    std::fs::remove_file(dir.path().join("models/site-2.vigie")).unwrap();
    let third = setup(dir.path(), open().await, None, false).spawn().await;
    assert_eq!(scoring_model(&third).await, default_id());
    let list = listed(&third).await;
    assert_eq!(
        (
            list["active_model_id"].as_str(),
            list["serving_model_id"].as_str()
        ),
        (Some("site-2"), Some(default_id().as_str()))
    );
    assert_eq!(list["models"].as_array().unwrap().len(), 2);
}

/// Waits until `app` scores with `id`; how long that took.
async fn switched_to(app: &TestApp, id: &str, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        // The score alone: the model may be swapped between this and a request for the card.
        let r = app
            .score(&json!({"text": "Quelle bande de bras cassés"}))
            .await;
        let serving = r.json()["model_id"].as_str().unwrap().to_owned();
        if serving == id {
            let took = started.elapsed();
            assert_eq!(scoring_model(app).await, id);
            return took;
        }
        assert!(
            started.elapsed() < within,
            "still {serving}, not {id}, after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_postgres_follow_the_active_model() {
    let dir = TempDir::new("models-replicas");
    let poll = Some(Duration::from_millis(100));
    let Some((a, schema)) = setup(dir.path(), None, poll, true)
        .with_postgres("model_replicas")
        .await
    else {
        return;
    };
    let b = setup(
        dir.path(),
        Some(Arc::new(schema.connect().await)),
        poll,
        false,
    )
    .spawn()
    .await;
    let default = default_id();
    assert_eq!(scoring_model(&b).await, default);
    assert_eq!(
        summary(&listed(&b).await),
        [entry(&default, true, true, &["startup by serve"])]
    );

    // A retraining on replica a: registered with its report, then activated there.
    let report = json!({"promoted": true});
    let kept = models::register(
        &a.state,
        Arc::new(renamed("site-retrained")),
        Some(report),
        "retrain",
    )
    .await
    .unwrap();
    models::activate(
        &a.state,
        &kept.model_id,
        "retrain",
        ActivationReason::Retrain,
    )
    .await
    .unwrap();
    assert_eq!(scoring_model(&a).await, "site-retrained");
    let took = switched_to(&b, "site-retrained", Duration::from_secs(10)).await;
    eprintln!("replica b followed the retrained model in {took:?} (poll every 100 ms)");
    let metrics = b.get("/metrics").key(ADMIN).send().await.text();
    assert!(
        metrics.contains("vigie_model_info{model_id=\"site-retrained\"} 1"),
        "{metrics}"
    );

    // A replica whose models directory lacks the active model's file keeps serving its own.
    let apart = TempDir::new("models-replica-apart");
    let c = setup(
        apart.path(),
        Some(Arc::new(schema.connect().await)),
        poll,
        false,
    )
    .spawn()
    .await;
    assert_eq!(scoring_model(&c).await, default);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(scoring_model(&c).await, default);
    assert_eq!(listed(&c).await["active_model_id"], "site-retrained");

    // A rollback through replica b's API: a follows; c, which has that file, still serves it.
    let r = b.activate_model(ADMIN, &default).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let took = switched_to(&a, &default, Duration::from_secs(10)).await;
    eprintln!("replica a followed the rollback in {took:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    for replica in [&a, &b, &c] {
        assert_eq!(scoring_model(replica).await, default);
    }
    let expected = [
        entry("site-retrained", false, false, &["retrain by retrain"]),
        entry(
            &default,
            true,
            true,
            &["rollback by ops", "startup by serve"],
        ),
    ];
    assert_eq!(summary(&listed(&c).await), expected);
    drop((a, b, c));
    schema.drop().await;
}
