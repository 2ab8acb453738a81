//! The site's stance targets: an editor creates one ([`create`]), attaches articles to it
//! ([`attach`]), and [`status`] says how far each is from being learned. A comment submitted
//! for an attached article takes the article's target ([`prepare`], the one step every
//! submitting door runs before scoring); while the serving model has no stance head for it,
//! the comment is stored with its target and no stance: "not yet learned".

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::domain::{Stance, Target};
use crate::model::Model;
use crate::scoring::{self, Input, ScoreError};
use crate::store::{NewComment, NewTarget, SiteTarget, StoreError};
use crate::util::rfc3339;

use super::labels::SiteLabel;
use super::App;

/// Labels of each stance class a site target needs before a retraining fits its head
/// (`train::TrainParams::target_min_examples`): fewer would give a head fitted on noise.
pub const SITE_TARGET_MIN_LABELS: usize = 30;

/// Longest target description, in characters.
pub const MAX_DESCRIPTION: usize = 2_000;

/// Why a target request was refused.
#[derive(Debug, thiserror::Error)]
pub enum TargetRefused {
    #[error("{0}")]
    InvalidName(String),
    #[error("{0}")]
    InvalidDescription(String),
    #[error("{0}")]
    InvalidArticles(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a target named `name` (an id slug: lowercase letters, digits, `_`, `-`).
pub async fn create(
    app: &App,
    name: &str,
    description: &str,
    actor: &str,
) -> Result<Target, TargetRefused> {
    let name = Target::parse(name).map_err(TargetRefused::InvalidName)?;
    let description = description.trim();
    if description.is_empty() || description.contains('\0') {
        return Err(TargetRefused::InvalidDescription(
            "description must be non-empty text without NUL".into(),
        ));
    }
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(TargetRefused::InvalidDescription(format!(
            "description is longer than {MAX_DESCRIPTION} characters"
        )));
    }
    let new = NewTarget {
        name: name.clone(),
        description: description.to_owned(),
        created_by: actor.to_owned(),
        now_ms: crate::store::now_ms(),
    };
    app.store.create_target(new).await?;
    Ok(name)
}

/// Attaches articles (ids as comments carry them) to an existing target.
pub async fn attach(
    app: &App,
    name: &str,
    article_ids: &[String],
    actor: &str,
) -> Result<(), TargetRefused> {
    let name = Target::parse(name).map_err(TargetRefused::InvalidName)?;
    let bad = |a: &String| a.trim().is_empty() || a.contains('\0') || a.chars().count() > 200;
    if article_ids.is_empty() || article_ids.len() > 1_000 || article_ids.iter().any(bad) {
        return Err(TargetRefused::InvalidArticles(
            "article_ids must list 1 to 1000 ids, each non-empty, without NUL, at most 200 characters".into(),
        ));
    }
    let now = crate::store::now_ms();
    app.store
        .attach_articles(&name, article_ids, actor, now)
        .await?;
    Ok(())
}

/// A site target as `GET /v1/targets` and the page show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TargetStatus {
    pub name: String,
    pub description: String,
    pub created_by: String,
    pub created_at: String,
    /// The articles attached to it now.
    pub articles: Vec<String>,
    /// Whether the serving model has its stance head.
    pub learned: bool,
    /// Stance labels the site has given so far, per class (`favor`, `against`, `none`).
    pub labels: BTreeMap<String, usize>,
    /// How many more labels each class needs before a retraining fits its head.
    pub needed: BTreeMap<String, usize>,
}

/// Every site target as the serving model and the site's labels stand now.
pub async fn list(app: &App) -> Result<Vec<TargetStatus>, StoreError> {
    let tally = stance_tally(app).await?;
    let targets = app.store.targets().await?;
    Ok(status(&app.model.load(), targets, &tally))
}

/// The site's stance labels per target and class.
pub type StanceTally = BTreeMap<Target, BTreeMap<String, usize>>;

/// The site's stance labels per target and class, counted afresh only when a label was
/// added since the last count (the store's [`crate::store::LabelMarks`]), so that showing
/// the targets does not read every label the site ever gave.
async fn stance_tally(app: &App) -> Result<Arc<StanceTally>, StoreError> {
    let marks = app.store.label_marks().await?;
    if let Some((counted_at, tally)) = app.stance_tally.lock().unwrap().as_ref() {
        if *counted_at == marks {
            return Ok(tally.clone());
        }
    }
    // Marks read before the labels: a label added in between only makes the next call
    // count again.
    let labels = super::labels::site_labels(app.store.as_ref()).await?;
    let tally = Arc::new(tally_stances(&labels));
    *app.stance_tally.lock().unwrap() = Some((marks, tally.clone()));
    Ok(tally)
}

