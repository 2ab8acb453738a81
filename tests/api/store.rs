//! One test suite, both backends: SQLite always (a temporary file), PostgreSQL against
//! `VIGIE_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`), each test
//! in a schema of its own. Without a reachable PostgreSQL the PostgreSQL tests say they were
//! skipped and why, and pass, unless `VIGIE_REQUIRE_POSTGRES=1` (as `.ci/run` sets it).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::common::pg_schema::{self, Schema};
use crate::common::tempdir::TempDir;
use serde_json::json;
use vigie::domain::{
    ActivationReason, CommentId, CommentStatus, Decision, ModeratorAction, Role, Stance, Target,
};
use vigie::store::{
    hash_key, Activation, Cursor, DecisionInput, LabelMarks, NewComment, NewModel, NewSuggestion,
    NewTarget, QueueOrder, QueueQuery, SqliteStore, Store, StoreError,
};

struct Db {
    store: Arc<dyn Store>,
    schema: Option<Schema>,
    _dir: Option<TempDir>,
}

async fn sqlite(name: &str) -> Option<Db> {
    let dir = TempDir::new(&format!("store-{name}"));
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    Some(Db {
        store: Arc::new(store),
        schema: None,
        _dir: Some(dir),
    })
}

async fn postgres(name: &str) -> Option<Db> {
    let (store, schema) = pg_schema::store(name).await?;
    Some(Db {
        store: Arc::new(store),
        schema: Some(schema),
        _dir: None,
    })
}

impl Db {
    async fn done(self) {
        drop(self.store);
        if let Some(schema) = self.schema {
            schema.drop().await;
        }
    }
}

fn comment(id: &str, text: &str, tox: f32, decision: Decision) -> NewComment {
    let mut scores = BTreeMap::new();
    scores.insert("toxicity".to_owned(), tox);
    scores.insert("insult".to_owned(), tox / 2.0);
    NewComment {
        id: CommentId::parse(id).unwrap(),
        text: text.to_owned(),
        article_id: Some("art-1".into()),
        author: Some("alice".into()),
        target: Some("gouvernement".into()),
        lang: "fr".into(),
        scores,
        stance: Some(json!({"target": "gouvernement", "label": "against"})),
        stance_label: Some(Stance::Against),
        flagged: if decision == Decision::Allow {
            vec![]
        } else {
            vec!["toxicity".into()]
        },
        explanation: Some(json!({"toxicity": [{"text": "connard", "start": 5, "end": 12}]})),
        model_id: "m1".into(),
        decision,
        actor: "scorer-key".into(),
        note: None,
        statement_token_hash: None,
        now_ms: 1_000,
    }
}

fn decision(id: &str, action: ModeratorAction, version: i64, who: &str) -> DecisionInput {
    DecisionInput {
        id: id.into(),
        action,
        reason: Some("test".into()),
        labels: None,
        ground: None,
        version,
        moderator: who.into(),
        now_ms: 2_000,
    }
}

async fn submit_get_and_idempotency(db: Db) {
    let s = &db.store;
    let (c, created) = s
        .submit(comment("c1", "Quel connard", 0.9, Decision::Flag))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(
        (c.status, c.version, c.max_score),
        (CommentStatus::Pending, 1, 0.9f32 as f64)
    );
    let (again, created) = s
        .submit(comment("c1", "Quel connard", 0.9, Decision::Flag))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, c);
    let err = s
        .submit(comment("c1", "Autre texte", 0.1, Decision::Allow))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::IdConflict(_)), "{err}");

    let (got, events) = s.get("c1").await.unwrap().unwrap();
    assert_eq!(got, c);
    assert_eq!(got.explanation.unwrap()["toxicity"][0]["text"], "connard");
    assert_eq!(events.len(), 1);
    assert_eq!(
        (
            events[0].action.as_str(),
            events[0].to_status.as_str(),
            events[0].actor.as_str()
        ),
        ("submitted", "pending", "scorer-key")
    );
    assert_eq!(events[0].reason, None);
    // A note on the submission (a text scored only in part) is the submitted event's reason.
    let mut noted = comment("c2", "Très long texte", 0.2, Decision::Flag);
    noted.note = Some("scored on the first 10 of its 15 characters".into());
    s.submit(noted).await.unwrap();
    let (_, events) = s.get("c2").await.unwrap().unwrap();
    assert_eq!(
        events[0].reason.as_deref(),
        Some("scored on the first 10 of its 15 characters")
    );
    assert!(s.get("nope").await.unwrap().is_none());
    let counts = s.counts().await.unwrap();
    assert_eq!(counts["pending"], 2);
    assert_eq!(counts["published"], 0);
    db.done().await;
}

