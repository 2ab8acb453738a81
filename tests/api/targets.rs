//! The site's stance targets: creation and its refusals, articles attached, comments for
//! them "not yet learned", the teach order, the page's Targets tab, and a new target from
//! creation to its first scored comment (labels through the decision API, retrainings
//! through the API on a small base, one label short of 30 per class and then with it).

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use vigie::domain::{Role, Stance, Target};
use vigie::http::AppConfig;
use vigie::policy::Policy;
use vigie::service::labels::site_labels;
use vigie::service::retrain::RetrainConfig;
use vigie::service::targets::SITE_TARGET_MIN_LABELS;

use crate::common;
use crate::common::tempdir::TempDir;
use crate::helpers::{Setup, TestApp};

const SCORER: &str = "vg_targets_scorer";
const MODERATOR: &str = "vg_targets_moderator";
const ADMIN: &str = "vg_targets_admin";

/// Every comment held for a moderator: flag thresholds at 0, reject out of reach.
const HOLD_ALL: &str = "[heads.toxicity]\nflag = 0.0\nreject = 1.0\n";

async fn service(config: AppConfig) -> TestApp {
    Setup {
        policy: Policy::from_toml(HOLD_ALL).unwrap(),
        config,
        keys: vec![
            ("site", SCORER, Role::Scorer),
            ("editor", MODERATOR, Role::Moderator),
            ("admin", ADMIN, Role::Admin),
        ],
        ..Setup::default()
    }
    .spawn()
    .await
}

fn target_of<'a>(list: &'a Value, name: &str) -> &'a Value {
    let all = list["targets"].as_array().unwrap();
    all.iter().find(|t| t["name"] == name).unwrap()
}

async fn submit(s: &TestApp, id: &str, text: &str, article: &str) -> Value {
    let body = json!({"id": id, "text": text, "article_id": article, "lang": "fr"});
    let r = s.submit(SCORER, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

#[tokio::test]
async fn targets_are_created_listed_and_refused_clearly() {
    let s = service(AppConfig::default()).await;
    let r = s
        .create_target(MODERATOR, "velo-urbain", "Les pistes cyclables en ville")
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["learned"], false);
    assert_eq!(r.json()["created_by"], "editor");

    let again = s.create_target(MODERATOR, "velo-urbain", "encore").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["error"]["code"], "target_exists");
    for bad in ["Vélo Urbain", "", "a b", &"x".repeat(65)] {
        let r = s.create_target(MODERATOR, bad, "description").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert_eq!(r.json()["error"]["code"], "invalid_target_name", "{bad:?}");
    }
    let r = s.create_target(MODERATOR, "vide", "  ").await;
    assert_eq!(r.json()["error"]["code"], "invalid_description");
    let r = s.create_target(SCORER, "scorer-target", "no").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = s
        .attach_articles(MODERATOR, "velo-urbain", &["art-1", "art-2"])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["articles"], json!(["art-1", "art-2"]));
    let r = s.attach_articles(MODERATOR, "absent", &["art-3"]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["code"], "target_not_found");
    let r = s.attach_articles(MODERATOR, "velo-urbain", &[]).await;
    assert_eq!(r.json()["error"]["code"], "invalid_articles");

    let list = s.targets(MODERATOR).await.json();
    assert_eq!(list["min_labels_per_class"], SITE_TARGET_MIN_LABELS);
    let t = target_of(&list, "velo-urbain");
    assert_eq!(t["description"], "Les pistes cyclables en ville");
    assert_eq!(t["labels"], json!({"favor": 0, "against": 0, "none": 0}));
    assert_eq!(t["needed"], json!({"favor": 30, "against": 30, "none": 30}));
}

