-- Statements of reasons (DSA Art. 17) are derived from a comment and its history; only what
-- cannot be derived is stored: the ground (a rule code of the site's terms) a moderator named
-- with a decision, and each comment's statement token (its SHA-256: the token itself is
-- shown once, to the client that submitted the comment). Both are history: never rewritten.
ALTER TABLE comment_events ADD COLUMN ground TEXT;

CREATE TABLE statement_tokens (
    comment_seq BIGINT PRIMARY KEY REFERENCES comments (seq),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE TRIGGER statement_tokens_append_only BEFORE UPDATE OR DELETE ON statement_tokens
    FOR EACH ROW EXECUTE FUNCTION vigie_refuse_change();

-- The export of restrictions by date.
CREATE INDEX comments_status_updated ON comments (status, updated_at);