async fn queue_filters_orders_and_pages(db: Db) {
    let s = &db.store;
    let specs = [("a", 0.5), ("b", 0.9), ("c", 0.7), ("d", 0.9), ("e", 0.6)];
    for (i, (id, tox)) in specs.iter().enumerate() {
        let mut c = comment(id, &format!("texte {id}"), *tox, Decision::Flag);
        if i % 2 == 1 {
            c.author = Some("bob".into());
            c.article_id = Some("art-2".into());
            c.stance_label = Some(Stance::Favor);
        }
        s.submit(c).await.unwrap();
    }
    s.submit(comment("ok", "texte publié", 0.1, Decision::Allow))
        .await
        .unwrap();
    let ids = |items: &[vigie::store::StoredComment]| {
        items.iter().map(|c| c.id.clone()).collect::<Vec<_>>()
    };
    let q = |f: fn(&mut QueueQuery)| {
        let mut q = QueueQuery {
            limit: 50,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    // Highest score first, ties by arrival; published comments are not in the queue.
    let page = s.queue(&q(|_| {})).await.unwrap();
    assert_eq!(ids(&page.items), ["b", "d", "c", "e", "a"]);
    assert!(page.next.is_none());
    let page = s.queue(&q(|q| q.order = QueueOrder::Oldest)).await.unwrap();
    assert_eq!(ids(&page.items), ["a", "b", "c", "d", "e"]);
    // Filters.
    assert_eq!(
        ids(&s
            .queue(&q(|q| q.author = Some("bob".into())))
            .await
            .unwrap()
            .items),
        ["b", "d"]
    );
    assert_eq!(
        ids(&s
            .queue(&q(|q| q.article_id = Some("art-1".into())))
            .await
            .unwrap()
            .items),
        ["c", "e", "a"]
    );
    assert_eq!(
        ids(&s
            .queue(&q(|q| q.stance = Some(Stance::Favor)))
            .await
            .unwrap()
            .items),
        ["b", "d"]
    );
    let hi = s
        .queue(&q(|q| {
            q.head = Some("toxicity".into());
            q.min_score = Some(0.65);
        }))
        .await
        .unwrap();
    assert_eq!(ids(&hi.items), ["b", "d", "c"]);
    // The insult head scores half the toxicity here: ordered by it, filtered on it.
    let ins = s
        .queue(&q(|q| {
            q.head = Some("insult".into());
            q.min_score = Some(0.3);
        }))
        .await
        .unwrap();
    assert_eq!(ids(&ins.items), ["b", "d", "c", "e"]);
    assert_eq!(
        ids(&s
            .queue(&q(|q| q.status = Some(CommentStatus::Published)))
            .await
            .unwrap()
            .items),
        ["ok"]
    );
    // Pages of two cover everything once, in order, for both orders.
    for order in [QueueOrder::Score, QueueOrder::Oldest] {
        let mut seen = Vec::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let page = s
                .queue(&QueueQuery {
                    limit: 2,
                    order,
                    cursor,
                    ..Default::default()
                })
                .await
                .unwrap();
            assert!(page.items.len() <= 2);
            seen.extend(ids(&page.items));
            match page.next {
                Some(c) => cursor = Some(Cursor::decode(&c.encode()).unwrap()),
                None => break,
            }
        }
        let all = ids(&s
            .queue(&QueueQuery {
                limit: 50,
                order,
                ..Default::default()
            })
            .await
            .unwrap()
            .items);
        assert_eq!(seen, all, "{order:?}");
    }
    db.done().await;
}

async fn claims_lease_and_expire(db: Db) {
    let s = &db.store;
    for id in ["x", "y"] {
        s.submit(comment(id, &format!("t {id}"), 0.8, Decision::Flag))
            .await
            .unwrap();
    }
    let a = s.claim("mod-a", 60_000, 10_000).await.unwrap().unwrap();
    let b = s.claim("mod-b", 60_000, 10_000).await.unwrap().unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(
        (
            a.id.as_str(),
            a.claimed_by.as_deref(),
            a.claim_expires_at_ms
        ),
        ("x", Some("mod-a"), Some(70_000))
    );
    assert!(
        s.claim("mod-c", 60_000, 10_000).await.unwrap().is_none(),
        "nothing left to claim"
    );
    // After the lease, the item can be claimed again.
    let c = s.claim("mod-c", 60_000, 70_001).await.unwrap().unwrap();
    assert_eq!(c.id, "x");
    // A claimed comment cannot be decided by someone else while the lease runs…
    let err = s
        .decide(DecisionInput {
            now_ms: 70_002,
            ..decision("x", ModeratorAction::Approve, 1, "mod-a")
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Claimed { ref by, .. } if by == "mod-c"),
        "{err}"
    );
    // …but by its holder, which releases it.
    let done = s
        .decide(DecisionInput {
            now_ms: 70_002,
            ..decision("x", ModeratorAction::Approve, 1, "mod-c")
        })
        .await
        .unwrap();
    assert_eq!(
        (done.status, done.claimed_by.clone()),
        (CommentStatus::Approved, None)
    );
    let (_, events) = s.get("x").await.unwrap().unwrap();
    let actions: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("submitted", "scorer-key"),
            ("claimed", "mod-a"),
            ("claimed", "mod-c"),
            ("approve", "mod-c")
        ]
    );
    // Revoking a key ends its claims at once: "y", held by mod-b until 70,000, is free.
    s.create_key("mod-b", &hash_key("vg_mod_b"), Role::Moderator, 0)
        .await
        .unwrap();
    assert!(s.revoke_key("mod-b", 20_000).await.unwrap());
    let freed = s.claim("mod-d", 60_000, 20_001).await.unwrap().unwrap();
    assert_eq!(
        (freed.id.as_str(), freed.claimed_by.as_deref()),
        ("y", Some("mod-d"))
    );
    // A claim is given back by its holder, not by another moderator; an admin may break it.
    let err = s.release("y", "mod-e", false, 20_002).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Claimed { ref by, .. } if by == "mod-d"),
        "{err}"
    );
    let back = s.release("y", "mod-d", false, 20_003).await.unwrap();
    assert_eq!(back.claimed_by, None);
    s.claim("mod-e", 60_000, 20_004).await.unwrap().unwrap();
    let broken = s.release("y", "admin", true, 20_005).await.unwrap();
    assert_eq!(broken.claimed_by, None);
    // Nothing held: unchanged, nothing recorded.
    s.release("y", "mod-d", false, 20_006).await.unwrap();
    let (_, events) = s.get("y").await.unwrap().unwrap();
    let tail: Vec<(&str, &str, Option<&str>)> = events
        .iter()
        .skip(2)
        .map(|e| (e.action.as_str(), e.actor.as_str(), e.reason.as_deref()))
        .collect();
    assert_eq!(
        tail,
        [
            ("claimed", "mod-d", None),
            ("released", "mod-d", None),
            ("claimed", "mod-e", None),
            ("released", "admin", Some("claim of mod-e broken"))
        ]
    );
    assert!(matches!(
        s.release("nope", "admin", true, 20_007).await,
        Err(StoreError::NotFound(_))
    ));
    db.done().await;
}

