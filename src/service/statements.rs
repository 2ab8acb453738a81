//! Statements of reasons (DSA Art. 17) as the doors serve them: the API
//! (`GET /v1/comments/{id}/statement`), the author's page (`/statements/{id}?token=`),
//! the Transparency Database export and Coral's rejection reason. A statement is derived
//! (`domain::Statement::derive`) from the stored comment, its history and the site's
//! grounds; the only things stored for it are the ground a moderator named and each
//! comment's statement token, kept as its SHA-256.

use std::collections::BTreeMap;

use serde::Serialize;

use super::appeals::AppealView;
use super::App;
use crate::domain::{
    AutomatedDecision, Case, CommentStatus, DecidedBy, Fact, HumanDecision, Restriction, Rule,
    Statement,
};
use crate::store::{Event, StoreError, StoredComment};
use crate::util::{rfc3339, sha256_hex};

/// Why no statement is served.
#[derive(Debug, thiserror::Error)]
pub enum StatementRefused {
    /// No such comment, or a token that is not this comment's: the same answer for both, so
    /// a token cannot be tried against ids.
    #[error("no comment with id {0:?}")]
    NotFound(String),
    /// The comment is not restricted (published or approved).
    #[error("comment {0:?} is not restricted, so it has no statement of reasons")]
    NoStatement(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A ground code a moderator gave that the site's grounds do not list.
#[derive(Debug, thiserror::Error)]
#[error("unknown ground {given:?}: expected one of {known}")]
pub struct UnknownGround {
    pub given: String,
    pub known: String,
}

/// A new statement token and its SHA-256 (what is stored): 256 bits from the OS.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    let token = format!("st_{}", crate::util::hex(&bytes));
    let hash = sha256_hex(token.as_bytes());
    (token, hash)
}

/// The ground code a decision names, checked against the site's grounds.
pub fn check_ground(app: &App, ground: Option<&str>) -> Result<Option<String>, UnknownGround> {
    let grounds = &app.config.grounds;
    match ground {
        None => Ok(None),
        Some(g) if grounds.get(g).is_some() => Ok(Some(g.to_owned())),
        Some(g) => Err(UnknownGround {
            given: g.to_owned(),
            known: grounds.codes(),
        }),
    }
}

/// What the domain derives a statement from: the comment and its latest moderator decision
/// (when that decision is a `reject`, the comment's status now).
pub fn case<'a>(c: &'a StoredComment, events: &[Event]) -> Case<'a> {
    let human = events
        .iter()
        .rev()
        .find(|e| e.action == "approve" || e.action == "reject")
        .filter(|e| e.action == "reject" && c.status == CommentStatus::Rejected)
        .map(|e| HumanDecision {
            at_ms: e.at_ms,
            ground: e.ground.clone(),
        });
    Case {
        comment_id: &c.id,
        status: c.status,
        decision: c.decision,
        lang: &c.lang,
        scores: &c.scores,
        flagged: &c.flagged,
        words: words(c.explanation.as_ref()),
        created_at_ms: c.created_at_ms,
        human,
    }
}

/// Per head, the words of a stored explanation (`{head: [{"text", …}]}`).
fn words(explanation: Option<&serde_json::Value>) -> BTreeMap<String, Vec<String>> {
    let Some(heads) = explanation.and_then(|e| e.as_object()) else {
        return BTreeMap::new();
    };
    heads
        .iter()
        .map(|(head, items)| {
            let words = items
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["text"].as_str().map(str::to_owned))
                .collect();
            (head.clone(), words)
        })
        .collect()
}

/// The statement of the comment `id`.
pub async fn statement(app: &App, id: &str) -> Result<Statement, StatementRefused> {
    let (c, events) = app
        .store
        .get(id)
        .await?
        .ok_or_else(|| StatementRefused::NotFound(id.to_owned()))?;
    Statement::derive(&case(&c, &events), &app.config.grounds)
        .ok_or_else(|| StatementRefused::NoStatement(id.to_owned()))
}

/// The statement of the comment `id` for the holder of its token; any other token is
/// `NotFound`, as for a comment that does not exist.
pub async fn statement_for_author(
    app: &App,
    id: &str,
    token: &str,
) -> Result<Statement, StatementRefused> {
    Ok(author_statement(app, id, token).await?.0)
}

/// As [`statement_for_author`], with the comment's history. A comment approved on appeal
/// keeps, for its author, the statement it was appealed under (derived from the history
/// up to the appeal), so the same link shows the outcome.
pub async fn author_statement(
    app: &App,
    id: &str,
    token: &str,
) -> Result<(Statement, Vec<Event>), StatementRefused> {
    let owner = app
        .store
        .statement_comment(&sha256_hex(token.as_bytes()))
        .await?;
    if owner.as_deref() != Some(id) {
        return Err(StatementRefused::NotFound(id.to_owned()));
    }
    let (c, events) = app
        .store
        .get(id)
        .await?
        .ok_or_else(|| StatementRefused::NotFound(id.to_owned()))?;
    let grounds = &app.config.grounds;
    if let Some(s) = Statement::derive(&case(&c, &events), grounds) {
        return Ok((s, events));
    }
    let appealed = events.iter().rposition(|e| e.action == "appealed");
    let then = appealed.and_then(|i| {
        let mut then = c.clone();
        then.status = events[i].to_status.parse().ok()?;
        Statement::derive(&case(&then, &events[..=i]), grounds)
    });
    match then {
        Some(s) => Ok((s, events)),
        None => Err(StatementRefused::NoStatement(id.to_owned())),
    }
}

