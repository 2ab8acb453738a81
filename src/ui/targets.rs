//! The Targets tab: the site's stance targets, a form to create one and one to attach
//! articles to each, through the same `service::targets` as `/v1/targets`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::{Extension, Form};
use serde::Deserialize;

use super::{back_to, render, PageError};
use crate::service::targets::{self, TargetRefused, TargetStatus, SITE_TARGET_MIN_LABELS};
use crate::service::{AppState, Caller};

const PAGE: &str = "/moderation/targets";

#[derive(Template)]
#[template(path = "targets.html")]
struct TargetsPage {
    moderator: String,
    notice: Option<String>,
    targets: Vec<TargetStatus>,
    min_labels: usize,
}

impl TargetsPage {
    /// `favor 12 (needs 18) · against 30 · none 4 (needs 26)`.
    fn labels(&self, t: &TargetStatus) -> String {
        let class = |(c, n): (&String, &usize)| match t.needed.get(c) {
            Some(&more) if more > 0 => format!("{c} {n} (needs {more})"),
            _ => format!("{c} {n}"),
        };
        t.labels.iter().map(class).collect::<Vec<_>>().join(" · ")
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Notice {
    notice: Option<String>,
}

pub(crate) async fn targets_page(
    State(app): State<AppState>,
    Extension(me): Extension<Caller>,
    Query(q): Query<Notice>,
) -> Result<Response, PageError> {
    Ok(render(&TargetsPage {
        moderator: me.name,
        notice: q.notice,
        targets: targets::list(&app).await?,
        min_labels: SITE_TARGET_MIN_LABELS,
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

pub(crate) async fn create(
    State(app): State<AppState>,
    Extension(me): Extension<Caller>,
    Form(f): Form<CreateForm>,
) -> Result<Response, PageError> {
    let done = targets::create(&app, f.name.trim(), &f.description, &me.name).await;
    outcome(done.map(|t| format!("target {t} created")))
}

#[derive(Debug, Deserialize)]
pub(crate) struct AttachForm {
    /// Article ids separated by commas, spaces or lines.
    #[serde(default)]
    articles: String,
}

pub(crate) async fn attach(
    State(app): State<AppState>,
    Extension(me): Extension<Caller>,
    Path(name): Path<String>,
    Form(f): Form<AttachForm>,
) -> Result<Response, PageError> {
    let ids: Vec<String> = f
        .articles
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let done = targets::attach(&app, &name, &ids, &me.name).await;
    outcome(done.map(|()| format!("{} article(s) attached to {name}", ids.len())))
}

/// Back to the tab with what happened; a refused form is a 422 page saying why.
fn outcome(done: Result<String, TargetRefused>) -> Result<Response, PageError> {
    match done {
        Ok(notice) => Ok(back_to(Some(PAGE), &notice)),
        Err(TargetRefused::Store(e)) => match e {
            crate::store::StoreError::TargetExists(_)
            | crate::store::StoreError::TargetNotFound(_) => {
                Err(PageError::Unprocessable(e.to_string()))
            }
            e => Err(e.into()),
        },
        Err(e) => Err(PageError::Unprocessable(e.to_string())),
    }
}