async fn decisions_are_versioned_and_recorded(db: Db) {
    let s = &db.store;
    s.submit(comment("d1", "Bande d'abrutis", 0.95, Decision::Flag))
        .await
        .unwrap();
    let mut d = decision("d1", ModeratorAction::Reject, 1, "mod");
    d.labels = Some(json!({"toxicity": 1, "insult": 1}));
    let c = s.decide(d).await.unwrap();
    assert_eq!((c.status, c.version), (CommentStatus::Rejected, 2));
    // A stale version changes nothing.
    let err = s
        .decide(decision("d1", ModeratorAction::Approve, 1, "other"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::VersionConflict { current: 2 }),
        "{err}"
    );
    let (c, events) = s.get("d1").await.unwrap().unwrap();
    assert_eq!(
        (c.status, c.version, events.len()),
        (CommentStatus::Rejected, 2, 2)
    );
    let e = &events[1];
    assert_eq!(
        (
            e.action.as_str(),
            e.from_status.as_deref(),
            e.to_status.as_str(),
            e.version
        ),
        ("reject", Some("pending"), "rejected", 2)
    );
    assert_eq!(e.reason.as_deref(), Some("test"));
    assert_eq!(e.labels, Some(json!({"toxicity": 1, "insult": 1})));
    // A moderator can reverse it with the current version; history keeps both.
    s.decide(decision("d1", ModeratorAction::Approve, 2, "senior"))
        .await
        .unwrap();
    let (c, events) = s.get("d1").await.unwrap().unwrap();
    assert_eq!(
        (c.status, c.version, events.len()),
        (CommentStatus::Approved, 3, 3)
    );
    assert!(matches!(
        s.decide(decision("nope", ModeratorAction::Approve, 1, "m"))
            .await,
        Err(StoreError::NotFound(_))
    ));

    // Export: the latest decision of each decided comment.
    s.submit(comment("d2", "Ferme-la", 0.8, Decision::Flag))
        .await
        .unwrap();
    s.decide(decision("d2", ModeratorAction::Reject, 1, "mod"))
        .await
        .unwrap();
    s.submit(comment("d3", "Pas décidé", 0.8, Decision::Flag))
        .await
        .unwrap();
    let rows = s.export().await.unwrap();
    let got: Vec<(&str, ModeratorAction)> = rows
        .iter()
        .map(|r| (r.comment.id.as_str(), r.action))
        .collect();
    assert_eq!(
        got,
        [
            ("d1", ModeratorAction::Approve),
            ("d2", ModeratorAction::Reject)
        ]
    );
    // With who decided and when.
    assert_eq!(
        (rows[0].moderator.as_str(), rows[1].moderator.as_str()),
        ("senior", "mod")
    );
    assert!(rows.iter().all(|r| r.at_ms == 2_000), "{rows:?}");
    // Three decisions were applied (the stale one was not), the re-decision included.
    let marks = s.label_marks().await.unwrap();
    assert_eq!((marks.decisions, marks.suggestions), (3, 0));
    db.done().await;
}

