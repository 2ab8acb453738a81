//! The author's page of a statement of reasons, `/statements/{id}?token=`, in French or
//! English (`?lang=`, else the browser's `Accept-Language`, else French). Only the holder of
//! the comment's token sees it; any other request gets the same "no statement" page, so the
//! page tells nothing about which comments exist.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::render;
use crate::domain::{AppealOutcome, AutomatedDecision, DecidedBy, Lang, Statement};
use crate::service::appeals::{self, AppealRefused};
use crate::service::statements::{self, StatementRefused, Texts};
use crate::service::AppState;
use crate::store::{Appeal, StoreError};
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
    contest: &'static str,
    contest_help: &'static str,
    contest_submit: &'static str,
    appeal_filed: &'static str,
    open: &'static str,
    upheld: &'static str,
    overturned: &'static str,
    reasons: &'static str,
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
    contest: "Contester la décision",
    contest_help: "Expliquez pourquoi la décision vous paraît erronée (2 000 caractères au plus). Un modérateur humain, autre que celui qui a décidé, examinera votre réclamation ; la réponse s'affichera sur cette page.",
    contest_submit: "Envoyer la réclamation",
    appeal_filed: "Votre réclamation, envoyée le",
    open: "en cours d'examen",
    upheld: "rejetée : la décision est maintenue",
    overturned: "acceptée : la décision est annulée et votre commentaire est publié",
    reasons: "Motifs",
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
    contest: "Contest the decision",
    contest_help: "Explain why you think the decision is wrong (at most 2,000 characters). A human moderator, other than the one who decided, will examine your complaint; the answer will be shown on this page.",
    contest_submit: "Send the complaint",
    appeal_filed: "Your complaint, sent on",
    open: "being examined",
    upheld: "rejected: the decision stands",
    overturned: "accepted: the decision is reversed and your comment is published",
    reasons: "Reasons",
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
    /// Why the appeal form was refused, if it was.
    error: Option<String>,
}

/// The author's appeal as the page shows it.
struct AppealShown {
    filed_at: String,
    text: String,
    state: &'static str,
    decided_at: Option<String>,
    reason: Option<String>,
}

impl AppealShown {
    fn new(a: &Appeal, w: &Words) -> Self {
        let d = a.decision.as_ref();
        AppealShown {
            filed_at: rfc3339(a.filed_at_ms),
            text: a.text.clone(),
            state: match d.map(|d| d.outcome) {
                None => w.open,
                Some(AppealOutcome::Upheld) => w.upheld,
                Some(AppealOutcome::Overturned) => w.overturned,
            },
            decided_at: d.map(|d| rfc3339(d.at_ms)),
            reason: d.map(|d| d.reason.clone()),
        }
    }
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
    /// Where the appeal form posts (with the token in the form, not the URL).
    appeal_action: String,
    token: String,
    appeal: Option<AppealShown>,
}

/// `GET /statements/{id}?token=&lang=`
pub(crate) async fn statement_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(p): Query<StatementParams>,
) -> Response {
    let lang = page_lang(p.lang.as_deref(), &headers);
    page(&app, &id, p.token.as_deref(), lang, None).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct AppealForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    lang: Option<String>,
}

/// `POST /statements/{id}/appeal`: the author's appeal from the page; back to the page,
/// which shows it (or, refused, says why).
pub(crate) async fn appeal_form(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<AppealForm>,
) -> Response {
    let lang = page_lang(f.lang.as_deref(), &headers);
    match appeals::file(&app, &id, &f.token, &f.text).await {
        Ok(_) => {
            let to = format!(
                "{}&lang={}",
                statements::author_link(&id, &f.token),
                lang.code()
            );
            let mut resp = Redirect::to(&to).into_response();
            no_store(&mut resp);
            resp
        }
        Err(e) => {
            let status = match &e {
                AppealRefused::Store(StoreError::AppealExists(_)) => StatusCode::CONFLICT,
                AppealRefused::Text(_) => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::NOT_FOUND,
            };
            let mut resp = page(&app, &id, Some(&f.token), lang, Some(e.to_string())).await;
            *resp.status_mut() = status;
            resp
        }
    }
}

/// The page of comment `id`'s statement for `token`, with an appeal form's refusal.
async fn page(
    app: &AppState,
    id: &str,
    token: Option<&str>,
    lang: Lang,
    error: Option<String>,
) -> Response {
    let w = if lang == Lang::Fr { &FR } else { &EN };
    let found = match token {
        Some(t) => statements::author_statement(app, id, t).await,
        None => Err(StatementRefused::NotFound(id.to_owned())),
    };
    let appeal = match &found {
        Ok(_) => app
            .store
            .appeal_of(id)
            .await
            .map_err(StatementRefused::from),
        Err(_) => Ok(None),
    };
    let (status, found) = match found.and_then(|(s, _)| Ok((s, appeal?))) {
        Ok((s, appeal)) => {
            let mut shown = shown(s, lang, token.unwrap_or(""));
            shown.appeal = appeal.as_ref().map(|a| AppealShown::new(a, w));
            (StatusCode::OK, Some(shown))
        }
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
        error,
    };
    let mut resp = (status, render(&page)).into_response();
    no_store(&mut resp);
    resp
}

/// The token is in the URL: keep the page out of caches and referrers.
fn no_store(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, "no-store".parse().expect("valid"));
    h.insert(
        header::REFERRER_POLICY,
        "no-referrer".parse().expect("valid"),
    );
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
        appeal_action: format!(
            "/statements/{}/appeal",
            form_urlencoded::byte_serialize(s.comment_id.as_bytes()).collect::<String>()
        ),
        token: token.to_owned(),
        appeal: None,
    }
}
