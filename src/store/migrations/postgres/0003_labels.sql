-- Labels clients suggest through Perspective's `comments:suggestscore`: the text, the
-- labels they amount to (canonical JSON, `{"toxicity": 1}`), who sent them and when.
-- Append-only, as the comments' history is: a suggestion is never rewritten or deleted.
CREATE TABLE label_suggestions (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    key_name TEXT NOT NULL,
    text TEXT NOT NULL,
    lang TEXT NOT NULL,
    labels TEXT NOT NULL,
    community_id TEXT,
    client_token TEXT
);
CREATE TRIGGER label_suggestions_append_only BEFORE UPDATE OR DELETE ON label_suggestions
    FOR EACH ROW EXECUTE FUNCTION vigie_refuse_change();