/// Every site target with its articles, whether `model` has learned it and its labels.
pub fn status(model: &Model, targets: Vec<SiteTarget>, tally: &StanceTally) -> Vec<TargetStatus> {
    targets
        .into_iter()
        .map(|t| {
            let counts = stance_counts(&t.name, tally);
            let needed = counts
                .iter()
                .map(|(k, &n)| (k.clone(), SITE_TARGET_MIN_LABELS.saturating_sub(n)))
                .collect();
            TargetStatus {
                learned: model.target_index(t.name.as_str()).is_some(),
                name: t.name.to_string(),
                description: t.description,
                created_by: t.created_by,
                created_at: rfc3339(t.created_at_ms),
                articles: t.articles,
                labels: counts,
                needed,
            }
        })
        .collect()
}

/// The stance labels of `labels`, per target and class.
fn tally_stances(labels: &[SiteLabel]) -> StanceTally {
    let mut tally = StanceTally::new();
    for l in labels {
        if let (Some(target), Some(s)) = (&l.record.target, l.record.labels.stance) {
            let counts = tally.entry(target.clone()).or_default();
            *counts.entry(s.as_str().to_owned()).or_default() += 1;
        }
    }
    tally
}

/// The site's stance labels toward `target`, per class (every class present).
fn stance_counts(target: &Target, tally: &StanceTally) -> BTreeMap<String, usize> {
    let mut counts: BTreeMap<String, usize> = Stance::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    counts.extend(
        tally
            .get(target)
            .into_iter()
            .flatten()
            .map(|(k, &n)| (k.clone(), n)),
    );
    counts
}

/// Each site target and the labels a retraining needs of each of its stance classes:
/// what `train::TrainParams::target_min_examples` takes.
pub async fn min_examples(app: &App) -> Result<BTreeMap<Target, usize>, StoreError> {
    let targets = app.store.targets().await?;
    Ok(targets
        .into_iter()
        .map(|t| (t.name, SITE_TARGET_MIN_LABELS))
        .collect())
}

/// Why a submission cannot be scored.
#[derive(Debug, thiserror::Error)]
pub enum SubmitRefused {
    #[error(transparent)]
    Score(#[from] ScoreError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A submission checked and ready to score, and the site target it has when the model has
/// not learned it yet.
#[derive(Debug)]
pub struct Prepared {
    pub input: Input,
    pub unlearned: Option<Target>,
}

impl Prepared {
    /// Records the not-yet-learned target on the comment to store (its stance stays empty).
    pub fn mark(&self, new: &mut NewComment) {
        if let Some(t) = &self.unlearned {
            new.target = Some(t.to_string());
        }
    }
}

/// Checks a submission against `model`: the target the client named, else the one its
/// article is attached to. A target the model has no head for but the site created is
/// kept as not yet learned (no stance is scored, not even toward the model's default
/// target); one neither knows is `unknown_target`.
pub async fn prepare(
    app: &App,
    model: &Model,
    text: String,
    target: Option<&str>,
    lang: Option<&str>,
    article_id: Option<&str>,
) -> Result<Prepared, SubmitRefused> {
    let max = app.config.limits.max_text_chars;
    let named = match (target, article_id) {
        (Some(t), _) => Some(t.to_owned()),
        (None, Some(a)) => app.store.article_target(a).await?.map(String::from),
        (None, None) => None,
    };
    let Some(named) = named else {
        let input = scoring::validate(model, max, text, None, lang)?;
        return Ok(Prepared {
            input,
            unlearned: None,
        });
    };
    match scoring::validate(model, max, text.clone(), Some(&named), lang) {
        Ok(input) => Ok(Prepared {
            input,
            unlearned: None,
        }),
        Err(e @ (ScoreError::UnknownTarget { .. } | ScoreError::NoStanceModel)) => {
            let Some(site) = site_target(app, &named).await? else {
                return Err(e.into());
            };
            let mut input = scoring::validate(model, max, text, None, lang)?;
            input.target = None;
            Ok(Prepared {
                input,
                unlearned: Some(site),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The site target `name` (an id or a name as people write it) names, if it exists.
async fn site_target(app: &App, name: &str) -> Result<Option<Target>, StoreError> {
    let Ok(wanted) = Target::from_name(name) else {
        return Ok(None);
    };
    let targets = app.store.targets().await?;
    Ok(targets.into_iter().map(|t| t.name).find(|t| *t == wanted))
}

/// Whether a stored comment's stance is waiting for its target to be learned by `model`.
pub fn not_yet_learned(model: &Model, target: Option<&str>) -> bool {
    target.is_some_and(|t| model.target_index(t).is_none())
}
