-- Stance targets an editor creates (`POST /v1/targets`) and the articles attached to them.
-- Both are history: a target is never rewritten or deleted, and an article's target is its
-- latest attachment (a new row), so every earlier one stays readable.
CREATE TABLE targets (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE article_targets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL,
    target TEXT NOT NULL REFERENCES targets (name),
    attached_by TEXT NOT NULL,
    attached_at BIGINT NOT NULL
);
CREATE INDEX article_targets_article ON article_targets (article_id, seq);
CREATE TRIGGER targets_no_update BEFORE UPDATE ON targets
BEGIN SELECT RAISE(ABORT, 'targets is append-only'); END;
CREATE TRIGGER targets_no_delete BEFORE DELETE ON targets
BEGIN SELECT RAISE(ABORT, 'targets is append-only'); END;
CREATE TRIGGER article_targets_no_update BEFORE UPDATE ON article_targets
BEGIN SELECT RAISE(ABORT, 'article_targets is append-only'); END;
CREATE TRIGGER article_targets_no_delete BEFORE DELETE ON article_targets
BEGIN SELECT RAISE(ABORT, 'article_targets is append-only'); END;
