-- Comments, their per-head scores, their append-only history, and API keys.
CREATE TABLE comments (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    article_id TEXT,
    author TEXT,
    target TEXT,
    lang TEXT NOT NULL,
    scores TEXT NOT NULL,
    stance TEXT,
    stance_label TEXT,
    flagged TEXT NOT NULL,
    explanation TEXT,
    max_score DOUBLE PRECISION NOT NULL,
    model_id TEXT NOT NULL,
    decision TEXT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    claimed_by TEXT,
    claim_expires_at BIGINT
);
CREATE INDEX comments_status_seq ON comments (status, seq);
CREATE INDEX comments_status_score ON comments (status, max_score, seq);
CREATE INDEX comments_author ON comments (author, seq);
CREATE INDEX comments_article ON comments (article_id, seq);

CREATE TABLE comment_scores (
    comment_seq BIGINT NOT NULL REFERENCES comments (seq),
    head TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (comment_seq, head)
);
CREATE INDEX comment_scores_head ON comment_scores (head, score);

CREATE TABLE comment_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    comment_seq BIGINT NOT NULL REFERENCES comments (seq),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT,
    labels TEXT,
    model_id TEXT,
    version BIGINT NOT NULL
);
CREATE INDEX comment_events_comment ON comment_events (comment_seq, seq);
CREATE INDEX comment_events_action ON comment_events (action, seq);

-- History is append-only: no decision deletes or rewrites it.
CREATE FUNCTION vigie_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER comment_events_append_only BEFORE UPDATE OR DELETE ON comment_events
    FOR EACH ROW EXECUTE FUNCTION vigie_refuse_change();
CREATE TRIGGER comments_no_delete BEFORE DELETE ON comments
    FOR EACH ROW EXECUTE FUNCTION vigie_refuse_change();

CREATE TABLE api_keys (
    name TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
