//! Every fixed SQL statement, by name. Each is written once with `$N` parameters
//! (PostgreSQL's style); SQLite gets it with `?N`, its own numbered form (SQLite reads `$N`
//! as a named parameter, numbered by first appearance, not by `N`).

use std::sync::OnceLock;

use sqlx::{Database, Encode, QueryBuilder, Type};

use super::appeals::APPEAL_COLUMNS;
use super::reports::{OPEN_REPORT, REPORT_COLUMNS};
use super::{QueueOrder, QueueQuery};
use crate::domain::CommentStatus;

/// The columns of a stored comment (`c` is `comments`), as `rows::comment` reads them.
pub(super) const COMMENT_COLUMNS: &str = "c.seq, c.id, c.text, c.article_id, c.author, c.target, c.lang, \
c.scores, c.stance, c.flagged, c.explanation, c.max_score, c.model_id, c.decision, c.status, c.version, \
c.created_at, c.updated_at, c.claimed_by, c.claim_expires_at";

/// Every fixed statement, in one dialect.
pub(super) struct Statements {
    pub insert_comment: &'static str,
    pub select_by_id: &'static str,
    pub insert_score: &'static str,
    pub insert_event: &'static str,
    pub select_events: &'static str,
    pub counts: &'static str,
    pub claim: &'static str,
    pub lock_for_decision: &'static str,
    pub apply_decision: &'static str,
    pub author_counts: &'static str,
    pub author_recent: &'static str,
    pub export: &'static str,
    pub insert_statement_token: &'static str,
    pub statement_token: &'static str,
    pub restricted: &'static str,
    pub insert_appeal: &'static str,
    pub appeal_by_comment: &'static str,
    pub appeal_by_seq: &'static str,
    pub open_appeals: &'static str,
    pub all_appeals: &'static str,
    pub last_decider: &'static str,
    pub open_appeals_count: &'static str,
    pub insert_appeal_decision: &'static str,
    pub insert_report: &'static str,
    pub report_by_seq: &'static str,
    pub report_by_token: &'static str,
    pub reported_count: &'static str,
    pub period_automated: &'static str,
    pub period_decisions: &'static str,
    pub period_reports: &'static str,
    pub period_appeals: &'static str,
    pub insert_suggestion: &'static str,
    pub select_suggestions: &'static str,
    pub label_marks: &'static str,
    pub insert_target: &'static str,
    pub select_targets: &'static str,
    pub insert_article_target: &'static str,
    pub select_article_targets: &'static str,
    pub article_target: &'static str,
    pub insert_key: &'static str,
    pub find_key: &'static str,
    pub list_keys: &'static str,
    pub revoke_key: &'static str,
    pub insert_session: &'static str,
    pub find_session: &'static str,
    pub delete_session: &'static str,
    pub release_claims_of: &'static str,
    pub release_claim: &'static str,
    pub insert_model: &'static str,
    pub select_model: &'static str,
    pub list_models: &'static str,
    pub model_activations: &'static str,
    pub all_activations: &'static str,
    pub insert_activation: &'static str,
    pub active_model: &'static str,
}

/// The columns of a registered model, as `rows::model` reads them.
const MODEL_COLUMNS: &str = "model_id, file, sha256, registered_at, registered_by, report";

/// The columns of an activation, as `rows::activation` reads them.
const ACTIVATION_COLUMNS: &str = "model_id, at, actor, reason";

/// What differs between the two backends' SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    /// A statement in this dialect. Built once per process and dialect, so leaking gives
    /// the `'static` strings sqlx wants.
    fn sql(self, text: impl Into<String>) -> &'static str {
        let text = text.into();
        let text = match self {
            Dialect::Postgres => text,
            Dialect::Sqlite => text.replace('$', "?"),
        };
        Box::leak(text.into_boxed_str())
    }

    /// Appended to the select that locks a comment for a decision. SQLite's write
    /// transactions lock the whole database, so it needs nothing.
    fn for_update(self) -> &'static str {
        match self {
            Dialect::Postgres => "FOR UPDATE",
            Dialect::Sqlite => "",
        }
    }

    /// Appended to the claim's pick, so concurrent moderators never get the same comment.
    fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        }
    }
}

pub(super) fn postgres() -> &'static Statements {
    static S: OnceLock<Statements> = OnceLock::new();
    S.get_or_init(|| statements(Dialect::Postgres))
}

pub(super) fn sqlite() -> &'static Statements {
    static S: OnceLock<Statements> = OnceLock::new();
    S.get_or_init(|| statements(Dialect::Sqlite))
}

