-- Reader reports (DSA Art. 16 notices): a reason (a rule code of the site's grounds), an
-- optional text and contact, and the SHA-256 of the token the reporter reads its outcome
-- with. Append-only; a report is open until the comment's next decision (which moves its
-- version past `comment_version`, its version when reported), and its outcome is that decision.
CREATE TABLE reports (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    comment_seq BIGINT NOT NULL REFERENCES comments (seq),
    comment_version BIGINT NOT NULL,
    reason TEXT NOT NULL,
    text TEXT,
    contact TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX reports_comment ON reports (comment_seq, comment_version);
CREATE TRIGGER reports_append_only BEFORE UPDATE OR DELETE ON reports
    FOR EACH ROW EXECUTE FUNCTION vigie_refuse_change();
