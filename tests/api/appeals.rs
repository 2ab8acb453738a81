//! Appeals (DSA Art. 20) on both backends: a comment walked from submission through an
//! automated reject, its statement, the author's appeal, the same moderator refused and a
//! second one's reversal, to the outcome at the author's link and the training label; the
//! refusals (no token, a wrong one, an empty or too long text, a second appeal, a decided
//! appeal); an upheld appeal of a comment withheld for review; nothing of a moderator shown
//! to the author; and the author's page with its form.

use axum::http::StatusCode;
use serde_json::{json, Value};
use vigie::domain::Role;
use vigie::policy::Policy;

use crate::helpers::{on_both_backends, Reply, Setup, TestApp};

const SCORER: &str = "vg_appeal_scorer";
const ANA: &str = "vg_appeal_ana_key";
const BOB: &str = "vg_appeal_bob_key";
const ADMIN: &str = "vg_appeal_admin";
const ANA_NAME: &str = "ana-moderatrice";
const BOB_NAME: &str = "bob-moderateur";

/// Every comment held for review (toxicity flags at 0), an insult over 0.5 rejected.
const POLICY: &str = "[heads.toxicity]\nflag = 0.0\nreject = 1.0\n[heads.insult]\nreject = 0.5\n";
const INSULT: &str = "Espèce de c0nnard, tu es un idiot fini";
const CIVIL: &str = "Merci pour cet article très clair sur le budget.";

fn setup() -> Setup {
    Setup {
        policy: Policy::from_toml(POLICY).unwrap(),
        keys: vec![
            ("site", SCORER, Role::Scorer),
            (ANA_NAME, ANA, Role::Moderator),
            (BOB_NAME, BOB, Role::Moderator),
            ("root", ADMIN, Role::Admin),
        ],
        ..Setup::default()
    }
}

