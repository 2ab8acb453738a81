//! The Appeals tab: the open appeals (or all, `?status=all`), each with its comment, the
//! decision appealed (automated, or which moderator took it) and the author's text, and a
//! form to uphold or overturn it, through the same `service::appeals` as `/v1/appeals`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::{Extension, Form};
use serde::Deserialize;

use super::{back_to, render, PageError};
use crate::domain::AppealOutcome;
use crate::service::appeals::{self, AppealItem, AppealRefused};
use crate::service::{AppState, Caller};

const PAGE: &str = "/moderation/appeals";

#[derive(Template)]
#[template(path = "appeals.html")]
struct AppealsPage {
    moderator: String,
    notice: Option<String>,
    all: bool,
    appeals: Vec<AppealItem>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AppealsQuery {
    #[serde(default)]
    notice: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

pub(crate) async fn appeals_page(
    State(app): State<AppState>,
    Extension(me): Extension<Caller>,
    Query(q): Query<AppealsQuery>,
) -> Result<Response, PageError> {
    let all = q.status.as_deref() == Some("all");
    Ok(render(&AppealsPage {
        moderator: me.name,
        notice: q.notice,
        all,
        appeals: appeals::list(&app, !all).await?,
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecisionForm {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    reason: String,
}

/// An appeal's decision from its card: back to the tab with what happened. The refusals
/// a moderator can meet (the same moderator, already decided, no reason) are notices.
pub(crate) async fn decide_appeal(
    State(app): State<AppState>,
    Extension(me): Extension<Caller>,
    Path(id): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, PageError> {
    let Ok(outcome) = f.outcome.parse::<AppealOutcome>() else {
        return Err(PageError::Unprocessable("Unknown outcome.".into()));
    };
    let Ok(seq) = id.parse::<i64>() else {
        return Err(PageError::Unprocessable(format!("No appeal {id}.")));
    };
    let notice = match appeals::decide(&app, seq, &me.name, outcome, &f.reason).await {
        Ok((_, c)) => format!("appeal {seq} {outcome}: {} is {}", c.id, c.status.as_str()),
        Err(AppealRefused::Store(e)) if is_answer(&e) => e.to_string(),
        Err(AppealRefused::Store(e)) => return Err(e.into()),
        Err(e) => e.to_string(),
    };
    Ok(back_to(Some(PAGE), &notice))
}

/// A refusal the moderator is told, not a failure.
fn is_answer(e: &crate::store::StoreError) -> bool {
    use crate::store::StoreError::*;
    matches!(
        e,
        AppealNotFound(_)
            | AppealDecided(_)
            | SameModerator(_)
            | AppealOvertaken(_)
            | VersionConflict { .. }
    )
}
