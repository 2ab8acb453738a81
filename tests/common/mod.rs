//! Shared test helpers, a file per concern, each used whole by every binary that names it
//! (so none needs `allow(dead_code)`): the `api` binary takes these through this file, the
//! others name theirs in an inline `mod common { … }` (`serve`, the real binaries as child
//! processes, is for `clients` and `faults`).

pub mod app;
pub mod errors;
pub mod files;
pub mod model;
pub mod pg_schema;
pub mod postgres;
pub mod prom;
pub mod tempdir;
pub mod texts;
