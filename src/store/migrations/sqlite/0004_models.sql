-- Every model that ever served: its file in the models directory, the file's SHA-256, who
-- or what registered it, its report; and the append-only history of activations. The
-- model serving is the one of the latest activation.
CREATE TABLE models (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id TEXT NOT NULL UNIQUE,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    registered_at BIGINT NOT NULL,
    registered_by TEXT NOT NULL,
    report TEXT
);

CREATE TABLE model_activations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id TEXT NOT NULL REFERENCES models (model_id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX model_activations_model ON model_activations (model_id, seq);