async fn suggestions_are_kept_as_sent(db: Db) {
    let s = &db.store;
    assert!(s.suggestions().await.unwrap().is_empty());
    assert_eq!(s.label_marks().await.unwrap(), LabelMarks::default());
    let first = NewSuggestion {
        text: "Espèce de guignol".into(),
        lang: "fr".into(),
        labels: json!({"toxicity": 1, "insult": 0}),
        community_id: Some("sports".into()),
        client_token: Some("tok-1".into()),
        key_name: "site".into(),
        now_ms: 5_000,
    };
    let second = NewSuggestion {
        text: "You are all clowns".into(),
        lang: "en".into(),
        labels: json!({"toxicity": 0}),
        community_id: None,
        client_token: None,
        key_name: "other-site".into(),
        now_ms: 6_000,
    };
    let a = s.add_suggestion(first.clone()).await.unwrap();
    let b = s.add_suggestion(second.clone()).await.unwrap();
    assert!(b > a);
    let stored = s.suggestions().await.unwrap();
    let back: Vec<NewSuggestion> = stored
        .iter()
        .map(|x| NewSuggestion {
            text: x.text.clone(),
            lang: x.lang.clone(),
            labels: x.labels.clone(),
            community_id: x.community_id.clone(),
            client_token: x.client_token.clone(),
            key_name: x.key_name.clone(),
            now_ms: x.at_ms,
        })
        .collect();
    assert_eq!(back, [first, second]);
    assert_eq!((stored[0].seq, stored[1].seq), (a, b));
    let marks = s.label_marks().await.unwrap();
    assert_eq!(
        (marks.decisions, marks.suggestions, marks.total()),
        (0, 2, 2)
    );
    db.done().await;
}