/// The author's view of the statement of comment `id`, with the appeal's state.
pub async fn author_view(
    app: &App,
    id: &str,
    token: &str,
) -> Result<StatementView, StatementRefused> {
    let (s, _) = author_statement(app, id, token).await?;
    let appeal = app.store.appeal_of(id).await?;
    Ok(StatementView::new(s, Some(token)).with_appeal(appeal.as_ref()))
}

/// Where the author reads the statement (and, later, appeals): the page's path with the
/// token. Only the token's holder is ever shown it.
pub fn author_link(id: &str, token: &str) -> String {
    let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
    format!("/statements/{id}?token={token}")
}

/// Both languages of one text.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Texts {
    pub fr: &'static str,
    pub en: &'static str,
}

/// A statement as the API serves it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementView {
    pub comment_id: String,
    /// `removed` or `withheld_pending_review`.
    pub restriction: &'static str,
    /// `visibility`: what kind of restriction it is.
    pub restriction_kind: &'static str,
    pub restriction_text: Texts,
    /// When the comment was posted.
    pub content_date: String,
    /// When the restriction began.
    pub decided_at: String,
    /// `automated` or `moderator` (never which moderator).
    pub decided_by: &'static str,
    /// The heads that fired, their scores and the words that drove them.
    #[schema(value_type = Vec<Object>)]
    pub facts: Vec<Fact>,
    pub automated_detection: bool,
    /// `fully`, `partially` or `not`.
    pub automated_decision: &'static str,
    /// The rule of the site's terms it rests on.
    #[schema(value_type = Object)]
    pub ground: Rule,
    pub redress: Redress,
    /// The author's appeal, if one was filed: its state and, once decided, the outcome and
    /// its reasons (never who decided).
    pub appeal: Option<AppealView>,
}

/// How to seek redress (Art. 17(3)(f)).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Redress {
    /// The author's link (statement, and appeal) with its token: only in the author's
    /// own view, never in a moderator's.
    pub appeal_url: Option<String>,
    pub internal_complaint: Texts,
    pub out_of_court: Texts,
    pub judicial: Texts,
}

const REMOVED: Texts = Texts {
    fr: "Votre commentaire a été refusé : il n'est pas publié.",
    en: "Your comment was refused: it is not published.",
};
const WITHHELD: Texts = Texts {
    fr: "Votre commentaire est retenu en attendant l'examen d'un modérateur : il n'est pas visible pour l'instant.",
    en: "Your comment is withheld pending a moderator's review: it is not visible for now.",
};
const COMPLAINT: Texts = Texts {
    fr: "Vous pouvez contester cette décision auprès du site, gratuitement, dans les six mois, depuis le lien de cette page ; un modérateur humain examine chaque réclamation.",
    en: "You may contest this decision with the site, free of charge, within six months, from this page's link; a human moderator examines every complaint.",
};
const OUT_OF_COURT: Texts = Texts {
    fr: "Vous pouvez aussi saisir un organisme de règlement extrajudiciaire des litiges certifié (article 21 du règlement (UE) 2022/2065).",
    en: "You may also refer it to a certified out-of-court dispute settlement body (Article 21 of Regulation (EU) 2022/2065).",
};
const JUDICIAL: Texts = Texts {
    fr: "Vous pouvez à tout moment saisir la justice.",
    en: "You may go to court at any time.",
};

impl StatementView {
    /// The view of `s`; `author_token` only for the token's holder.
    pub fn new(s: Statement, author_token: Option<&str>) -> StatementView {
        let restriction_text = match s.restriction {
            Restriction::Removed => REMOVED,
            Restriction::WithheldPendingReview => WITHHELD,
        };
        StatementView {
            restriction: restriction_code(s.restriction),
            restriction_kind: s.restriction.kind(),
            restriction_text,
            content_date: rfc3339(s.content_at_ms),
            decided_at: rfc3339(s.decided_at_ms),
            decided_by: match s.decided_by {
                DecidedBy::Automated => "automated",
                DecidedBy::Moderator => "moderator",
            },
            automated_detection: s.automated_detection,
            automated_decision: automated_code(s.automated_decision),
            redress: Redress {
                appeal_url: author_token.map(|t| author_link(&s.comment_id, t)),
                internal_complaint: COMPLAINT,
                out_of_court: OUT_OF_COURT,
                judicial: JUDICIAL,
            },
            comment_id: s.comment_id,
            facts: s.facts,
            ground: s.ground,
            appeal: None,
        }
    }

    /// With the comment's appeal, if any.
    pub fn with_appeal(mut self, appeal: Option<&crate::store::Appeal>) -> StatementView {
        self.appeal = appeal.map(AppealView::from);
        self
    }
}

pub fn restriction_code(r: Restriction) -> &'static str {
    match r {
        Restriction::Removed => "removed",
        Restriction::WithheldPendingReview => "withheld_pending_review",
    }
}

pub fn automated_code(a: AutomatedDecision) -> &'static str {
    match a {
        AutomatedDecision::Fully => "fully",
        AutomatedDecision::Partially => "partially",
        AutomatedDecision::Not => "not",
    }
}

pub mod dsa;
