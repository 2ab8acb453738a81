//! Retraining through the API: a challenger trained on a base plus the site's labels is
//! promoted when it is better on the held-out site labels, and kept out when it is worse.
//! The base is small (the project's corpus and seeds) so that a retraining takes seconds;
//! the champion is the committed model.

use std::path::Path;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{json, Value};
use vigie::domain::Role;
use vigie::http::AppConfig;
use vigie::service::retrain::RetrainConfig;
use vigie::train::sources::BaseFiles;

use crate::common::{self, tempdir::TempDir};
use crate::helpers::{Setup, TestApp};

const ADMIN: &str = "vg_retrain_admin";
const SCORER: &str = "vg_retrain_scorer";

/// The base a retraining reads: `corpus` and the seeds.
pub(crate) fn base(corpus: &Path) -> BaseFiles {
    BaseFiles {
        data: vec![corpus.to_owned()],
        heldout: None,
        ..BaseFiles::in_dir(&common::files::path("."))
    }
}

async fn spawn(dir: &Path, corpus: &Path) -> TestApp {
    Setup {
        config: AppConfig {
            models_dir: Some(dir.join("models")),
            retrain: Some(RetrainConfig {
                base: base(corpus),
                threads: 2,
                low_priority: true,
                every: None,
                after_labels: None,
            }),
            ..AppConfig::default()
        },
        keys: vec![("ops", ADMIN, Role::Admin), ("site", SCORER, Role::Scorer)],
        ..Setup::default()
    }
    .spawn()
    .await
}

/// One site label through Perspective's `comments:suggestscore`.
async fn label(app: &TestApp, text: &str, toxic: bool) {
    let body = json!({
        "comment": {"text": text},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": if toxic { 1.0 } else { 0.0 }}}},
        "languages": ["fr"],
    });
    let r = app.suggest_score(SCORER, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

/// Starts a retraining and waits for its outcome.
pub(crate) async fn retrained(app: &TestApp, admin: &str) -> Value {
    let r = app.start_retrain(admin).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(r.json()["state"], "running");
    let again = app.start_retrain(admin).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    let t0 = Instant::now();
    loop {
        let s = app.retrain_status(admin).await.json();
        match s["state"].as_str() {
            Some("running") => assert!(t0.elapsed() < Duration::from_secs(600), "{s}"),
            Some("finished") => return s,
            _ => panic!("retraining did not finish: {s}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn serving(app: &TestApp) -> String {
    let r = app.score(&json!({"text": "Merci pour cet article"})).await;
    r.json()["model_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_challenger_that_learned_the_sites_word_is_promoted() {
    let dir = TempDir::new("retrain-better");
    let app = spawn(dir.path(), &common::files::path("training/corpus.jsonl")).await;
    let champion = serving(&app).await;
    // This site's readers use a word no corpus knows as an insult.
    let topics = [
        "la réforme",
        "le budget",
        "les retraites",
        "la mairie",
        "le stade",
        "la météo",
        "le festival",
        "les transports",
        "l'école",
        "la santé",
        "le marché",
        "la piscine",
        "le conseil",
        "les impôts",
        "la gare",
        "le tram",
        "la fibre",
        "le parc",
        "la police",
        "les travaux",
        "le musée",
        "la crèche",
        "les élections",
        "la forêt",
        "le port",
    ];
    for (i, t) in topics.iter().enumerate() {
        for n in 0..4 {
            label(
                &app,
                &format!("Sur {t}, l'auteur est un zorglub {i}{n}"),
                true,
            )
            .await;
            label(
                &app,
                &format!("Sur {t}, l'auteur est un journaliste {i}{n}"),
                false,
            )
            .await;
        }
    }
    let s = retrained(&app, ADMIN).await;
    let cmp = &s["comparison"];
    assert_eq!(cmp["champion"], champion.as_str(), "{s}");
    assert_eq!(cmp["site_labels"], 200, "{s}");
    assert_eq!(cmp["verdict"]["decision"], "promote", "{s}");
    let tox = (cmp["judged"].as_array().unwrap().iter())
        .find(|j| j["head"] == "toxicity")
        .unwrap_or_else(|| panic!("toxicity judged: {s}"));
    assert!(tox["low"].as_f64().unwrap() > 0.0, "{s}");
    assert_eq!(s["promoted"], true);
    let challenger = s["challenger"].as_str().unwrap();
    assert_ne!(challenger, champion);
    assert_eq!(serving(&app).await, challenger);
    let models = app.models(ADMIN).await.json();
    assert_eq!(models["active_model_id"], challenger, "{models}");
    let kept = (models["models"].as_array().unwrap().iter())
        .find(|m| m["model_id"] == challenger)
        .unwrap();
    assert_eq!(kept["report"]["verdict"]["decision"], "promote");
    assert_eq!(kept["activations"][0]["reason"], "retrain");
    // Rolled back, the champion serves again.
    let r = app.activate_model(ADMIN, &champion).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(serving(&app).await, champion);
}

/// The project's corpus with every binary label flipped: a base gone wrong (a mapping bug in
/// an import, say).
fn flipped_corpus(dir: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(common::files::path("training/corpus.jsonl")).unwrap();
    let mut out = String::new();
    for line in text.lines().filter(|l| l.starts_with('{')) {
        let mut r: Value = serde_json::from_str(line).unwrap();
        for (k, v) in r["labels"].as_object_mut().unwrap() {
            if k != "stance" {
                *v = json!(1 - v.as_i64().unwrap());
            }
        }
        out.push_str(&(r.to_string() + "\n"));
    }
    let path = dir.join("flipped.jsonl");
    std::fs::write(&path, out).unwrap();
    path
}

#[tokio::test]
async fn a_worse_challenger_is_kept_out_and_says_why() {
    let dir = TempDir::new("retrain-worse");
    let app = spawn(dir.path(), &flipped_corpus(dir.path())).await;
    let champion = serving(&app).await;
    // The site labels as the project's held-out comments are labeled: the champion ranks them well.
    let heldout = std::fs::read_to_string(common::files::path("training/heldout.jsonl")).unwrap();
    for line in heldout.lines().filter(|l| l.starts_with('{')) {
        let r: Value = serde_json::from_str(line).unwrap();
        if let Some(t) = r["labels"]["toxicity"].as_i64() {
            label(&app, r["text"].as_str().unwrap(), t == 1).await;
        }
    }
    let s = retrained(&app, ADMIN).await;
    let cmp = &s["comparison"];
    assert_eq!(cmp["verdict"]["decision"], "keep_champion", "{s}");
    let reasons = cmp["verdict"]["reasons"].as_array().unwrap();
    assert!(
        reasons
            .iter()
            .any(|r| r["reason"] == "worse" && r["head"] == "toxicity"),
        "{s}"
    );
    assert_eq!(s["promoted"], false);
    assert!(s["switched"].is_null());
    assert_eq!(serving(&app).await, champion);
    let models = app.models(ADMIN).await.json();
    assert_eq!(models["active_model_id"], champion.as_str(), "{models}");
    let kept = (models["models"].as_array().unwrap().iter())
        .find(|m| m["model_id"] == s["challenger"])
        .unwrap_or_else(|| panic!("the challenger is kept: {models}"));
    assert_eq!(kept["activations"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_server_without_base_data_refuses_to_retrain() {
    let app = Setup {
        keys: vec![("ops", ADMIN, Role::Admin)],
        ..Setup::default()
    }
    .spawn()
    .await;
    let r = app.start_retrain(ADMIN).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "retrain_off");
    assert_eq!(app.retrain_status(ADMIN).await.json()["state"], "idle");
}
