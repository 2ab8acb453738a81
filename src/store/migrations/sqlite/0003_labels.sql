-- Labels clients suggest through Perspective's `comments:suggestscore`: the text, the
-- labels they amount to (canonical JSON, `{"toxicity": 1}`), who sent them and when.
-- Append-only, as the comments' history is: a suggestion is never rewritten or deleted.
CREATE TABLE label_suggestions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    key_name TEXT NOT NULL,
    text TEXT NOT NULL,
    lang TEXT NOT NULL,
    labels TEXT NOT NULL,
    community_id TEXT,
    client_token TEXT
);
CREATE TRIGGER label_suggestions_no_update BEFORE UPDATE ON label_suggestions
BEGIN SELECT RAISE(ABORT, 'label_suggestions is append-only'); END;
CREATE TRIGGER label_suggestions_no_delete BEFORE DELETE ON label_suggestions
BEGIN SELECT RAISE(ABORT, 'label_suggestions is append-only'); END;
