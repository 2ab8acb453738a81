//! Statements of reasons (DSA Art. 17) on both backends: an automated reject, a moderator's
//! reject with its ground, a comment withheld for review, an approved one without any; the
//! author's token view and its refusals (no oracle), nothing of a moderator or of another
//! comment in a statement, the Transparency Database export against the schema written from
//! the Commission's documentation (`tests/fixtures/dsa/statement.schema.json`), and the
//! author's page in French and English.

use axum::http::StatusCode;
use serde_json::{json, Value};
use vigie::domain::Role;
use vigie::policy::Policy;

use crate::common;
use crate::helpers::{on_both_backends, Setup, TestApp};

const SCORER: &str = "vg_sor_scorer";
const MODERATOR: &str = "vg_sor_moderator_key";
const ADMIN: &str = "vg_sor_admin";
/// The moderator's key name: no statement may show it.
const MODERATOR_NAME: &str = "ana-moderatrice";

/// Every comment held for review (toxicity flags at 0), an insult over 0.5 rejected.
const POLICY: &str = "[heads.toxicity]\nflag = 0.0\nreject = 1.0\n[heads.insult]\nreject = 0.5\n";

const INSULT: &str = "Espèce de c0nnard, tu es un idiot fini";
const CIVIL: &str = "Merci pour cet article très clair sur le budget.";

fn setup() -> Setup {
    Setup {
        policy: Policy::from_toml(POLICY).unwrap(),
        keys: vec![
            ("site", SCORER, Role::Scorer),
            (MODERATOR_NAME, MODERATOR, Role::Moderator),
            ("root", ADMIN, Role::Admin),
        ],
        ..Setup::default()
    }
}

