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
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id TEXT NOT NULL,
    target TEXT NOT NULL REFERENCES targets (name),
    attached_by TEXT NOT NULL,
    attached_at BIGINT NOT NULL
);
CREATE INDEX article_targets_article ON article_targets (article_id, seq);
CREATE TRIGGER targets_append_only BEFORE UPDATE OR DELETE ON targets
    FOR EACH ROW EXECUTE FUNCTION vigie_refuse_change();
CREATE TRIGGER article_targets_append_only BEFORE UPDATE OR DELETE ON article_targets
    FOR EACH ROW EXECUTE FUNCTION vigie_refuse_change();