#[tokio::test]
async fn a_comment_for_an_attached_article_waits_for_its_target_to_be_learned() {
    let s = service(AppConfig::default()).await;
    s.create_target(MODERATOR, "velo-urbain", "Les pistes cyclables")
        .await;
    s.attach_articles(MODERATOR, "velo-urbain", &["art-1"])
        .await;

    let c = submit(
        &s,
        "c1",
        "Enfin des pistes cyclables, bravo la mairie",
        "art-1",
    )
    .await;
    assert_eq!(c["target"], "velo-urbain");
    assert_eq!(
        c["stance"],
        Value::Null,
        "no stance toward the model's default target"
    );
    assert_eq!(c["stance_state"], "not_yet_learned");
    // Named by the client: the same, by its name as people write it.
    let body =
        json!({"id": "c2", "text": "Les vélos partout, quelle horreur", "target": "Velo urbain"});
    let c = s.submit(SCORER, &body).await.json();
    assert_eq!(
        (c["target"].clone(), c["stance_state"].clone()),
        (json!("velo-urbain"), json!("not_yet_learned"))
    );
    // A target neither the model nor the site knows is still refused.
    let body = json!({"text": "Bonjour", "target": "inconnue"});
    let r = s.submit(SCORER, &body).await;
    assert_eq!(r.json()["error"]["code"], "unknown_target");
    // Another article keeps the model's default target.
    let c = submit(&s, "c3", "Le gouvernement ment encore", "art-9").await;
    assert_eq!(
        (c["target"].clone(), c["stance_state"].clone()),
        (json!("gouvernement"), json!("scored"))
    );

    // The teach order puts the waiting comments among its first picks.
    let q = s.queue(MODERATOR, "order=informative&limit=4").await.json();
    let ids: Vec<&str> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"c1") && ids.contains(&"c2"), "{ids:?}");

    // A stance label toward the not-yet-learned target is accepted and exported with it.
    let version =
        s.get("/v1/comments/c1").key(MODERATOR).send().await.json()["comment"]["version"].clone();
    let r = s
        .decide(
            MODERATOR,
            "c1",
            &json!({"action": "approve", "version": version, "labels": {"stance": "favor"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let labels = site_labels(s.store().as_ref()).await.unwrap();
    let record = &labels.iter().find(|l| l.record.id == "c1").unwrap().record;
    assert_eq!(record.target, Some(Target::parse("velo-urbain").unwrap()));
    assert_eq!(record.labels.stance, Some(Stance::Favor));
    let t = target_of(&s.targets(MODERATOR).await.json(), "velo-urbain").clone();
    assert_eq!(
        (t["labels"]["favor"].clone(), t["needed"]["favor"].clone()),
        (json!(1), json!(29))
    );

    // The page's card says so.
    let cookie = s.sign_in(MODERATOR).await;
    let page = s
        .get("/moderation/comments/c2")
        .cookie(&cookie)
        .send()
        .await
        .text();
    assert!(page.contains("stance: not yet learned"), "{page}");
}

#[tokio::test]
async fn the_targets_tab_creates_and_attaches() {
    let s = service(AppConfig::default()).await;
    let cookie = s.sign_in(MODERATOR).await;
    let origin = s.address.clone();
    let post = |uri: &str, form: &str| {
        s.call(Method::POST, uri)
            .cookie(&cookie)
            .header("origin", &origin)
            .form(form)
    };
    let r = post(
        "/moderation/targets",
        "name=tram&description=Le+tram+%3Cb%3E",
    )
    .send()
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.location().starts_with("/moderation/targets?notice="));
    let r = post(
        "/moderation/targets/tram/articles",
        "articles=art-5%2C+art-6",
    )
    .send()
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = post("/moderation/targets", "name=Bad+Name&description=x")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Cross-site posts are refused as the other forms' are.
    let r = s
        .call(Method::POST, "/moderation/targets")
        .cookie(&cookie)
        .header("origin", "https://evil.example")
        .form("name=evil&description=x")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let page = s.get("/moderation/targets").cookie(&cookie).send().await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("Le tram &#60;b&#62;") || html.contains("Le tram &lt;b&gt;"),
        "escaped: {html}"
    );
    assert!(html.contains("art-5") && html.contains("art-6") && html.contains("not yet learned"));
    assert!(html.contains("favor 0 (needs 30)"));
    let list = s.targets(MODERATOR).await.json();
    assert_eq!(
        target_of(&list, "tram")["articles"],
        json!(["art-5", "art-6"])
    );
    // Strangers are sent to sign in.
    let r = s.get("/moderation/targets").send().await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

/// Texts of each stance toward cycle lanes, numbered so none repeats.
fn stance_text(stance: Stance, i: usize) -> String {
    match stance {
        Stance::Favor => {
            format!("Bravo pour les pistes cyclables, le vélo en ville c'est génial ({i})")
        }
        Stance::Against => {
            format!("Les pistes cyclables sont une catastrophe, rendez-nous la route ({i})")
        }
        Stance::None => {
            format!("Quelqu'un sait à quelle heure ouvre le marché demain matin ? ({i})")
        }
    }
}

/// Labels the comment `id` (under `art-1`) with `stance` through the decision API.
async fn label_stance(s: &TestApp, id: &str, text: &str, stance: Stance) {
    let c = submit(s, id, text, "art-1").await;
    assert_eq!(c["stance_state"], "not_yet_learned");
    let body = json!({"action": "approve", "version": c["version"], "labels": {"stance": stance.as_str()}});
    let r = s.decide(MODERATOR, id, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn a_new_target_from_creation_to_its_first_scored_comment() {
    let dir = TempDir::new("targets-e2e");
    let corpus = common::files::path("training/corpus.jsonl");
    let config = AppConfig {
        models_dir: Some(dir.path().join("models")),
        retrain: Some(RetrainConfig {
            base: crate::retrain::base(&corpus),
            threads: 2,
            low_priority: true,
            every: None,
            after_labels: None,
        }),
        ..AppConfig::default()
    };
    let s = service(config).await;
    s.create_target(MODERATOR, "velo-urbain", "Les pistes cyclables")
        .await;
    s.attach_articles(MODERATOR, "velo-urbain", &["art-1"])
        .await;

    // 30 comments of each stance but one, labelled through the decision API.
    let n = SITE_TARGET_MIN_LABELS;
    for (k, stance) in Stance::ALL.into_iter().enumerate() {
        for i in (0..n).filter(|&i| (k, i) != (1, n - 1)) {
            label_stance(&s, &format!("s{k}-{i}"), &stance_text(stance, i), stance).await;
        }
    }
    let t = target_of(&s.targets(MODERATOR).await.json(), "velo-urbain").clone();
    assert_eq!(t["needed"], json!({"favor": 0, "against": 1, "none": 0}));
    // One short: the retraining fits no head for it, and with nothing to judge or to gain,
    // the champion stays.
    let first = crate::retrain::retrained(&s, ADMIN).await;
    assert_eq!(first["promoted"], false, "{first}");
    let reasons = &first["comparison"]["verdict"]["reasons"];
    assert_eq!(reasons[0]["reason"], "nothing_judged", "{first}");
    let t = target_of(&s.targets(MODERATOR).await.json(), "velo-urbain").clone();
    assert_eq!(t["learned"], false);

    // The thirtieth: the next retraining fits the head and promotes the challenger.
    let last = stance_text(Stance::Against, n - 1);
    label_stance(&s, &format!("s1-{}", n - 1), &last, Stance::Against).await;
    let second = crate::retrain::retrained(&s, ADMIN).await;
    assert_eq!(second["promoted"], true, "{second}");
    // A new target's labels cannot be judged, so all of them trained.
    let cmp = &second["comparison"];
    assert_eq!(
        (&cmp["trained_on"], &cmp["held_out"]),
        (&json!(90), &json!(0))
    );
    let list = s.targets(MODERATOR).await.json();
    assert_eq!(target_of(&list, "velo-urbain")["learned"], true, "{list}");

    let c = submit(
        &s,
        "first-scored",
        &stance_text(Stance::Against, 99),
        "art-1",
    )
    .await;
    assert_eq!(c["target"], "velo-urbain");
    assert_eq!(c["stance_state"], "scored");
    assert_eq!(c["stance"]["target"], "velo-urbain");
    assert!(c["stance"]["label"].is_string(), "{c}");
}