/// Submits a comment; returns it with its statement token.
async fn submit(s: &TestApp, id: &str, text: &str) -> Value {
    let body = json!({"id": id, "text": text, "author": format!("author-{id}"), "lang": "fr"});
    let r = s.submit(SCORER, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(common::files::path(
        "tests/fixtures/dsa/statement.schema.json",
    ))
    .unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn assert_valid(v: &jsonschema::Validator, statement: &Value) {
    let errors: Vec<String> = v.iter_errors(statement).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{statement:#}");
}

#[tokio::test]
async fn every_restriction_has_its_statement_on_both_backends() {
    for (backend, s, schema) in on_both_backends(setup, "statements").await {
        check_statements(backend, &s).await;
        drop(s);
        if let Some(schema) = schema {
            schema.drop().await;
        }
    }
}

async fn check_statements(backend: &str, s: &TestApp) {
    let rejected = submit(s, "sor-auto", INSULT).await;
    assert_eq!(rejected["status"], "rejected", "{backend}");
    let token = rejected["statement_token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 32, "{token}");

    // Rejected by threshold: detected and decided by automated means.
    let r = s.statement(MODERATOR, "sor-auto").await;
    assert_eq!(r.status, StatusCode::OK, "{backend} {}", r.text());
    let st = r.json();
    assert_eq!(st["restriction"], "removed");
    assert_eq!(st["restriction_kind"], "visibility");
    assert_eq!(st["decided_by"], "automated");
    assert_eq!(
        (&st["automated_detection"], &st["automated_decision"]),
        (&json!(true), &json!("fully"))
    );
    let heads: Vec<&str> = st["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["head"].as_str().unwrap())
        .collect();
    assert!(heads.contains(&"insult"), "{st}");
    let ground_heads = st["ground"]["heads"].as_array().unwrap();
    assert!(
        ground_heads
            .iter()
            .any(|h| heads.contains(&h.as_str().unwrap())),
        "{st}"
    );
    assert!(
        st["facts"][0]["words"]
            .as_array()
            .is_some_and(|w| !w.is_empty()),
        "{st}"
    );
    // A moderator's view never carries the author's token.
    assert_eq!(st["redress"]["appeal_url"], Value::Null);
    assert!(!r.text().contains(&token));

    // The author's view, with the token and no key: the same statement and the link.
    let mine = s.statement_with_token("sor-auto", &token).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text());
    assert_eq!(mine.json()["restriction"], "removed");
    assert_eq!(
        mine.json()["redress"]["appeal_url"],
        rejected["statement_url"]
    );
    assert!(rejected["statement_url"].as_str().unwrap().contains(&token));

    // Held for review, then rejected by a moderator naming a ground.
    let held = submit(s, "sor-held", CIVIL).await;
    assert_eq!(held["status"], "pending", "{backend}");
    let held_token = held["statement_token"].as_str().unwrap().to_owned();
    let st = s.statement(MODERATOR, "sor-held").await.json();
    assert_eq!(st["restriction"], "withheld_pending_review", "{st}");
    assert_eq!(st["automated_decision"], "fully");

    let bad = s
        .decide(
            MODERATOR,
            "sor-held",
            &json!({"action": "reject", "version": 1, "ground": "rudeness"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["code"], "unknown_ground");
    assert!(
        bad.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("insult"),
        "{}",
        bad.text()
    );
    let ok = s
        .decide(
            MODERATOR,
            "sor-held",
            &json!({"action": "reject", "version": 1, "ground": "threat"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let r = s.statement_with_token("sor-held", &held_token).await;
    let st = r.json();
    assert_eq!(
        (&st["restriction"], &st["ground"]["code"]),
        (&json!("removed"), &json!("threat")),
        "{st}"
    );
    assert_eq!(
        (&st["decided_by"], &st["automated_decision"]),
        (&json!("moderator"), &json!("not"))
    );
    assert_eq!(st["automated_detection"], true, "the model had flagged it");
    // Nothing of the moderator, of another comment or of its token.
    for leak in [MODERATOR_NAME, MODERATOR, "sor-auto", INSULT, &token] {
        assert!(!r.text().contains(leak), "{leak:?} in {}", r.text());
    }

    // Tokens open their own statement only; a wrong one is indistinguishable from a
    // comment that does not exist.
    let crossed = s.statement_with_token("sor-auto", &held_token).await;
    let wrong = s.statement_with_token("sor-auto", "st_0000").await;
    let missing = s.statement_with_token("sor-nothing", &token).await;
    for r in [&crossed, &wrong, &missing] {
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
        assert_eq!(r.json()["error"]["code"], "comment_not_found");
    }

    // Approved: no statement.
    submit(s, "sor-approved", CIVIL).await;
    let d = s
        .decide(
            MODERATOR,
            "sor-approved",
            &json!({"action": "approve", "version": 1}),
        )
        .await;
    assert_eq!(d.status, StatusCode::OK);
    let none = s.statement(MODERATOR, "sor-approved").await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert_eq!(none.json()["error"]["code"], "no_statement");

    // Without a token, a moderator's key: none, wrong, too weak.
    let r = s.get("/v1/comments/sor-auto/statement").send().await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("missing_key"))
    );
    assert_eq!(
        s.statement(SCORER, "sor-auto").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.statement("vg_nope", "sor-auto").await.status,
        StatusCode::UNAUTHORIZED
    );

    // The Transparency Database format, one statement and the export.
    let v = schema();
    let one = s.statement_dsa(MODERATOR, "sor-auto").await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text());
    assert_valid(&v, &one.json());
    assert_eq!(one.json()["automated_decision"], "AUTOMATED_DECISION_FULLY");
    assert_eq!(
        one.json()["decision_visibility"],
        json!(["DECISION_VISIBILITY_CONTENT_REMOVED"])
    );
    let export = s
        .dsa_export(ADMIN, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")
        .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text());
    let all = export.json()["statements"].as_array().unwrap().clone();
    let puids: Vec<&str> = all.iter().map(|st| st["puid"].as_str().unwrap()).collect();
    assert_eq!(puids.len(), 2, "{puids:?}");
    assert!(
        puids.contains(&"sor-auto-removed") && puids.contains(&"sor-held-removed"),
        "{puids:?}"
    );
    for st in &all {
        assert_valid(&v, st);
        assert!(
            !st.to_string().contains("c0nnard"),
            "no words of the comment: {st}"
        );
    }
    let held_dsa = all
        .iter()
        .find(|st| st["puid"] == "sor-held-removed")
        .unwrap();
    assert_eq!(
        held_dsa["automated_decision"],
        "AUTOMATED_DECISION_NOT_AUTOMATED"
    );
    assert_eq!(
        held_dsa["incompatible_content_ground"],
        "Site terms, rule threat"
    );
    let later = s
        .dsa_export(ADMIN, "2100-01-01T00:00:00Z", "2101-01-01T00:00:00Z")
        .await;
    assert_eq!(later.json()["statements"], json!([]));
    assert_eq!(
        s.dsa_export(MODERATOR, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = s
        .dsa_export(ADMIN, "yesterday", "2100-01-01T00:00:00Z")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_withheld_comment_exports_as_another_visibility_restriction() {
    let s = setup().spawn().await;
    submit(&s, "sor-w", CIVIL).await;
    let one = s.statement_dsa(MODERATOR, "sor-w").await.json();
    assert_valid(&schema(), &one);
    assert_eq!(
        one["decision_visibility"],
        json!(["DECISION_VISIBILITY_OTHER"])
    );
    assert_eq!(one["puid"], "sor-w-withheld");
    // The schema itself refuses what the docs refuse.
    let mut broken = one.clone();
    broken["automated_decision"] = json!("Yes");
    assert!(!schema().is_valid(&broken));
    broken = one.clone();
    broken
        .as_object_mut()
        .unwrap()
        .remove("decision_visibility_other");
    assert!(!schema().is_valid(&broken));
}

#[tokio::test]
async fn a_published_comment_has_no_statement_and_a_retry_no_token() {
    let s = Setup {
        keys: vec![
            ("site", SCORER, Role::Scorer),
            (MODERATOR_NAME, MODERATOR, Role::Moderator),
        ],
        ..Setup::default()
    }
    .spawn()
    .await;
    let first = submit(&s, "sor-pub", CIVIL).await;
    assert_eq!(first["status"], "published");
    let r = s.statement(MODERATOR, "sor-pub").await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("no_statement"))
    );
    // The token works for its comment (no statement yet, said plainly to its holder).
    let token = first["statement_token"].as_str().unwrap();
    let r = s.statement_with_token("sor-pub", token).await;
    assert_eq!(r.json()["error"]["code"], "no_statement");
    let again = s
        .submit(
            SCORER,
            &json!({"id": "sor-pub", "text": CIVIL, "author": "author-sor-pub", "lang": "fr"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(
        again.json().get("statement_token").is_none(),
        "{}",
        again.text()
    );
}

#[tokio::test]
async fn the_authors_page_speaks_french_or_english_and_shows_nothing_else() {
    let s = setup().spawn().await;
    let c = submit(&s, "sor-page", INSULT).await;
    let url = c["statement_url"].as_str().unwrap();
    let fr = s.get(url).send().await;
    assert_eq!(fr.status, StatusCode::OK, "{}", fr.text());
    assert!(fr.text().contains("<html lang=\"fr\">"));
    assert!(
        fr.text().contains("Votre commentaire a été refusé"),
        "{}",
        fr.text()
    );
    assert!(
        fr.text().contains("c0nnard"),
        "the words at issue are shown to their author"
    );
    let en = s
        .get(url)
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await;
    assert!(
        en.text().contains("Your comment was refused"),
        "{}",
        en.text()
    );
    let forced = s
        .get(&format!("{url}&lang=fr"))
        .header("accept-language", "en")
        .send()
        .await;
    assert!(forced.text().contains("Exposé des motifs"));
    assert_eq!(fr.headers["cache-control"], "no-store");
    // The moderator's detail page says it in a line, without the token.
    let cookie = s.sign_in(MODERATOR).await;
    let page = s
        .get("/moderation/comments/sor-page")
        .cookie(&cookie)
        .send()
        .await;
    assert!(
        page.text().contains("Statement of reasons: removed, rule "),
        "{}",
        page.text()
    );
    assert!(page
        .text()
        .contains("<option value=\"threat\">threat</option>"));
    assert!(!page.text().contains(c["statement_token"].as_str().unwrap()));
    // The page's decision form names a ground too; an unknown one changes nothing.
    submit(&s, "sor-form", CIVIL).await;
    let form = |ground: &str| {
        format!("action=reject&version=1&ground={ground}&return_to=%2Fmoderation%2Fqueue")
    };
    let post = |body: String| {
        s.post("/moderation/comments/sor-form/decision")
            .cookie(&cookie)
            .form(&body)
            .send()
    };
    assert_eq!(
        post(form("rudeness")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(post(form("hate")).await.status, StatusCode::SEE_OTHER);
    let st = s.statement(MODERATOR, "sor-form").await.json();
    assert_eq!(
        (&st["ground"]["code"], &st["decided_by"]),
        (&json!("hate"), &json!("moderator"))
    );
    let wrong = s.get("/statements/sor-page?token=st_wrong").send().await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert!(!wrong.text().contains("c0nnard"));
}
