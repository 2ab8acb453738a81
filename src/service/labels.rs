//! The site's labels. Moderators give them with a decision (from the API and from the page,
//! both through [`decision_labels`], whose check is [`check`]); clients suggest them through
//! Perspective's `comments:suggestscore`. [`site_labels`] turns all of them into training
//! records, with where each came from: what the label export writes and a retrain reads.

use serde_json::{Map, Value};

use super::App;
use crate::corpus::{Labels, Record};
use crate::domain::{HeadName, Lang, ModeratorAction, Stance, Target};
use crate::model::Model;
use crate::store::{ExportRow, Store, StoreError, Suggestion};
use crate::util::rfc3339;

/// Labels that cannot be taken; the message says which and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidLabels(pub String);

/// Why labels given with a decision were not taken.
#[derive(Debug, thiserror::Error)]
pub enum LabelsRefused {
    #[error(transparent)]
    Invalid(#[from] InvalidLabels),
    /// The comment could not be read (to know its stance target).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks labels given with a decision against the serving model: `0` or `1` for a binary
/// head the model has, `stance` one of `favor`, `against` or `none`, and only for a comment
/// with a stance target (`target`). Returns them in canonical form (empty: none given).
pub fn check(
    model: &Model,
    given: &Map<String, Value>,
    target: Option<&str>,
) -> Result<Labels, InvalidLabels> {
    let mut labels = Labels::default();
    for (k, v) in given {
        if k == "stance" {
            labels.stance = Some(stance_label(v, target)?);
            continue;
        }
        if model.head_index(k).is_none() {
            let heads: Vec<&str> = model.card.heads.iter().map(|h| h.name.as_str()).collect();
            return Err(InvalidLabels(format!(
                "unknown head {k:?} in labels; the model has {}",
                heads.join(", ")
            )));
        }
        let bit = match v.as_u64() {
            Some(b @ (0 | 1)) => b as u8,
            _ => return Err(InvalidLabels(format!("labels.{k} must be 0 or 1, got {v}"))),
        };
        let head = HeadName::parse(k).map_err(InvalidLabels)?;
        labels.binary.insert(head, bit);
    }
    Ok(labels)
}

fn stance_label(v: &Value, target: Option<&str>) -> Result<Stance, InvalidLabels> {
    let Some(stance) = v.as_str().and_then(|s| s.parse::<Stance>().ok()) else {
        return Err(InvalidLabels(format!(
            "labels.stance must be favor, against or none, got {v}"
        )));
    };
    if target.is_none() {
        return Err(InvalidLabels(
            "labels.stance is for a comment with a stance target, and this one has none".into(),
        ));
    }
    Ok(stance)
}

/// The labels a moderator gives with a decision on comment `id`, checked by [`check`] against
/// the serving model: the one check of the API's decisions and the page's. The comment is
/// read only when a stance is given (its target decides whether one may be). The canonical
/// JSON to store with the decision; `None` when no label is given.
pub async fn decision_labels(
    app: &App,
    id: &str,
    given: &Map<String, Value>,
) -> Result<Option<Value>, LabelsRefused> {
    let target = if given.contains_key("stance") {
        let (c, _) = app
            .store
            .get(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(id.to_owned()))?;
        c.target
    } else {
        None
    };
    let labels = check(&app.model.load(), given, target.as_deref())?;
    Ok((!labels.is_empty()).then(|| labels.to_json()))
}

/// Stored labels read back leniently: what was checked when it was written may name a head
/// a later model lacks, which still teaches; an entry that is no label at all is left out.
fn stored_labels(v: Option<&Value>) -> Labels {
    let mut labels = Labels::default();
    for (k, v) in v.and_then(Value::as_object).into_iter().flatten() {
        if k == "stance" {
            labels.stance = v.as_str().and_then(|s| s.parse().ok());
        } else if let (Ok(head), Some(b @ (0 | 1))) = (HeadName::parse(k), v.as_u64()) {
            labels.binary.insert(head, b as u8);
        } else {
            tracing::warn!(label = %k, value = %v, "a stored label that is no label, left out");
        }
    }
    labels
}

/// The training record of a comment's latest moderator decision: the labels the moderator
/// gave, over those the action implies (a rejection: `toxicity: 1`; an approval: `0` for
/// every head that had flagged the comment). `None` when there is nothing to learn (an
/// approval of a comment nothing had flagged, without labels).
pub fn decision_record(row: &ExportRow) -> Option<Record> {
    let mut labels = Labels::default();
    let implied: Vec<(&str, u8)> = match row.action {
        ModeratorAction::Reject => vec![("toxicity", 1)],
        ModeratorAction::Approve => row
            .comment
            .flagged
            .iter()
            .map(|h| (h.as_str(), 0))
            .collect(),
    };
    for (head, bit) in implied {
        if let Ok(head) = HeadName::parse(head) {
            labels.binary.insert(head, bit);
        }
    }
    let given = stored_labels(row.labels.as_ref());
    labels.binary.extend(given.binary);
    let target = row
        .comment
        .target
        .as_deref()
        .and_then(|t| Target::from_name(t).ok());
    labels.stance = given.stance.filter(|_| target.is_some());
    if labels.is_empty() {
        return None;
    }
    Some(Record {
        id: row.comment.id.clone(),
        text: row.comment.text.clone(),
        labels,
        target,
        lang: row.comment.lang.parse::<Lang>().ok(),
    })
}

/// The training record of a `suggestscore` suggestion, under the id `suggestscore/<seq>`
/// (no comment id has a `/`, so the two kinds never share an id).
pub fn suggestion_record(s: &Suggestion) -> Option<Record> {
    let labels = stored_labels(Some(&s.labels));
    (!labels.is_empty()).then(|| Record {
        id: format!("suggestscore/{}", s.seq),
        text: s.text.clone(),
        labels,
        target: None,
        lang: s.lang.parse::<Lang>().ok(),
    })
}

/// Where one of the site's labels came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Provenance {
    /// A moderator's latest decision on a stored comment.
    Decision {
        moderator: String,
        action: ModeratorAction,
        at_ms: i64,
    },
    /// A client's suggestion through Perspective's `comments:suggestscore`.
    Suggestion {
        key_name: String,
        community_id: Option<String>,
        client_token: Option<String>,
        at_ms: i64,
    },
}

impl Provenance {
    pub fn at_ms(&self) -> i64 {
        match self {
            Provenance::Decision { at_ms, .. } | Provenance::Suggestion { at_ms, .. } => *at_ms,
        }
    }
}

/// One of the site's labels: a canonical training record and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteLabel {
    pub record: Record,
    pub provenance: Provenance,
}

