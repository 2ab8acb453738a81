//! Vigie: self-hosted comment moderation.
//!
//! Data flows one way: [`corpus`] reads seeds and labeled files, [`text`] normalises,
//! [`features`] turns text into TF-IDF rows, [`model`] holds the fitted heads, [`train`]
//! fits and reports them, [`policy`] turns scores into a decision, [`scoring`] takes one
//! comment from request to decision and explanation, [`store`] keeps comments and keys,
//! [`service`] holds the state the front ends share, and [`ui`], [`cli`] and [`http`] serve
//! it all. Each module uses only those declared before it. See `DESIGN.md` for the map.

/// Small helpers every layer uses: hex encoding, SHA-256 digests.
pub mod util;

/// Comments, scores, stance, decisions: the vocabulary of moderation, free of HTTP and SQL.
pub mod domain;

/// Reading the seed documents (articles and their reader comments) and canonical JSONL corpora.
pub mod corpus;

/// Text normalisation (NFKC, case folding, de-obfuscation; accents kept) with an offset map,
/// tokenisation and language detection.
pub mod text;

/// Word 1–2-gram and character 2–5-gram TF-IDF vectoriser with a fixed vocabulary.
pub mod features;

/// The fitted model: logistic heads over sparse features, scoring, explanations, file format.
pub mod model;

/// Training: cross-validated regularisation, thresholds, held-out metrics and the report.
pub mod train;

/// Learning from moderators: the teach order (the comments whose labels would change the
/// model most) and safe retraining (a challenger promoted only if it is not worse).
pub mod learning;

/// Per-head thresholds (from a config file) that turn scores into allow / flag / reject.
pub mod policy;

/// Scoring one comment, free of HTTP: request validation, scores, stance, decision and
/// explanation, shared by the API, the integrations, the command line, fuzzing and the bench.
pub mod scoring;

/// Storage of comments, decisions and API keys: one trait, SQLite and PostgreSQL.
pub mod store;

/// The running service's shared state (model, policy, limits, store, counters), callers,
/// views of stored things: below both the API and the moderator's page.
pub mod service;

/// The moderator's web page: askama templates, forms, keyboard shortcuts.
pub mod ui;

/// The `score` and `eval` command lines (batch scoring, metrics on labeled files).
pub mod cli;

/// The HTTP service: router, extractors, errors, OpenAPI.
pub mod http;

/// Invariants on arbitrary input, shared by the cargo-fuzz targets and the CI fuzz smoke test.
pub mod fuzzing;
