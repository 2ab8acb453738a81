//! Arbitrary text through the committed default model (or `$VIGIE_MODEL`), loaded once; the
//! invariants are `vigie::fuzzing::check_score`'s.

#![no_main]

mod common;

use std::sync::OnceLock;

use common::{model, repo_path};
use libfuzzer_sys::fuzz_target;
use vigie::policy::Policy;

fn policy() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| Policy::load(&repo_path("models/thresholds.toml")).expect("thresholds"))
}

fuzz_target!(|data: &[u8]| {
    vigie::fuzzing::check_score(model(), policy(), data);
});
