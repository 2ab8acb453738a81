//! The moderator's page without a browser: sign-in and sessions, escaping, forms that work
//! without JavaScript, bulk actions, history, security headers. (`tests/browser.rs` drives
//! it in Chromium.)

use axum::http::{header, Method, StatusCode};
use serde_json::json;
use vigie::domain::Role;
use vigie::http::auth::Access;
use vigie::policy::Policy;

use crate::helpers::{Reply, Setup, TestApp};

const MODERATOR: &str = "vg_ui_moderator";
const SCORER: &str = "vg_ui_scorer";
const HOLD_ALL: &str = "[heads.toxicity]\nreject = 1.0\n[heads.insult]\nreject = 1.0\n[heads.threat]\nreject = 1.0\n[heads.identity_attack]\nreject = 1.0\n[heads.profanity]\nreject = 1.0\n";

async fn state() -> TestApp {
    Setup {
        policy: Policy::from_toml(HOLD_ALL).unwrap(),
        keys: vec![
            ("ana", MODERATOR, Role::Moderator),
            ("site", SCORER, Role::Scorer),
        ],
        ..Setup::default()
    }
    .spawn()
    .await
}

/// A signed-in moderator's GET of a page.
async fn page(s: &TestApp, uri: &str, cookie: &str) -> Reply {
    send(s, Method::GET, uri, Some(cookie), None, &[]).await
}

async fn send(
    s: &TestApp,
    method: Method,
    uri: &str,
    cookie: Option<&str>,
    form: Option<&str>,
    extra: &[(&str, &str)],
) -> Reply {
    let mut call = s.call(method, uri);
    if let Some(c) = cookie {
        call = call.cookie(c);
    }
    for (k, v) in extra {
        call = call.header(k, v);
    }
    match form {
        Some(f) => call.form(f),
        None => call,
    }
    .send()
    .await
}

