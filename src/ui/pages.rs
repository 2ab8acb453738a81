//! The queue and detail pages: a comment as a card (scores, highlights, stance, author, the
//! decision form with its label toggles), the filters and paging of the queue, its Teach tab
//! (the teach order, one page), and one comment with its history.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;

use super::{render, segments, PageError, Segment};
use crate::domain::{DecidedBy, Stance, Statement};
use crate::service::queue::{fetch, queue_query, QueueParams};
use crate::service::statements;
use crate::service::views::{stance_state, EventView};
use crate::service::{AppState, Caller};
use crate::store::{QueueOrder, Report, StoreError, StoredComment};
use crate::util::rfc3339;

/// A comment as a card or detail view shows it.
struct Card {
    id: String,
    version: i64,
    status: String,
    segments: Vec<Segment>,
    scores: Vec<ScoreRow>,
    stance: Option<String>,
    article: Option<String>,
    author: Option<String>,
    author_rate: Option<String>,
    created_at: String,
    claimed_by: Option<String>,
    /// The stance target, when the comment has one: the form offers a stance label.
    target: Option<String>,
    /// Its target is a site target the scoring model had not learned yet.
    not_yet_learned: bool,
    /// Readers' reports of it, oldest first.
    reports: Vec<ReportRow>,
}

/// A reader's report on a card.
struct ReportRow {
    reason: String,
    text: String,
    contact: String,
    filed_at: String,
    open: bool,
}

impl From<&Report> for ReportRow {
    fn from(r: &Report) -> Self {
        ReportRow {
            reason: r.reason.clone(),
            text: r.text.clone().unwrap_or_default(),
            contact: r.contact.clone().unwrap_or_default(),
            filed_at: rfc3339(r.filed_at_ms),
            open: r.is_open(),
        }
    }
}

/// The reports of `cards`' comments, each on its card.
async fn add_reports(app: &AppState, cards: &mut [Card]) -> Result<(), StoreError> {
    let ids: Vec<String> = cards.iter().map(|c| c.id.clone()).collect();
    for r in app.store.reports_of(&ids).await? {
        if let Some(card) = cards.iter_mut().find(|c| c.id == r.comment_id) {
            card.reports.push(ReportRow::from(&r));
        }
    }
    Ok(())
}

impl Card {
    fn new(c: StoredComment, stats: Option<&crate::store::AuthorStats>) -> Self {
        let scores = c
            .scores
            .iter()
            .map(|(h, &s)| ScoreRow {
                head: h.clone(),
                value: format!("{s:.2}"),
                flagged: c.flagged.contains(h),
            })
            .collect();
        Card {
            not_yet_learned: stance_state(&c) == Some("not_yet_learned"),
            segments: segments(&c.text, c.explanation.as_ref()),
            stance: c
                .stance
                .as_ref()
                .and_then(|s| s["label"].as_str())
                .map(str::to_owned),
            author_rate: stats
                .map(|s| format!("{:.0}% rejected of {}", s.rejection_rate * 100.0, s.total)),
            created_at: rfc3339(c.created_at_ms),
            id: c.id,
            version: c.version,
            status: c.status.as_str().to_owned(),
            scores,
            article: c.article_id,
            author: c.author,
            claimed_by: c.claimed_by,
            target: c.target,
            reports: Vec::new(),
        }
    }

    /// The stance labels a moderator may give.
    fn stance_labels(&self) -> [&'static str; 3] {
        Stance::ALL.map(Stance::as_str)
    }
}

/// The heads a moderator labels with one click beside the verdict: every binary head of the
/// serving model but `toxicity`, which approve and reject already say.
fn label_heads(model: &crate::model::Model) -> Vec<String> {
    model
        .card
        .heads
        .iter()
        .map(|h| h.name.as_str().to_owned())
        .filter(|h| h != "toxicity")
        .collect()
}

/// A tab or an option of a select: its value, a count where it has one, and whether it is
/// the current one.
struct Choice {
    value: String,
    count: i64,
    current: bool,
}

