-- Appeals (DSA Art. 20): the author of a restricted comment contests it, with a text; a
-- moderator other than the one who decided settles it. Both are history, never rewritten:
-- an appeal is filed once per comment, and decided once (its decision is a row of its own).
-- `decided_by` is who took the decision appealed (NULL: the policy's thresholds alone).
CREATE TABLE appeals (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
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
CREATE TRIGGER appeals_no_update BEFORE UPDATE ON appeals
BEGIN SELECT RAISE(ABORT, 'appeals is append-only'); END;
CREATE TRIGGER appeals_no_delete BEFORE DELETE ON appeals
BEGIN SELECT RAISE(ABORT, 'appeals is append-only'); END;
CREATE TRIGGER appeal_decisions_no_update BEFORE UPDATE ON appeal_decisions
BEGIN SELECT RAISE(ABORT, 'appeal_decisions is append-only'); END;
CREATE TRIGGER appeal_decisions_no_delete BEFORE DELETE ON appeal_decisions
BEGIN SELECT RAISE(ABORT, 'appeal_decisions is append-only'); END;