fn statements(d: Dialect) -> Statements {
    let (for_update, skip_locked) = (d.for_update(), d.skip_locked());
    let reports =
        format!("SELECT {REPORT_COLUMNS} FROM reports r JOIN comments c ON c.seq = r.comment_seq");
    let appeals = format!(
        "SELECT {COMMENT_COLUMNS}, {APPEAL_COLUMNS} FROM appeals a \
         JOIN comments c ON c.seq = a.comment_seq LEFT JOIN appeal_decisions d ON d.appeal_seq = a.seq"
    );
    Statements {
        insert_comment: d.sql(
            "INSERT INTO comments (id, text, article_id, author, target, lang, scores, stance, stance_label, \
             flagged, explanation, max_score, model_id, decision, status, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $16) \
             ON CONFLICT (id) DO NOTHING RETURNING seq",
        ),
        select_by_id: d.sql(format!(
            "SELECT {COMMENT_COLUMNS} FROM comments c WHERE c.id = $1"
        )),
        insert_score: d.sql(
            "INSERT INTO comment_scores (comment_seq, head, score) VALUES ($1, $2, $3)",
        ),
        insert_event: d.sql(
            "INSERT INTO comment_events (comment_seq, at, actor, action, from_status, to_status, reason, \
             labels, model_id, version, ground) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        ),
        select_events: d.sql(
            "SELECT at, actor, action, from_status, to_status, reason, labels, model_id, version, ground \
             FROM comment_events WHERE comment_seq = $1 ORDER BY seq",
        ),
        counts: d.sql("SELECT status, COUNT(*) AS n FROM comments GROUP BY status"),
        claim: d.sql(format!(
            "UPDATE comments SET claimed_by = $1, claim_expires_at = $2 WHERE seq = (\
             SELECT seq FROM comments WHERE status = 'pending' \
             AND (claimed_by IS NULL OR claim_expires_at <= $3) ORDER BY seq LIMIT 1 {skip_locked}) \
             RETURNING seq, id, version, status, model_id"
        )),
        lock_for_decision: d.sql(format!(
            "SELECT seq, version, status, claimed_by, claim_expires_at, model_id \
             FROM comments WHERE id = $1 {for_update}"
        )),
        apply_decision: d.sql(
            "UPDATE comments SET status = $1, version = version + 1, updated_at = $2, claimed_by = NULL, \
             claim_expires_at = NULL WHERE seq = $3 AND version = $4",
        ),
        author_counts: d.sql(
            "SELECT status, COUNT(*) AS n FROM comments WHERE author = $1 GROUP BY status",
        ),
        author_recent: d.sql(format!(
            "SELECT {COMMENT_COLUMNS} FROM comments c WHERE c.author = $1 ORDER BY c.seq DESC LIMIT 100"
        )),
        export: d.sql(format!(
            "SELECT {COMMENT_COLUMNS}, e.action AS e_action, e.labels AS e_labels, e.actor AS e_actor, \
             e.at AS e_at FROM comment_events e \
             JOIN comments c ON c.seq = e.comment_seq \
             WHERE e.seq IN (SELECT MAX(seq) FROM comment_events \
             WHERE action IN ('approve', 'reject') GROUP BY comment_seq) \
             ORDER BY e.seq"
        )),
        insert_statement_token: d.sql(
            "INSERT INTO statement_tokens (comment_seq, token_hash, created_at) VALUES ($1, $2, $3)",
        ),
        statement_token: d.sql(
            "SELECT c.id FROM statement_tokens t JOIN comments c ON c.seq = t.comment_seq \
             WHERE t.token_hash = $1",
        ),
        // Restricted comments (rejected, or held for review) last changed in [$1, $2).
        restricted: d.sql(format!(
            "SELECT {COMMENT_COLUMNS} FROM comments c WHERE c.status IN ('rejected', 'pending') \
             AND c.updated_at >= $1 AND c.updated_at < $2 ORDER BY c.updated_at, c.seq LIMIT $3"
        )),
        insert_appeal: d.sql(
            "INSERT INTO appeals (comment_seq, text, filed_at, from_status, decided_by) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (comment_seq) DO NOTHING RETURNING seq",
        ),
        appeal_by_comment: d.sql(format!("{appeals} WHERE c.id = $1")),
        appeal_by_seq: d.sql(format!("{appeals} WHERE a.seq = $1")),
        open_appeals: d.sql(format!(
            "{appeals} WHERE d.appeal_seq IS NULL ORDER BY a.seq LIMIT $1"
        )),
        all_appeals: d.sql(format!("{appeals} ORDER BY a.seq DESC LIMIT $1")),
        open_appeals_count: d.sql(
            "SELECT COUNT(*) AS n FROM appeals a \
             WHERE NOT EXISTS (SELECT 1 FROM appeal_decisions d WHERE d.appeal_seq = a.seq)",
        ),
        // Who took the comment's latest decision (none: the thresholds alone).
        last_decider: d.sql(
            "SELECT actor FROM comment_events WHERE comment_seq = $1 \
             AND action IN ('approve', 'reject') ORDER BY seq DESC LIMIT 1",
        ),
        insert_appeal_decision: d.sql(
            "INSERT INTO appeal_decisions (appeal_seq, outcome, reason, moderator, at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (appeal_seq) DO NOTHING",
        ),
        // Nothing is stored for a comment that does not exist.
        insert_report: d.sql(
            "INSERT INTO reports (comment_seq, comment_version, reason, text, contact, token_hash, \
             created_at) SELECT seq, version, $2, $3, $4, $5, $6 FROM comments WHERE id = $1 \
             RETURNING seq",
        ),
        report_by_seq: d.sql(format!("{reports} WHERE r.seq = $1")),
        report_by_token: d.sql(format!(
            "{reports} WHERE r.seq = $1 AND r.token_hash = $2"
        )),
        reported_count: d.sql(format!(
            "SELECT COUNT(*) AS n FROM comments c WHERE {OPEN_REPORT}"
        )),
        // The transparency report's period [$1, $2).
        period_automated: d.sql(
            "SELECT decision, flagged FROM comments WHERE created_at >= $1 AND created_at < $2 \
             AND decision IN ('reject', 'flag')",
        ),
        period_decisions: d.sql(
            "SELECT e.action, e.ground, e.at, c.flagged, c.created_at FROM comment_events e \
             JOIN comments c ON c.seq = e.comment_seq \
             WHERE e.action IN ('approve', 'reject') AND e.at >= $1 AND e.at < $2",
        ),
        period_reports: d.sql(format!(
            "{reports} WHERE r.created_at >= $1 AND r.created_at < $2 ORDER BY r.seq"
        )),
        period_appeals: d.sql(format!(
            "{appeals} WHERE (a.filed_at >= $1 AND a.filed_at < $2) \
             OR (d.at >= $1 AND d.at < $2) ORDER BY a.seq"
        )),
        insert_suggestion: d.sql(
            "INSERT INTO label_suggestions (at, key_name, text, lang, labels, community_id, client_token) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
        ),
        select_suggestions: d.sql(
            "SELECT seq, at, key_name, text, lang, labels, community_id, client_token \
             FROM label_suggestions ORDER BY seq",
        ),
        label_marks: d.sql(
            "SELECT (SELECT COUNT(*) FROM comment_events WHERE action IN ('approve', 'reject')) \
             AS decisions, (SELECT COUNT(*) FROM label_suggestions) AS suggestions",
        ),
        insert_target: d.sql(
            "INSERT INTO targets (name, description, created_by, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        ),
        select_targets: d.sql(
            "SELECT name, description, created_by, created_at FROM targets ORDER BY created_at, name",
        ),
        insert_article_target: d.sql(
            "INSERT INTO article_targets (article_id, target, attached_by, attached_at) \
             VALUES ($1, $2, $3, $4)",
        ),
        // Each article's latest attachment: its target now.
        select_article_targets: d.sql(
            "SELECT a.article_id, a.target FROM article_targets a \
             WHERE a.seq IN (SELECT MAX(seq) FROM article_targets GROUP BY article_id) \
             ORDER BY a.article_id",
        ),
        article_target: d.sql(
            "SELECT target FROM article_targets WHERE article_id = $1 ORDER BY seq DESC LIMIT 1",
        ),
        insert_key: d.sql(
            "INSERT INTO api_keys (name, key_hash, role, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        ),
        find_key: d.sql(
            "SELECT name, role, created_at, revoked_at FROM api_keys \
             WHERE key_hash = $1 AND revoked_at IS NULL",
        ),
        list_keys: d.sql("SELECT name, role, created_at, revoked_at FROM api_keys ORDER BY name"),
        revoke_key: d.sql(
            "UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
        ),
        insert_session: d.sql(
            "INSERT INTO ui_sessions (token_hash, key_name, role, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        ),
        // A session dies with its key.
        find_session: d.sql(
            "SELECT k.name AS name, k.role AS role, k.created_at AS created_at, k.revoked_at AS revoked_at \
             FROM ui_sessions s JOIN api_keys k ON k.name = s.key_name AND k.revoked_at IS NULL \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        ),
        delete_session: d.sql("DELETE FROM ui_sessions WHERE token_hash = $1 OR expires_at <= $2"),
        // A revoked key's claims end with it.
        release_claims_of: d.sql(
            "UPDATE comments SET claimed_by = NULL, claim_expires_at = NULL WHERE claimed_by = $1",
        ),
        release_claim: d.sql(
            "UPDATE comments SET claimed_by = NULL, claim_expires_at = NULL WHERE seq = $1",
        ),
        insert_model: d.sql(format!(
            "INSERT INTO models ({MODEL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (model_id) DO NOTHING"
        )),
        select_model: d.sql(format!(
            "SELECT {MODEL_COLUMNS} FROM models WHERE model_id = $1"
        )),
        list_models: d.sql(format!("SELECT {MODEL_COLUMNS} FROM models ORDER BY seq DESC")),
        model_activations: d.sql(format!(
            "SELECT {ACTIVATION_COLUMNS} FROM model_activations WHERE model_id = $1 ORDER BY seq DESC"
        )),
        all_activations: d.sql(format!(
            "SELECT {ACTIVATION_COLUMNS} FROM model_activations ORDER BY seq DESC"
        )),
        // Nothing is appended for an id that is not registered.
        insert_activation: d.sql(
            "INSERT INTO model_activations (model_id, at, actor, reason) \
             SELECT model_id, $2, $3, $4 FROM models WHERE model_id = $1",
        ),
        active_model: d.sql(format!(
            "SELECT {ACTIVATION_COLUMNS} FROM model_activations ORDER BY seq DESC LIMIT 1"
        )),
    }
}

/// The queue's select: its filters, order, cursor and one row beyond the limit (to know
/// whether a next page exists). The sort score is the filtered head's or the comment's
/// `max_score`.
pub(super) fn queue_select<B>(q: &QueueQuery) -> QueryBuilder<B>
where
    B: Database,
    for<'q, 'a> &'a str: Encode<'q, B> + Type<B>,
    for<'q> String: Encode<'q, B> + Type<B>,
    for<'q> i64: Encode<'q, B> + Type<B>,
    for<'q> f64: Encode<'q, B> + Type<B>,
{
    let mut b = QueryBuilder::<B>::new(format!("SELECT {COMMENT_COLUMNS}, "));
    let score_col = match &q.head {
        Some(h) => {
            b.push("s.score AS sort_score FROM comments c JOIN comment_scores s ")
                .push("ON s.comment_seq = c.seq AND s.head = ")
                .push_bind(h.clone());
            "s.score"
        }
        None => {
            b.push("c.max_score AS sort_score FROM comments c");
            "c.max_score"
        }
    };
    if q.reported {
        b.push(format!(" WHERE {OPEN_REPORT}"));
        if let Some(s) = q.status {
            b.push(" AND c.status = ").push_bind(s.as_str());
        }
    } else {
        b.push(" WHERE c.status = ")
            .push_bind(q.status.unwrap_or(CommentStatus::Pending).as_str());
    }
    if let Some(m) = q.min_score {
        b.push(format!(" AND {score_col} >= ")).push_bind(m);
    }
    if let Some(m) = q.max_score {
        b.push(format!(" AND {score_col} <= ")).push_bind(m);
    }
    if let Some(a) = &q.article_id {
        b.push(" AND c.article_id = ").push_bind(a.clone());
    }
    if let Some(a) = &q.author {
        b.push(" AND c.author = ").push_bind(a.clone());
    }
    if let Some(s) = q.stance {
        b.push(" AND c.stance_label = ").push_bind(s.as_str());
    }
    match (q.order, q.cursor) {
        (QueueOrder::Score, Some(cur)) => {
            b.push(format!(" AND ({score_col} < ")).push_bind(cur.score);
            b.push(format!(" OR ({score_col} = ")).push_bind(cur.score);
            b.push(" AND c.seq > ").push_bind(cur.seq).push("))");
        }
        (QueueOrder::Oldest | QueueOrder::Informative, Some(cur)) => {
            b.push(" AND c.seq > ").push_bind(cur.seq);
        }
        _ => {}
    }
    match q.order {
        QueueOrder::Score => b.push(format!(" ORDER BY {score_col} DESC, c.seq ASC")),
        QueueOrder::Oldest | QueueOrder::Informative => b.push(" ORDER BY c.seq ASC"),
    };
    b.push(" LIMIT ").push_bind(i64::from(q.limit) + 1);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_gets_numbered_parameters_and_no_row_locks() {
        let (pg, lite) = (postgres(), sqlite());
        assert!(pg.revoke_key.contains("revoked_at = $2 WHERE name = $1"));
        assert!(lite.revoke_key.contains("revoked_at = ?2 WHERE name = ?1"));
        assert!(!lite.insert_comment.contains('$'));
        assert!(pg.claim.contains("FOR UPDATE SKIP LOCKED"));
        assert!(!lite.claim.contains("FOR UPDATE"));
        assert!(pg.lock_for_decision.ends_with("FOR UPDATE"));
    }
}