async fn submit(s: &TestApp, id: &str, text: &str) {
    let body = json!({"id": id, "text": text, "article_id": "a1", "author": "jarod"});
    assert_eq!(s.submit(SCORER, &body).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn sign_in_needs_a_moderator_key_and_pages_need_a_session() {
    let s = state().await;
    let r = send(&s, Method::GET, "/moderation", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("name=\"key\"") && r.text().contains("type=\"password\""));
    for bad in ["key=nope", &format!("key={SCORER}")] {
        let r = send(&s, Method::POST, "/moderation/login", None, Some(bad), &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.headers.get(header::SET_COOKIE).is_none());
        assert!(r.text().contains("not a moderator key"));
    }
    // Every page that needs a session sends strangers to the sign-in page.
    let pages = vigie::http::routes::ROUTES
        .iter()
        .filter(|r| matches!(r.access, Access::Page | Access::Session));
    for route in pages {
        let (method, path) = (&route.method, route.path);
        let needs = route.access == Access::Session;
        let uri = path.replace("{id}", "x");
        let r = send(
            &s,
            method.clone(),
            &uri,
            None,
            if *method == Method::POST {
                Some("")
            } else {
                None
            },
            &[],
        )
        .await;
        if needs {
            assert_eq!(
                (r.status, r.location()),
                (StatusCode::SEE_OTHER, "/moderation"),
                "{method} {path}"
            );
        } else {
            assert_ne!(r.location(), "/moderation", "{method} {path}");
        }
        let r = send(
            &s,
            method.clone(),
            &uri,
            Some("vigie_session=forged"),
            None,
            &[],
        )
        .await;
        if needs {
            assert_eq!(r.location(), "/moderation", "{method} {path}");
        }
    }
    let cookie = s.sign_in(MODERATOR).await;
    let r = page(&s, "/moderation/queue", &cookie).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("ana"));
    let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    // Signing out ends the session on the server, not only in the browser.
    let r = send(
        &s,
        Method::POST,
        "/moderation/logout",
        Some(&cookie),
        Some(""),
        &[],
    )
    .await;
    assert!(r.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let r = page(&s, "/moderation/queue", &cookie).await;
    assert_eq!(r.location(), "/moderation");
    // Revoking the key ends its sessions.
    let cookie = s.sign_in(MODERATOR).await;
    s.store().revoke_key("ana", 1).await.unwrap();
    let r = page(&s, "/moderation/queue", &cookie).await;
    assert_eq!(r.location(), "/moderation");
}

#[tokio::test]
async fn user_text_is_escaped_everywhere() {
    let s = state().await;
    let attacks = [
        ("x1", "<script>window.__pwned=1</script> connard"),
        (
            "x2",
            "\" onmouseover=\"window.__pwned=1\" x=\" bande de crétins",
        ),
        ("x3", "<img src=x onerror=alert(1)> abruti"),
    ];
    for (id, text) in attacks {
        submit(&s, id, text).await;
    }
    let cookie = s.sign_in(MODERATOR).await;
    for uri in [
        "/moderation/queue",
        "/moderation/comments/x1",
        "/moderation/comments/x2",
        "/moderation/comments/x3",
    ] {
        let r = page(&s, uri, &cookie).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        for raw in ["<script>window", "<img src=x", "\" onmouseover=\""] {
            assert!(!r.text().contains(raw), "{uri} shows {raw:?} unescaped");
        }
    }
    // The text is shown as written, escaped (highlight marks aside).
    let shown = |html: &str| {
        let mut out = String::new();
        let mut rest = html;
        while let Some(i) = rest.find("<mark") {
            out.push_str(&rest[..i]);
            rest = &rest[i + rest[i..].find('>').unwrap() + 1..];
        }
        out.push_str(rest);
        out.replace("</mark>", "")
            .replace("&#60;", "&lt;")
            .replace("&#62;", "&gt;")
            .replace("&#34;", "&quot;")
    };
    let r = page(&s, "/moderation/comments/x1", &cookie).await;
    assert!(
        shown(&r.text()).contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"),
        "{}",
        r.text()
    );
    let r = page(&s, "/moderation/queue", &cookie).await;
    assert!(
        shown(&r.text()).contains("&quot; onmouseover=&quot;window.__pwned=1&quot;"),
        "{}",
        r.text()
    );
    // Filters typed into the page come back escaped too.
    let r = page(&s, "/moderation/queue?article=%22%3E%3Cscript%3E", &cookie).await;
    assert!(!r.text().contains("\"><script>"));
}

#[tokio::test]
async fn a_card_shows_highlights_scores_stance_author_and_decides_without_javascript() {
    let s = state().await;
    submit(&s, "c1", "Quelle bande de bras cassés").await;
    submit(&s, "c2", "Ce gouvernement de guignols nous ment").await;
    submit(&s, "c3", "Espèce de crétin").await;
    let cookie = s.sign_in(MODERATOR).await;
    let r = page(&s, "/moderation/queue", &cookie).await;
    let b = &r.text();
    // "bande" is highlighted, titled with the flagged heads it pushed up.
    let mark = b
        .split("<mark title=\"")
        .find(|m| m.contains("\">bande</mark>"))
        .unwrap_or_else(|| panic!("no highlight on \"bande\": {b}"));
    let heads = &mark[..mark.find('"').unwrap()];
    assert!(
        heads.contains("insult") && heads.contains("toxicity"),
        "{heads}"
    );
    assert!(b.contains("<meter") && b.contains("class=\"flagged\""));
    assert!(b.contains("stance-against"));
    assert!(b.contains(">jarod</a>") && b.contains("% rejected of 3"));
    assert!(b.contains("pending <span class=\"count\">3</span>"));

    // Reject c1 with a reason, by the plain form.
    let r = send(
        &s,
        Method::POST,
        "/moderation/comments/c1/decision",
        Some(&cookie),
        Some("action=reject&version=1&reason=insulte&return_to=%2Fmoderation%2Fqueue"),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.location().starts_with("/moderation/queue?notice=c1"),
        "{}",
        r.location()
    );
    let (c, events) = s.store().get("c1").await.unwrap().unwrap();
    assert_eq!(c.status.as_str(), "rejected");
    assert_eq!(events.last().unwrap().reason.as_deref(), Some("insulte"));
    // A stale form changes nothing and says so.
    let r = send(
        &s,
        Method::POST,
        "/moderation/comments/c1/decision",
        Some(&cookie),
        Some("action=approve&version=1"),
        &[],
    )
    .await;
    assert!(
        r.location().contains("changed%20meanwhile") || r.location().contains("changed+meanwhile"),
        "{}",
        r.location()
    );
    assert_eq!(
        s.store()
            .get("c1")
            .await
            .unwrap()
            .unwrap()
            .0
            .status
            .as_str(),
        "rejected"
    );

    // Bulk-approve c2 and c3.
    let r = send(
        &s,
        Method::POST,
        "/moderation/bulk",
        Some(&cookie),
        Some("item=c2%3A1&item=c3%3A1&action=approve&return_to=%2Fmoderation%2Fqueue"),
        &[],
    )
    .await;
    assert!(
        r.location().contains("notice=2%20approved") || r.location().contains("notice=2+approved"),
        "{}",
        r.location()
    );
    let counts = s.store().counts().await.unwrap();
    assert_eq!(
        (counts["pending"], counts["approved"], counts["rejected"]),
        (0, 2, 1)
    );

    // Filters and tabs.
    let r = page(&s, "/moderation/queue?status=rejected", &cookie).await;
    assert!(r.text().contains("id=\"c-c1\"") && !r.text().contains("id=\"c-c2\""));
    let r = page(
        &s,
        "/moderation/queue?status=approved&head=insult&min=0.99",
        &cookie,
    )
    .await;
    assert!(r.text().contains("Nothing here."));
    let r = page(&s, "/moderation/queue?min=abc", &cookie).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The detail page has the history.
    let r = page(&s, "/moderation/comments/c1", &cookie).await;
    assert!(
        r.text().contains("<td>submitted</td>")
            && r.text().contains("<td>reject</td>")
            && r.text().contains("<td>insulte</td>")
    );
    let r = page(&s, "/moderation/comments/nope", &cookie).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Forms posted from another site are refused.
    let r = send(
        &s,
        Method::POST,
        "/moderation/comments/c2/decision",
        Some(&cookie),
        Some("action=reject&version=2"),
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // And a return address elsewhere is ignored.
    let r = send(
        &s,
        Method::POST,
        "/moderation/comments/c2/decision",
        Some(&cookie),
        Some("action=reject&version=2&return_to=https%3A%2F%2Fevil.example"),
        &[],
    )
    .await;
    assert!(
        r.location().starts_with("/moderation/queue?notice="),
        "{}",
        r.location()
    );
}

#[tokio::test]
async fn pages_link_forward_and_back() {
    let s = state().await;
    for i in 0..30 {
        submit(
            &s,
            &format!("p{i:02}"),
            &format!("Bande de nuls numéro {i}"),
        )
        .await;
    }
    let cookie = s.sign_in(MODERATOR).await;
    let first = page(&s, "/moderation/queue", &cookie).await;
    assert_eq!(first.text().matches("class=\"card\"").count(), 25);
    let next = first
        .text()
        .split("rel=\"next\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let second = page(&s, &next, &cookie).await;
    assert_eq!(second.text().matches("class=\"card\"").count(), 5);
    assert!(!second.text().contains("rel=\"next\""));
    let prev = second
        .text()
        .split("rel=\"prev\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let back = page(&s, &prev, &cookie).await;
    assert_eq!(back.text().matches("class=\"card\"").count(), 25);
}

/// What the API refuses, the page refuses too, before anything is decided: a NUL in the
/// reason, a control character in the return address.
#[tokio::test]
async fn forms_with_a_nul_reason_or_a_control_character_decide_nothing() {
    let s = state().await;
    submit(&s, "f1", "Quelle bande de bras cassés").await;
    let cookie = s.sign_in(MODERATOR).await;
    for (form, says) in [
        ("action=reject&version=1&reason=a%00b", "NUL"),
        (
            "action=reject&version=1&return_to=%2Fmoderation%2Fqueue%0D%0AX-Evil%3A%201",
            "control character",
        ),
    ] {
        let r = send(
            &s,
            Method::POST,
            "/moderation/comments/f1/decision",
            Some(&cookie),
            Some(form),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{form}");
        assert!(r.text().contains(says), "{}", r.text());
        let bulk = format!("item=f1%3A1&{form}");
        let r = send(
            &s,
            Method::POST,
            "/moderation/bulk",
            Some(&cookie),
            Some(&bulk),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bulk}");
        let (c, events) = s.store().get("f1").await.unwrap().unwrap();
        assert_eq!((c.status.as_str(), events.len()), ("pending", 1), "{form}");
    }
}

/// `.` and `..` are path segments: a comment with such an id could never be decided from its
/// card, so it is refused at submission.
#[tokio::test]
async fn dot_ids_are_refused_at_submission() {
    let s = state().await;
    for id in [".", ".."] {
        let r = s
            .submit(SCORER, &json!({"id": id, "text": "Bonjour"}))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{id:?}");
    }
}