async fn targets_and_their_articles(db: Db) {
    let s = &db.store;
    assert!(s.targets().await.unwrap().is_empty());
    let target = |name: &str| Target::parse(name).unwrap();
    let new = |name: &str, at: i64| NewTarget {
        name: target(name),
        description: format!("Pour ou contre {name}"),
        created_by: "editor".into(),
        now_ms: at,
    };
    s.create_target(new("velo", 1_000)).await.unwrap();
    s.create_target(new("nucleaire", 2_000)).await.unwrap();
    let again = s.create_target(new("velo", 3_000)).await;
    assert!(matches!(again, Err(StoreError::TargetExists(n)) if n == "velo"));
    let absent = s
        .attach_articles(&target("absent"), &["a".into()], "ed", 4_000)
        .await;
    assert!(matches!(absent, Err(StoreError::TargetNotFound(n)) if n == "absent"));

    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    s.attach_articles(&target("velo"), &ids(&["art-1", "art-2"]), "ed", 5_000)
        .await
        .unwrap();
    // A later attachment moves an article; the earlier one stays in the history.
    s.attach_articles(&target("nucleaire"), &ids(&["art-2"]), "ed", 6_000)
        .await
        .unwrap();
    assert_eq!(
        s.article_target("art-1").await.unwrap(),
        Some(target("velo"))
    );
    assert_eq!(
        s.article_target("art-2").await.unwrap(),
        Some(target("nucleaire"))
    );
    assert_eq!(s.article_target("art-3").await.unwrap(), None);

    let all = s.targets().await.unwrap();
    let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["velo", "nucleaire"], "oldest first");
    assert_eq!(all[0].articles, ["art-1"]);
    assert_eq!(all[1].articles, ["art-2"]);
    assert_eq!(
        (
            all[0].description.as_str(),
            all[0].created_by.as_str(),
            all[0].created_at_ms
        ),
        ("Pour ou contre velo", "editor", 1_000)
    );
    db.done().await;
}

async fn author_history(db: Db) {
    let s = &db.store;
    s.submit(comment("h1", "un", 0.9, Decision::Flag))
        .await
        .unwrap();
    s.submit(comment("h2", "deux", 0.99, Decision::Reject))
        .await
        .unwrap();
    s.submit(comment("h3", "trois", 0.1, Decision::Allow))
        .await
        .unwrap();
    s.decide(decision("h1", ModeratorAction::Reject, 1, "m"))
        .await
        .unwrap();
    let a = s.author("alice").await.unwrap();
    assert_eq!(a.total, 3);
    assert_eq!(a.by_status["rejected"], 2);
    assert_eq!(a.by_status["published"], 1);
    assert!((a.rejection_rate - 2.0 / 3.0).abs() < 1e-9);
    let ids: Vec<&str> = a.comments.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["h3", "h2", "h1"]);
    let nobody = s.author("nobody").await.unwrap();
    assert_eq!(
        (nobody.total, nobody.rejection_rate, nobody.comments.len()),
        (0, 0.0, 0)
    );
    db.done().await;
}

