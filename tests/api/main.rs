//! The service as its clients see it, in one test binary: each module used to be a binary
//! of its own and built the same state, store and requests; they now share the harness in
//! `helpers` (a service on a loopback port, one method per endpoint) and `tests/common`.
//! Run one module with `cargo test --test api hostile::`.

#[path = "../common/mod.rs"]
mod common;
mod helpers;

mod appeals;
mod hostile;
mod integrations;
mod labels;
mod limits;
mod metrics;
mod models;
mod moderation;
mod reload;
mod reports;
mod retrain;
mod score;
mod statements;
mod store;
mod targets;
mod ui;