impl SiteLabel {
    /// The label export's JSON line: the canonical record, with `source` (`decision` or
    /// `suggestscore`), `by` (the key name), `at` (RFC 3339), and a decision's `action` or a
    /// suggestion's `community_id`: fields `corpus::read_jsonl` reads past.
    pub fn to_json(&self) -> Value {
        let mut obj = self.record.to_json();
        let (source, by) = match &self.provenance {
            Provenance::Decision {
                moderator, action, ..
            } => {
                obj["action"] = action.as_str().into();
                ("decision", moderator)
            }
            Provenance::Suggestion {
                key_name,
                community_id,
                ..
            } => {
                if let Some(c) = community_id {
                    obj["community_id"] = c.as_str().into();
                }
                ("suggestscore", key_name)
            }
        };
        obj["source"] = source.into();
        obj["by"] = by.as_str().into();
        obj["at"] = rfc3339(self.provenance.at_ms()).into();
        obj
    }
}

/// Every label the site has, as training records, oldest first: each decided comment's
/// latest moderator decision with the labels given ([`decision_record`]) and every
/// `suggestscore` suggestion ([`suggestion_record`]), each with its [`Provenance`]. This is
/// what a retrain adds to its base training data, and what `GET /v1/labels/export` writes.
pub async fn site_labels(store: &dyn Store) -> Result<Vec<SiteLabel>, StoreError> {
    let decisions = store.export().await?.into_iter().filter_map(|row| {
        let record = decision_record(&row)?;
        let provenance = Provenance::Decision {
            moderator: row.moderator,
            action: row.action,
            at_ms: row.at_ms,
        };
        Some(SiteLabel { record, provenance })
    });
    let mut labels: Vec<SiteLabel> = decisions.collect();
    for s in store.suggestions().await? {
        if let Some(record) = suggestion_record(&s) {
            let provenance = Provenance::Suggestion {
                key_name: s.key_name,
                community_id: s.community_id,
                client_token: s.client_token,
                at_ms: s.at_ms,
            };
            labels.push(SiteLabel { record, provenance });
        }
    }
    // Stable: at the same millisecond, decisions before suggestions.
    labels.sort_by_key(|l| l.provenance.at_ms());
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::Decision;
    use crate::store::StoredComment;

    fn row(action: ModeratorAction, flagged: &[&str], labels: Option<Value>) -> ExportRow {
        let comment = StoredComment {
            seq: 1,
            id: "c1".into(),
            text: "Bande de nuls".into(),
            article_id: None,
            author: None,
            target: Some("gouvernement".into()),
            lang: "fr".into(),
            scores: Default::default(),
            stance: None,
            flagged: flagged.iter().map(|h| h.to_string()).collect(),
            explanation: None,
            max_score: 0.9,
            model_id: "m".into(),
            decision: Decision::Flag,
            status: action.status(),
            version: 2,
            created_at_ms: 0,
            updated_at_ms: 0,
            claimed_by: None,
            claim_expires_at_ms: None,
        };
        ExportRow {
            comment,
            action,
            labels,
            moderator: "ana".into(),
            at_ms: 1_000,
        }
    }

    fn labels_of(r: &ExportRow) -> Value {
        decision_record(r).map_or(Value::Null, |r| r.labels.to_json())
    }

    #[test]
    fn the_labels_given_go_over_those_the_verdict_implies() {
        let reject = |l| row(ModeratorAction::Reject, &["insult"], l);
        assert_eq!(labels_of(&reject(None)), json!({"toxicity": 1}));
        assert_eq!(
            labels_of(&reject(Some(json!({"insult": 1, "stance": "against"})))),
            json!({"toxicity": 1, "insult": 1, "stance": "against"})
        );
        assert_eq!(
            labels_of(&reject(Some(json!({"toxicity": 0})))),
            json!({"toxicity": 0})
        );
        let approve = |flagged: &[&str], l| row(ModeratorAction::Approve, flagged, l);
        assert_eq!(
            labels_of(&approve(
                &["insult", "toxicity"],
                Some(json!({"insult": 1}))
            )),
            json!({"insult": 1, "toxicity": 0})
        );
        // Nothing flagged, nothing given: nothing to learn.
        assert_eq!(labels_of(&approve(&[], None)), Value::Null);
        assert_eq!(labels_of(&approve(&[], Some(json!({})))), Value::Null);
        // What is no label is left out; a stance needs a target.
        let junk = Some(json!({"threat": 2, "Bad Head": 1, "profanity": 1}));
        assert_eq!(labels_of(&approve(&[], junk)), json!({"profanity": 1}));
        let mut no_target = approve(&[], Some(json!({"stance": "favor"})));
        no_target.comment.target = None;
        assert_eq!(labels_of(&no_target), Value::Null);
        let r = decision_record(&reject(None)).unwrap();
        assert_eq!(
            (r.id.as_str(), r.lang, r.target.unwrap().as_str()),
            ("c1", Some(Lang::Fr), "gouvernement")
        );
    }

    #[test]
    fn each_label_says_where_it_came_from() {
        let r = row(ModeratorAction::Reject, &[], Some(json!({"insult": 1})));
        let decision = SiteLabel {
            record: decision_record(&r).unwrap(),
            provenance: Provenance::Decision {
                moderator: r.moderator.clone(),
                action: r.action,
                at_ms: r.at_ms,
            },
        };
        let j = decision.to_json();
        assert_eq!(
            (&j["source"], &j["by"], &j["action"], &j["at"]),
            (
                &json!("decision"),
                &json!("ana"),
                &json!("reject"),
                &json!("1970-01-01T00:00:01.000Z")
            )
        );
        let s = Suggestion {
            seq: 7,
            at_ms: 0,
            key_name: "site".into(),
            text: "Guignol".into(),
            lang: "fr".into(),
            labels: json!({"toxicity": 1}),
            community_id: Some("sports".into()),
            client_token: None,
        };
        let record = suggestion_record(&s).unwrap();
        assert_eq!(record.id, "suggestscore/7");
        let suggested = SiteLabel {
            record,
            provenance: Provenance::Suggestion {
                key_name: s.key_name.clone(),
                community_id: s.community_id.clone(),
                client_token: None,
                at_ms: 0,
            },
        };
        let j = suggested.to_json();
        assert_eq!(
            (&j["source"], &j["by"], &j["community_id"], &j["labels"]),
            (
                &json!("suggestscore"),
                &json!("site"),
                &json!("sports"),
                &json!({"toxicity": 1})
            )
        );
        // The export's lines read back as canonical records.
        let text = format!("{}\n{}\n", decision.to_json(), j);
        let back = crate::corpus::read_jsonl_str(std::path::Path::new("x"), &text).unwrap();
        assert_eq!(back, [decision.record, suggested.record]);
    }
}