/// Submits a comment; returns its status and statement token.
async fn submit(s: &TestApp, id: &str, text: &str) -> (String, String) {
    let body = json!({"id": id, "text": text, "author": format!("author-{id}"), "lang": "fr"});
    let r = s.submit(SCORER, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let j = r.json();
    (
        j["status"].as_str().unwrap().to_owned(),
        j["statement_token"].as_str().unwrap().to_owned(),
    )
}

fn error(r: &Reply) -> (StatusCode, String) {
    (
        r.status,
        r.json()["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

/// The open appeal of comment `id` in the moderators' queue.
async fn queued(s: &TestApp, id: &str) -> Value {
    let r = s.appeals(BOB, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let items = r.json()["items"].as_array().unwrap().clone();
    items
        .into_iter()
        .find(|a| a["comment"]["id"] == id)
        .unwrap_or_else(|| panic!("no open appeal of {id}"))
}

#[tokio::test]
async fn an_automated_reject_is_appealed_and_reversed_by_a_human_on_both_backends() {
    for (backend, s, schema) in on_both_backends(setup, "appeals").await {
        automated_reject_reversed(backend, &s).await;
        human_decision_needs_another_moderator(backend, &s).await;
        withheld_comment_appeal_upheld(backend, &s).await;
        transparency_counts(backend, &s).await;
        // After the counts, which it would change.
        approved_since_cannot_be_upheld(backend, &s).await;
        drop(s);
        if let Some(schema) = schema {
            schema.drop().await;
        }
    }
}

async fn automated_reject_reversed(backend: &str, s: &TestApp) {
    let (status, token) = submit(s, "ap-auto", INSULT).await;
    assert_eq!(status, "rejected", "{backend}");
    let st = s.statement_with_token("ap-auto", &token).await.json();
    assert_eq!(st["decided_by"], "automated", "{st}");
    assert_eq!(st["appeal"], Value::Null);

    // The refusals, each with its code.
    let no_token = s
        .post("/v1/comments/ap-auto/appeal")
        .json(&json!({"text": "x"}));
    let r = no_token.send().await;
    assert_eq!(error(&r), (StatusCode::FORBIDDEN, "missing_token".into()));
    let r = s
        .appeal("ap-auto", "st_wrong", "Ce n'est pas une insulte.")
        .await;
    assert_eq!(
        error(&r),
        (StatusCode::NOT_FOUND, "comment_not_found".into())
    );
    let r = s.appeal("ap-auto", &token, "   ").await;
    assert_eq!(
        error(&r),
        (StatusCode::UNPROCESSABLE_ENTITY, "empty_text".into())
    );
    let r = s.appeal("ap-auto", &token, &"a".repeat(2001)).await;
    assert_eq!(
        error(&r),
        (StatusCode::UNPROCESSABLE_ENTITY, "text_too_long".into())
    );

    let r = s
        .appeal("ap-auto", &token, "Je citais le titre d'un film.")
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{backend} {}", r.text());
    assert_eq!(r.json()["status"], "open");
    let again = s.appeal("ap-auto", &token, "Encore.").await;
    assert_eq!(
        error(&again),
        (StatusCode::CONFLICT, "already_appealed".into())
    );

    assert_eq!(s.store().open_appeals().await.unwrap(), 1, "{backend}");
    // The moderators' queue marks the decision as automated: any human may decide it.
    let a = queued(s, "ap-auto").await;
    assert_eq!(
        (&a["automated"], &a["decided_by"]),
        (&json!(true), &Value::Null)
    );
    assert_eq!(a["text"], "Je citais le titre d'un film.");
    assert_eq!(
        s.appeals(SCORER, "").await.status,
        StatusCode::FORBIDDEN,
        "a scorer key sees no appeal"
    );
    let id = a["id"].as_i64().unwrap();
    let r = s.decide_appeal(ANA, id, "overturned", "").await;
    assert_eq!(
        error(&r),
        (StatusCode::UNPROCESSABLE_ENTITY, "empty_text".into())
    );
    let r = s
        .decide_appeal(
            ANA,
            id,
            "overturned",
            "Citation d'un titre, pas une insulte.",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{backend} {}", r.text());
    assert_eq!(r.json()["comment"]["status"], "approved");
    assert_eq!(r.json()["decision"]["moderator"], ANA_NAME);
    assert_eq!(s.store().open_appeals().await.unwrap(), 0, "{backend}");
    let twice = s.decide_appeal(BOB, id, "upheld", "Non.").await;
    assert_eq!(
        error(&twice),
        (StatusCode::CONFLICT, "appeal_decided".into())
    );

    // The author sees the outcome at the same link, and no moderator.
    let r = s.statement_with_token("ap-auto", &token).await;
    assert_eq!(r.status, StatusCode::OK, "{backend} {}", r.text());
    let ap = &r.json()["appeal"];
    assert_eq!(
        (&ap["status"], &ap["reason"], &ap["decided_by"]),
        (
            &json!("overturned"),
            &json!("Citation d'un titre, pas une insulte."),
            &json!("moderator")
        ),
        "{}",
        r.text()
    );
    for leak in [ANA_NAME, ANA, BOB_NAME, BOB] {
        assert!(!r.text().contains(leak), "{leak:?} in {}", r.text());
    }

    // The history holds the appeal and the decision, appended.
    let h = s.comment(ANA, "ap-auto").await.json();
    let actions: Vec<&str> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["submitted", "appealed", "approve"], "{h}");
    let last = &h["history"][2];
    assert!(
        last["reason"]
            .as_str()
            .unwrap()
            .starts_with("appeal overturned"),
        "{last}"
    );

    // The reversal is a training label: the heads that fired were wrong.
    let r = s.export_labels(ADMIN).await;
    assert_eq!(r.status, StatusCode::OK);
    let line: Value = r
        .text()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| l["id"] == "ap-auto")
        .expect("a label for the overturned comment");
    assert_eq!(line["labels"]["insult"], 0, "{line}");
    assert_eq!(
        (&line["action"], &line["by"]),
        (&json!("approve"), &json!(ANA_NAME))
    );
}

async fn human_decision_needs_another_moderator(backend: &str, s: &TestApp) {
    let (status, token) = submit(s, "ap-human", CIVIL).await;
    assert_eq!(status, "pending", "{backend}");
    let d = s
        .decide(
            ANA,
            "ap-human",
            &json!({"action": "reject", "version": 1, "ground": "incivility"}),
        )
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    let r = s
        .appeal("ap-human", &token, "Mon commentaire est poli.")
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let a = queued(s, "ap-human").await;
    assert_eq!(
        (&a["automated"], &a["decided_by"]),
        (&json!(false), &json!(ANA_NAME))
    );
    let id = a["id"].as_i64().unwrap();

    let same = s.decide_appeal(ANA, id, "upheld", "Je maintiens.").await;
    assert_eq!(
        error(&same),
        (StatusCode::CONFLICT, "same_moderator".into())
    );
    assert!(same.text().contains("another moderator"), "{}", same.text());
    let pending = s.statement_with_token("ap-human", &token).await.json();
    assert_eq!(
        pending["appeal"]["status"], "open",
        "refused changes nothing"
    );

    let r = s
        .decide_appeal(BOB, id, "overturned", "Poli et sur le sujet.")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{backend} {}", r.text());
    assert_eq!(r.json()["comment"]["status"], "approved");
    let open = s.appeals(BOB, "").await.json();
    assert!(
        !open.to_string().contains("ap-human"),
        "decided appeals leave the open queue: {open}"
    );
    let all = s.appeals(BOB, "status=all").await.json();
    assert!(all.to_string().contains("ap-human"), "{all}");
}

/// A comment approved from the queue while its appeal waits: the appeal cannot restrict it
/// again, and overturning it closes the appeal with the comment still approved.
async fn approved_since_cannot_be_upheld(backend: &str, s: &TestApp) {
    let (_, token) = submit(s, "ap-since", CIVIL).await;
    let reject = json!({"action": "reject", "version": 1, "ground": "incivility"});
    let d = s.decide(ANA, "ap-since", &reject).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    let r = s
        .appeal("ap-since", &token, "Ce commentaire est poli.")
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let approve = json!({"action": "approve", "version": 2});
    let d = s.decide(BOB, "ap-since", &approve).await;
    assert_eq!(d.status, StatusCode::OK, "{backend} {}", d.text());
    let id = queued(s, "ap-since").await["id"].as_i64().unwrap();

    let upheld = s.decide_appeal(ANA, id, "upheld", "Je maintiens.").await;
    assert_eq!(
        error(&upheld),
        (StatusCode::CONFLICT, "appeal_overtaken".into()),
        "{backend}"
    );
    let open = s.appeals(BOB, "").await.json();
    assert!(open.to_string().contains("ap-since"), "still open: {open}");

    let r = s
        .decide_appeal(ANA, id, "overturned", "Déjà approuvé.")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{backend} {}", r.text());
    assert_eq!(r.json()["comment"]["status"], "approved");
}

async fn withheld_comment_appeal_upheld(backend: &str, s: &TestApp) {
    let (status, token) = submit(s, "ap-held", CIVIL).await;
    assert_eq!(status, "pending", "{backend}");
    let r = s
        .appeal("ap-held", &token, "Pourquoi est-il retenu ?")
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = queued(s, "ap-held").await["id"].as_i64().unwrap();
    let r = s.decide_appeal(ANA, id, "upheld", "Hors sujet.").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["comment"]["status"], "rejected");
    let st = s.statement_with_token("ap-held", &token).await.json();
    assert_eq!(
        (
            &st["restriction"],
            &st["decided_by"],
            &st["appeal"]["status"]
        ),
        (&json!("removed"), &json!("moderator"), &json!("upheld")),
        "{st}"
    );

    // The author's page: the outcome, in English, and nothing of the moderator.
    let page = s
        .get(&format!("/statements/ap-held?token={token}&lang=en"))
        .send()
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("rejected: the decision stands"), "{html}");
    assert!(html.contains("Hors sujet."), "{html}");
    assert!(!html.contains(ANA_NAME));
}

/// The walk above, counted: three automated restrictions, four moderator decisions, three
/// appeals of which two of automated decisions, one of them overturned.
async fn transparency_counts(backend: &str, s: &TestApp) {
    let period = "from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z";
    let r = s.get(&format!("/v1/transparency?{period}")).send().await;
    assert_eq!(r.status, StatusCode::OK, "{backend} {}", r.text());
    let t = r.json();
    let d = &t["decisions"];
    assert_eq!(
        (
            &d["automated"],
            &d["automated_removed"],
            &d["automated_withheld"]
        ),
        (&json!(3), &json!(1), &json!(2)),
        "{backend} {t}"
    );
    assert_eq!(
        (&d["human"], &d["human_removed"], &d["human_approved"]),
        (&json!(4), &json!(2), &json!(2)),
        "{backend} {t}"
    );
    let restrictions: u64 = d["by_ground"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(restrictions, 5, "{t}");
    assert!(d["median_seconds_to_human_decision"].is_number(), "{t}");
    let a = &t["appeals"];
    assert_eq!(
        (&a["filed"], &a["upheld"], &a["overturned"]),
        (&json!(3), &json!(1), &json!(2)),
        "{backend} {t}"
    );
    assert_eq!(a["automated_overturn_rate"], 0.5, "{t}");
    for leak in [ANA_NAME, BOB_NAME, "ap-auto", INSULT] {
        assert!(!r.text().contains(leak), "{leak:?} in {t}");
    }
    let empty = s
        .get("/v1/transparency?from=2001-01-01T00:00:00Z&to=2001-02-01T00:00:00Z")
        .send()
        .await
        .json();
    assert_eq!(empty["appeals"]["filed"], 0, "{empty}");
    let bad = s
        .get("/v1/transparency?from=2001-02-01T00:00:00Z&to=2001-01-01T00:00:00Z")
        .send()
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let page = s.get(&format!("/transparency?{period}")).send().await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("1 of 2 (50.0 %)"), "{}", page.text());
}

#[tokio::test]
async fn the_author_appeals_from_the_statement_page() {
    let s = setup().spawn().await;
    let (_, token) = submit(&s, "ap-page", INSULT).await;
    let page = s
        .get(&format!("/statements/ap-page?token={token}&lang=fr"))
        .send()
        .await;
    let html = page.text();
    assert!(
        html.contains("action=\"/statements/ap-page/appeal\""),
        "{html}"
    );

    let form = format!("token={token}&lang=fr&text=C%27est+une+citation.");
    let r = s
        .post("/statements/ap-page/appeal")
        .form(&form)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.location().contains(&token), "{}", r.location());
    let html = s
        .get(&format!("/statements/ap-page?token={token}&lang=fr"))
        .send()
        .await
        .text();
    assert!(html.contains("en cours d&#39;examen"), "{html}");
    assert!(html.contains("C&#39;est une citation."), "{html}");
    assert!(!html.contains("<textarea"), "no second form: {html}");

    // Again: refused, and the page says so.
    let r = s
        .post("/statements/ap-page/appeal")
        .form(&form)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("already been appealed"), "{}", r.text());
    // A wrong token: no statement, no appeal.
    let bad = "token=st_nope&text=x";
    let r = s.post("/statements/ap-page/appeal").form(bad).send().await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let stored = s.store().appeal_of("ap-page").await.unwrap().unwrap();
    assert_eq!(stored.text, "C'est une citation.");
}

