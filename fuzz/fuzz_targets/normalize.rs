//! Arbitrary bytes (read as UTF-8, invalid sequences replaced) through the normaliser, the
//! word splitter, the n-gram tokeniser and language detection; the invariants are
//! `vigie::fuzzing::check_normalize`'s.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vigie::fuzzing::check_normalize(&String::from_utf8_lossy(data));
});