async fn api_keys(db: Db) {
    let s = &db.store;
    s.create_key("alice", &hash_key("k1"), Role::Moderator, 5)
        .await
        .unwrap();
    assert!(matches!(
        s.create_key("alice", &hash_key("k2"), Role::Admin, 6).await,
        Err(StoreError::KeyExists(_))
    ));
    let k = s.find_key(&hash_key("k1")).await.unwrap().unwrap();
    assert_eq!((k.name.as_str(), k.role), ("alice", Role::Moderator));
    assert!(s.find_key(&hash_key("k2")).await.unwrap().is_none());
    assert!(s.revoke_key("alice", 7).await.unwrap());
    assert!(!s.revoke_key("alice", 8).await.unwrap());
    assert!(s.find_key(&hash_key("k1")).await.unwrap().is_none());
    let keys = s.list_keys().await.unwrap();
    assert_eq!((keys.len(), keys[0].revoked_at_ms), (1, Some(7)));
    s.ping().await.unwrap();
    db.done().await;
}

/// Many writers and moderators at once: every acknowledged comment is stored once, every
/// accepted decision is in the history once, no comment is claimed by two moderators.
async fn concurrent_submissions_and_decisions(db: Db) {
    let s = db.store.clone();
    let mut writers = Vec::new();
    for w in 0..8 {
        let s = s.clone();
        writers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..25 {
                let id = format!("w{w}-{i}");
                let decision = if i % 3 == 0 {
                    Decision::Allow
                } else {
                    Decision::Flag
                };
                let mut c = comment(
                    &id,
                    &format!("commentaire {id}"),
                    0.5 + (i as f32) / 100.0,
                    decision,
                );
                c.now_ms = 1_000 + i;
                if s.submit(c.clone()).await.is_ok() {
                    acked.push(id.clone());
                }
                // A client retry of the same comment must not duplicate it.
                if i % 5 == 0 {
                    let (_, created) = s.submit(c).await.unwrap();
                    assert!(!created);
                }
            }
            acked
        }));
    }
    // The moderators work until the writers are done and the queue is empty: a fixed number
    // of rounds could end, on a loaded machine, before the first submission was stored.
    let writers_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut moderators = Vec::new();
    for m in 0..4 {
        let s = s.clone();
        let writers_done = writers_done.clone();
        moderators.push(tokio::spawn(async move {
            let me = format!("mod-{m}");
            let (mut claimed, mut decided) = (Vec::new(), Vec::new());
            for round in 0.. {
                let done = writers_done.load(std::sync::atomic::Ordering::SeqCst);
                match s.claim(&me, 60_000, 5_000).await.unwrap() {
                    Some(c) => {
                        claimed.push(c.id.clone());
                        let action = if round % 2 == 0 {
                            ModeratorAction::Approve
                        } else {
                            ModeratorAction::Reject
                        };
                        let d = DecisionInput {
                            now_ms: 6_000,
                            ..decision(&c.id, action, c.version, &me)
                        };
                        if s.decide(d).await.is_ok() {
                            decided.push(c.id);
                        }
                    }
                    None if done => break,
                    None => tokio::task::yield_now().await,
                }
            }
            (claimed, decided)
        }));
    }
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    writers_done.store(true, std::sync::atomic::Ordering::SeqCst);
    let (mut claimed, mut decided) = (Vec::new(), Vec::new());
    for m in moderators {
        let (c, d) = m.await.unwrap();
        claimed.extend(c);
        decided.extend(d);
    }
    assert_eq!(acked.len(), 200, "every submission was acknowledged");
    let unique: HashSet<&String> = claimed.iter().collect();
    assert_eq!(unique.len(), claimed.len(), "no comment was claimed twice");
    let counts = s.counts().await.unwrap();
    assert_eq!(
        counts.values().sum::<i64>(),
        200,
        "stored exactly once each: {counts:?}"
    );
    for id in &acked {
        let (c, events) = s.get(id).await.unwrap().unwrap();
        assert_eq!(
            events.iter().filter(|e| e.action == "submitted").count(),
            1,
            "{id}"
        );
        let decisions = events
            .iter()
            .filter(|e| e.action == "approve" || e.action == "reject")
            .count();
        assert_eq!(decisions, usize::from(decided.contains(id)), "{id}");
        if decided.contains(id) {
            assert!(matches!(
                c.status,
                CommentStatus::Approved | CommentStatus::Rejected
            ));
        }
    }
    assert!(!decided.is_empty());
    db.done().await;
}