impl Choice {
    fn list<'a>(
        values: impl IntoIterator<Item = &'a str>,
        current: &str,
        count: impl Fn(&str) -> i64,
    ) -> Vec<Choice> {
        values
            .into_iter()
            .map(|v| Choice {
                value: v.to_owned(),
                count: count(v),
                current: v == current,
            })
            .collect()
    }
}

struct ScoreRow {
    head: String,
    /// Two decimals, for the bar and the label.
    value: String,
    flagged: bool,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    moderator: String,
    /// The rule codes a decision may name.
    grounds: Vec<String>,
    status: String,
    /// The Teach tab: the teach order, one page.
    teach: bool,
    /// The Reported tab: whether it is this one, and its count.
    reported: (bool, i64),
    /// Appeals waiting for a decision (the Appeals tab's count).
    appeals: i64,
    label_heads: Vec<String>,
    /// (status, count, current)
    tabs: Vec<Choice>,
    heads: Vec<Choice>,
    stances: Vec<Choice>,
    /// The filter values as typed, to show them back.
    f: BTreeMap<&'static str, String>,
    cards: Vec<Card>,
    next: Option<String>,
    prev: Option<String>,
    this_page: String,
    notice: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    head: Option<String>,
    #[serde(default)]
    min: Option<String>,
    #[serde(default)]
    max: Option<String>,
    #[serde(default)]
    article: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    stance: Option<String>,
    /// `informative` on the Teach tab.
    #[serde(default)]
    order: Option<String>,
    /// `1` on the Reported tab.
    #[serde(default)]
    reported: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
    /// Cursors of the pages before this one, comma-separated, for "previous".
    #[serde(default)]
    prev: Option<String>,
    #[serde(default)]
    notice: Option<String>,
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

impl Filters {
    fn reported(&self) -> bool {
        non_empty(&self.reported).is_some_and(|r| r != "0")
    }

    fn shown(&self) -> BTreeMap<&'static str, String> {
        [
            ("head", &self.head),
            ("min", &self.min),
            ("max", &self.max),
            ("article", &self.article),
            ("author", &self.author),
            ("stance", &self.stance),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.clone().unwrap_or_default()))
        .collect()
    }

    /// The query string of this filter set with another cursor trail.
    fn query(&self, cursor: Option<&str>, prev: Option<&str>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("status", &self.status),
            ("head", &self.head),
            ("min", &self.min),
            ("max", &self.max),
            ("article", &self.article),
            ("author", &self.author),
            ("stance", &self.stance),
            ("order", &self.order),
            ("reported", &self.reported),
        ] {
            if let Some(v) = non_empty(v) {
                q.append_pair(k, &v);
            }
        }
        if let Some(c) = cursor {
            q.append_pair("cursor", c);
        }
        if let Some(p) = prev.filter(|p| !p.is_empty()) {
            q.append_pair("prev", p);
        }
        format!("/moderation/queue?{}", q.finish())
    }
}

