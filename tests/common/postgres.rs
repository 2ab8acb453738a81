//! The one rule for tests that need PostgreSQL: `VIGIE_REQUIRE_POSTGRES=1` (as `.ci/run`
//! sets it) makes a missing PostgreSQL a failure; otherwise (unset, or any other value) the
//! test says it was skipped and why, and passes.

/// Whether PostgreSQL must be there: `VIGIE_REQUIRE_POSTGRES=1`.
pub fn required() -> bool {
    std::env::var("VIGIE_REQUIRE_POSTGRES").as_deref() == Ok("1")
}

/// PostgreSQL is not there, for `why`: a failure when it is [`required`], else a skip.
pub fn unavailable(why: &str) {
    assert!(!required(), "VIGIE_REQUIRE_POSTGRES=1 but {why}");
    eprintln!("SKIPPED (PostgreSQL): {why}");
}