/// Many submissions at once (SQLite commits them in groups): a reused id with the same text
/// or another, and fresh ids, all in flight together.
async fn simultaneous_submissions_with_reused_ids(db: Db) {
    let s = db.store.clone();
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let (id, text) = match i % 3 {
                    0 => ("dup".to_owned(), "texte A".to_owned()),
                    1 => ("dup".to_owned(), "texte B".to_owned()),
                    _ => (format!("fresh-{i}"), format!("texte {i}")),
                };
                let out = s.submit(comment(&id, &text, 0.7, Decision::Flag)).await;
                (id, text, out)
            })
        })
        .collect();
    let mut outs = Vec::new();
    for t in tasks {
        outs.push(t.await.unwrap());
    }
    let (stored, _) = s.get("dup").await.unwrap().unwrap();
    let mut created_dup = 0;
    for (id, text, out) in &outs {
        match out {
            Ok((c, created)) => {
                assert_eq!(&c.text, text);
                if id == "dup" {
                    assert_eq!(c, &stored);
                    created_dup += usize::from(*created);
                } else {
                    assert!(created, "{id}");
                }
            }
            Err(StoreError::IdConflict(conflicting)) => {
                assert_eq!(conflicting, "dup");
                assert_ne!(text, &stored.text, "same text must not conflict");
            }
            Err(e) => panic!("{id}: {e}"),
        }
    }
    assert_eq!(created_dup, 1, "the reused id was stored once");
    let counts = s.counts().await.unwrap();
    assert_eq!(counts.values().sum::<i64>(), 21, "{counts:?}");
    db.done().await;
}

fn new_model(id: &str, sha: &str, report: Option<serde_json::Value>, now_ms: i64) -> NewModel {
    NewModel {
        model_id: id.into(),
        file: format!("{id}.vigie"),
        sha256: sha.into(),
        report,
        registered_by: "serve".into(),
        now_ms,
    }
}

/// The model registry: one id one file, activations appended, the latest one active.
async fn model_registry(db: Db) {
    let s = &db.store;
    assert_eq!(s.active_model().await.unwrap(), None);
    assert!(s.models().await.unwrap().is_empty());
    assert!(s
        .register_model(&new_model("m1", "aa", None, 10))
        .await
        .unwrap());
    assert!(!s
        .register_model(&new_model("m1", "aa", None, 11))
        .await
        .unwrap());
    let conflict = s.register_model(&new_model("m1", "bb", None, 12)).await;
    assert!(
        matches!(&conflict, Err(StoreError::ModelConflict(id)) if id == "m1"),
        "{conflict:?}"
    );
    let report = json!({"promoted": true, "heads": {"insult": {"delta": 0.03}}});
    assert!(s
        .register_model(&new_model("m2", "cc", Some(report.clone()), 20))
        .await
        .unwrap());

    use ActivationReason::{Retrain, Rollback, Startup};
    assert!(!s.activate_model("nope", "ops", Rollback, 25).await.unwrap());
    assert_eq!(
        s.active_model().await.unwrap(),
        None,
        "nothing appended for an unknown id"
    );
    assert!(s.activate_model("m1", "serve", Startup, 30).await.unwrap());
    assert!(s
        .activate_model("m2", "retrain", Retrain, 40)
        .await
        .unwrap());
    assert!(s.activate_model("m1", "ops", Rollback, 40).await.unwrap());
    let active = s.active_model().await.unwrap().unwrap();
    let at = |model_id: &str, at_ms, actor: &str, reason| Activation {
        model_id: model_id.into(),
        at_ms,
        actor: actor.into(),
        reason,
    };
    assert_eq!(
        active,
        at("m1", 40, "ops", Rollback),
        "the latest, even at the same time"
    );

    let models = s.models().await.unwrap();
    let ids: Vec<&str> = models.iter().map(|m| m.model_id.as_str()).collect();
    assert_eq!(ids, ["m2", "m1"], "newest first");
    assert_eq!(models[0].report, Some(report));
    assert_eq!(
        (
            models[0].file.as_str(),
            models[0].sha256.as_str(),
            models[0].registered_at_ms
        ),
        ("m2.vigie", "cc", 20)
    );
    assert_eq!(models[0].activations, [at("m2", 40, "retrain", Retrain)]);
    let m1_history = [
        at("m1", 40, "ops", Rollback),
        at("m1", 30, "serve", Startup),
    ];
    assert_eq!(models[1].activations, m1_history);
    assert_eq!(models[1].report, None);
    assert_eq!(s.model("m1").await.unwrap().as_ref(), Some(&models[1]));
    assert_eq!(s.model("nope").await.unwrap(), None);
    db.done().await;
}

