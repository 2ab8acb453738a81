-- Moderator page sessions: the cookie holds a random token, the database its SHA-256.
CREATE TABLE ui_sessions (
    token_hash TEXT PRIMARY KEY,
    key_name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ui_sessions_expiry ON ui_sessions (expires_at);