#[tokio::test]
async fn the_appeals_tab_lists_and_decides_appeals() {
    let s = setup().spawn().await;
    let (_, token) = submit(&s, "ap-tab", CIVIL).await;
    let d = s
        .decide(ANA, "ap-tab", &json!({"action": "reject", "version": 1}))
        .await;
    assert_eq!(d.status, StatusCode::OK);
    let r = s.appeal("ap-tab", &token, "Merci de relire.").await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = queued(&s, "ap-tab").await["id"].as_i64().unwrap();

    let ana = s.sign_in(ANA).await;
    let page = s.get("/moderation/appeals").cookie(&ana).send().await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Merci de relire."), "{html}");
    assert!(html.contains(&format!("decided by {ANA_NAME}")), "{html}");
    assert!(html.contains("another moderator must decide"), "{html}");
    let form = "outcome=overturned&reason=Relu.";
    let path = format!("/moderation/appeals/{id}/decision");
    let r = s.post(&path).cookie(&ana).form(form).send().await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.location().contains("another+moderator"),
        "{}",
        r.location()
    );

    let bob = s.sign_in(BOB).await;
    let r = s.post(&path).cookie(&bob).form(form).send().await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().contains("approved"), "{}", r.location());
    let st = s.statement_with_token("ap-tab", &token).await.json();
    assert_eq!(st["appeal"]["status"], "overturned", "{st}");
    let html = s
        .get("/moderation/appeals")
        .cookie(&bob)
        .send()
        .await
        .text();
    assert!(html.contains("No appeal here."), "{html}");
}
