//! The author's page of a statement of reasons, `/statements/{id}?token=`, in French or
//! English (`?lang=`, else the browser's `Accept-Language`, else French). Only the holder of
//! the comment's token sees it; any other request gets the same "no statement" page, so the
//! page tells nothing about which comments exist.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::render;
use crate::domain::{AutomatedDecision, DecidedBy, Lang, Statement};
use crate::service::statements::{self, StatementRefused, Texts};
use crate::service::AppState;
use crate::util::rfc3339;

#[derive(Debug, Deserialize)]
pub(crate) struct StatementParams {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

/// The words of the page in one language.
struct Words {
    title: &'static str,
    restriction: &'static str,
    decided: &'static str,
    facts: &'static str,
    no_facts: &'static str,
    words: &'static str,
    ground: &'static str,
    terms: &'static str,
    redress: &'static str,
    appeal: &'static str,
    missing: &'static str,
}

const FR: Words = Words {
    title: "Exposé des motifs",
    restriction: "Restriction",
    decided: "Décision",
    facts: "Faits retenus",
    no_facts: "Aucun score automatique n'a dépassé les seuils du site.",
    words: "mots en cause",
    ground: "Motif",
    terms: "Règle de la charte",
    redress: "Voies de recours",
    appeal: "Lien de cette page (à conserver pour contester la décision)",
    missing: "Aucun exposé des motifs ne correspond à ce lien.",
};

const EN: Words = Words {
    title: "Statement of reasons",
    restriction: "Restriction",
    decided: "Decision",
    facts: "Facts relied on",
    no_facts: "No automated score was over the site's thresholds.",
    words: "words at issue",
    ground: "Ground",
    terms: "Rule of the terms",
    redress: "Redress",
    appeal: "This page's link (keep it to contest the decision)",
    missing: "No statement of reasons matches this link.",
};

struct FactRow {
    head: String,
    score: String,
    words: String,
}

#[derive(Template)]
#[template(path = "statement.html")]
struct StatementPage {
    lang: &'static str,
    w: &'static Words,
    found: Option<Shown>,
}

/// What the page shows of a statement, in the page's language.
struct Shown {
    restriction: &'static str,
    decided_at: String,
    decided: String,
    facts: Vec<FactRow>,
    rule: String,
    rule_url: Option<String>,
    redress: [&'static str; 3],
    link: String,
}

/// `GET /statements/{id}?token=&lang=`
pub(crate) async fn statement_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(p): Query<StatementParams>,
) -> Response {
    let lang = page_lang(p.lang.as_deref(), &headers);
    let w = if lang == Lang::Fr { &FR } else { &EN };
    let found = match &p.token {
        Some(t) => statements::statement_for_author(&app, &id, t).await,
        None => Err(StatementRefused::NotFound(id.clone())),
    };
    let (status, found) = match found {
        Ok(s) => (
            StatusCode::OK,
            Some(shown(s, lang, p.token.as_deref().unwrap_or(""))),
        ),
        Err(StatementRefused::Store(e)) => {
            tracing::warn!(error = %e, "statement page");
            (StatusCode::SERVICE_UNAVAILABLE, None)
        }
        Err(_) => (StatusCode::NOT_FOUND, None),
    };
    let page = StatementPage {
        lang: lang.code(),
        w,
        found,
    };
    let mut resp = (status, render(&page)).into_response();
    // The token is in the URL: keep the page out of caches and referrers.
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, "no-store".parse().expect("valid"));
    h.insert(
        header::REFERRER_POLICY,
        "no-referrer".parse().expect("valid"),
    );
    resp
}

/// `?lang=`, else the first of `fr`/`en` the browser names, else French.
fn page_lang(asked: Option<&str>, headers: &HeaderMap) -> Lang {
    if let Some(l) = asked.and_then(|l| l.parse().ok()) {
        return l;
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept
        .split(',')
        .filter_map(|part| part.split(';').next()?.trim().parse::<Lang>().ok())
        .next()
        .unwrap_or(Lang::Fr)
}

fn pick(t: &Texts, lang: Lang) -> &'static str {
    if lang == Lang::Fr {
        t.fr
    } else {
        t.en
    }
}

fn shown(s: Statement, lang: Lang, token: &str) -> Shown {
    let view = statements::StatementView::new(s.clone(), Some(token));
    let fr = lang == Lang::Fr;
    let who = match (s.decided_by, fr) {
        (DecidedBy::Moderator, true) => "par un modérateur",
        (DecidedBy::Moderator, false) => "by a moderator",
        (DecidedBy::Automated, true) => {
            "par un système automatique (scores d'un modèle contre les seuils du site)"
        }
        (DecidedBy::Automated, false) => {
            "by automated means (a model's scores against the site's thresholds)"
        }
    };
    let detection = match (s.automated_detection, fr) {
        (true, true) => "détecté par des moyens automatisés",
        (true, false) => "detected by automated means",
        (false, true) => "sans détection automatisée",
        (false, false) => "not detected by automated means",
    };
    let automated = match (s.automated_decision, fr) {
        (AutomatedDecision::Fully, true) => "décision entièrement automatisée",
        (AutomatedDecision::Fully, false) => "fully automated decision",
        (AutomatedDecision::Partially, true) => "décision partiellement automatisée",
        (AutomatedDecision::Partially, false) => "partially automated decision",
        (AutomatedDecision::Not, true) => "décision humaine",
        (AutomatedDecision::Not, false) => "human decision",
    };
    Shown {
        restriction: pick(&view.restriction_text, lang),
        decided_at: rfc3339(s.decided_at_ms),
        decided: format!("{who} ; {detection} ; {automated}."),
        facts: s
            .facts
            .iter()
            .map(|f| FactRow {
                head: f.head.clone(),
                score: format!("{:.2}", f.score),
                words: f.words.join(", "),
            })
            .collect(),
        rule: format!(
            "{} ({})",
            if fr { &s.ground.fr } else { &s.ground.en },
            s.ground.code
        ),
        rule_url: s.ground.url.clone(),
        redress: [
            pick(&view.redress.internal_complaint, lang),
            pick(&view.redress.out_of_court, lang),
            pick(&view.redress.judicial, lang),
        ],
        link: view.redress.appeal_url.unwrap_or_default(),
    }
}