pub(crate) async fn queue_page(
    State(app): State<AppState>,
    Extension(me): Extension<Caller>,
    axum::extract::Query(f): axum::extract::Query<Filters>,
) -> Result<Response, PageError> {
    let parse = |v: &Option<String>| non_empty(v).map(|s| s.parse::<f64>());
    let (min, max) = match (parse(&f.min).transpose(), parse(&f.max).transpose()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => {
            let message = "Scores are numbers between 0 and 1.";
            return Err(PageError::Unprocessable(message.into()));
        }
    };
    let params = QueueParams {
        status: non_empty(&f.status),
        head: non_empty(&f.head),
        min_score: min,
        max_score: max,
        article: non_empty(&f.article),
        author: non_empty(&f.author),
        stance: non_empty(&f.stance),
        reported: Some(f.reported()),
        order: non_empty(&f.order),
        limit: Some(25),
        cursor: non_empty(&f.cursor),
    };
    let q = queue_query(&app, params).map_err(|e| PageError::Unprocessable(e.to_string()))?;
    let teach = q.order == QueueOrder::Informative;
    let (page, counts) = (fetch(&app, &q).await?, app.store.counts().await?);
    let reported = app.store.reported_count().await?;
    let appeals = app.store.open_appeals().await?;
    let authors: Vec<String> = page
        .items
        .iter()
        .filter_map(|c| c.author.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let stats = app.store.author_stats(&authors).await?;
    let mut cards: Vec<Card> = page
        .items
        .into_iter()
        .map(|c| {
            let s = c.author.as_ref().and_then(|a| stats.get(a));
            Card::new(c, s)
        })
        .collect();
    add_reports(&app, &mut cards).await?;
    // "Next" pushes this page's cursor on the trail; "previous" pops it.
    let trail: Vec<&str> = f
        .prev
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .collect();
    let here = f.cursor.clone().unwrap_or_default();
    let next = page.next.map(|n| {
        let mut t = trail.clone();
        t.push(if here.is_empty() { "-" } else { &here });
        f.query(Some(&n.encode()), Some(&t.join(",")))
    });
    let prev = (!here.is_empty()).then(|| {
        let mut t = trail.clone();
        let back = t.pop().filter(|c| *c != "-");
        f.query(back, Some(&t.join(",")))
    });
    let model = app.model.load();
    let status = non_empty(&f.status).unwrap_or_else(|| "pending".into());
    let shown = f.shown();
    Ok(render(&QueuePage {
        moderator: me.name,
        tabs: Choice::list(
            ["pending", "approved", "rejected", "published"],
            if teach || q.reported { "" } else { &status },
            |s| counts.get(s).copied().unwrap_or(0),
        ),
        teach,
        reported: (q.reported, reported),
        appeals,
        label_heads: label_heads(&model),
        grounds: ground_codes(&app),
        heads: Choice::list(
            model.card.heads.iter().map(|h| h.name.as_str()),
            &shown["head"],
            |_| 0,
        ),
        stances: Choice::list(["favor", "against", "none"], &shown["stance"], |_| 0),
        status,
        this_page: f.query(f.cursor.as_deref(), f.prev.as_deref()),
        notice: non_empty(&f.notice),
        f: shown,
        cards,
        next,
        prev,
    }))
}

#[derive(Template)]
#[template(path = "detail.html")]
struct DetailPage {
    moderator: String,
    /// The rule codes a decision may name.
    grounds: Vec<String>,
    label_heads: Vec<String>,
    card: Card,
    history: Vec<EventView>,
    this_page: String,
    notice: Option<String>,
    /// The statement of reasons the comment's restriction owes its author, in one line.
    statement: Option<String>,
}

/// The rule codes of the site's grounds, in their file's order.
fn ground_codes(app: &AppState) -> Vec<String> {
    app.config
        .grounds
        .rules
        .iter()
        .map(|r| r.code.clone())
        .collect()
}

#[derive(Deserialize)]
pub(crate) struct NoticeParam {
    #[serde(default)]
    notice: Option<String>,
}

pub(crate) async fn detail_page(
    State(app): State<AppState>,
    Extension(me): Extension<Caller>,
    Path(id): Path<String>,
    axum::extract::Query(n): axum::extract::Query<NoticeParam>,
) -> Result<Response, PageError> {
    let Some((c, events)) = app.store.get(&id).await? else {
        return Err(StoreError::NotFound(id).into());
    };
    let stats = match &c.author {
        Some(a) => app
            .store
            .author_stats(std::slice::from_ref(a))
            .await
            .ok()
            .and_then(|mut m| m.remove(a)),
        None => None,
    };
    let this_page = format!("/moderation/comments/{}", c.id);
    let statement =
        Statement::derive(&statements::case(&c, &events), &app.config.grounds).map(|s| {
            format!(
                "{}, rule {}, decided by {} (automated decision: {})",
                statements::restriction_code(s.restriction).replace('_', " "),
                s.ground.code,
                if s.decided_by == DecidedBy::Moderator {
                    "a moderator"
                } else {
                    "automated means"
                },
                statements::automated_code(s.automated_decision),
            )
        });
    let mut card = [Card::new(c, stats.as_ref())];
    add_reports(&app, &mut card).await?;
    let [card] = card;
    Ok(render(&DetailPage {
        statement,
        moderator: me.name,
        label_heads: label_heads(&app.model.load()),
        grounds: ground_codes(&app),
        card,
        history: events.into_iter().map(Into::into).collect(),
        this_page,
        notice: non_empty(&n.notice),
    }))
}
