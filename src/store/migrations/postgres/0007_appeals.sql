-- Appeals (DSA Art. 20): the author of a restricted comment contests it, with a text; a
-- moderator other than the one who decided settles it. Both are history, never rewritten:
-- an appeal is filed once per comment, and decided once (its decision is a row of its own).
-- `decided_by` is who took the decision appealed (NULL: the policy's thresholds alone).
CREATE TABLE appeals (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    comment_seq BIGINT NOT NULL UNIQUE REFERENCES comments (seq),
    text TEXT NOT NULL,
    filed_at BIGINT NOT NULL,
    from_status TEXT NOT NULL,
    decided_by TEXT
);
CREATE TABLE appeal_decisions (
    appeal_seq BIGINT PRIMARY KEY REFERENCES appeals (seq),
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    moderator TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE TRIGGER appeals_append_only BEFORE UPDATE OR DELETE ON appeals
    FOR EACH ROW EXECUTE FUNCTION vigie_refuse_change();
CREATE TRIGGER appeal_decisions_append_only BEFORE UPDATE OR DELETE ON appeal_decisions
    FOR EACH ROW EXECUTE FUNCTION vigie_refuse_change();