/// A comment's statement token is found by its hash only; a decision's ground is kept in
/// the history; the restricted comments are listed by the time they last changed.
async fn statement_tokens_grounds_and_restrictions(db: Db) {
    let s = &db.store;
    let mut held = comment("held", "held text", 0.6, Decision::Flag);
    held.statement_token_hash = Some(hash_key("st_token_held"));
    s.submit(held).await.unwrap();
    s.submit(comment("shown", "fine text", 0.1, Decision::Allow))
        .await
        .unwrap();
    assert_eq!(
        s.statement_comment(&hash_key("st_token_held"))
            .await
            .unwrap(),
        Some("held".to_owned())
    );
    assert_eq!(s.statement_comment("st_token_held").await.unwrap(), None);
    assert_eq!(s.statement_comment(&hash_key("other")).await.unwrap(), None);

    let listed = s.restricted(0, i64::MAX, 10).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|(c, _)| c.id.as_str()).collect();
    assert_eq!(ids, ["held"]);
    s.decide(DecisionInput {
        ground: Some("threat".into()),
        ..decision("held", ModeratorAction::Reject, 1, "mod-a")
    })
    .await
    .unwrap();
    let (_, events) = s.get("held").await.unwrap().unwrap();
    assert_eq!(events.last().unwrap().ground.as_deref(), Some("threat"));
    assert_eq!(events[0].ground, None);
    // Decided at 2 000 ms: in [2 000, 2 001), not in [0, 2 000).
    let at = s.restricted(2_000, 2_001, 10).await.unwrap();
    assert_eq!(at.len(), 1);
    assert_eq!(at[0].1.last().unwrap().action, "reject");
    assert!(s.restricted(0, 2_000, 10).await.unwrap().is_empty());
    db.done().await;
}

macro_rules! suite {
    ($backend:ident: $($test:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(db) = super::$backend(stringify!($test)).await {
                        super::$test(db).await;
                    }
                }
            )*
        }
    };
}

suite!(sqlite: submit_get_and_idempotency, queue_filters_orders_and_pages, claims_lease_and_expire, decisions_are_versioned_and_recorded, suggestions_are_kept_as_sent, author_history, api_keys, concurrent_submissions_and_decisions, simultaneous_submissions_with_reused_ids, model_registry, targets_and_their_articles, statement_tokens_grounds_and_restrictions);
suite!(postgres: submit_get_and_idempotency, queue_filters_orders_and_pages, claims_lease_and_expire, decisions_are_versioned_and_recorded, suggestions_are_kept_as_sent, author_history, api_keys, concurrent_submissions_and_decisions, simultaneous_submissions_with_reused_ids, model_registry, targets_and_their_articles, statement_tokens_grounds_and_restrictions);
