//! The fuzz smoke run CI can afford: the invariants of `vigie::fuzzing` (what the cargo-fuzz
//! targets of `fuzz/` check) on the committed fuzz seeds, on hostile strings, and on
//! thousands of seeded random mutations of them. Deterministic: a failure names the
//! iteration and prints the input, which reproduces it (and can be added to
//! `fuzz/corpus/<target>/`). The coverage-guided runs stay in `bench/fuzz-smoke.sh`.

#[path = "common"]
mod common {
    pub mod files;
    pub mod model;
}

use vigie::fuzzing::{check_normalize, check_score};
use vigie::policy::Policy;

/// Pieces the mutator inserts: what breaks text handling.
const NASTY: &[&str] = &[
    "\u{0}",
    "\u{202E}",
    "\u{200B}",
    "\u{FEFF}",
    "\u{301}\u{302}\u{303}\u{304}",
    "\u{FDFA}",
    "ﬃ",
    "İ",
    "ß",
    "😀",
    "👩‍👩‍👧",
    "🇫🇷",
    "c0nn4rd",
    "c o n n a r d",
    "cooooonnnnard",
    "'; DROP TABLE comments; --",
    "<script>alert(1)</script>",
    "\r\n",
    "\t",
    "１２３",
    "Ⅻ",
    "ǅ",
];

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = common::files::path(&format!("fuzz/corpus/{target}"));
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("seed-"))
        })
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out.extend(NASTY.iter().map(|s| s.as_bytes().to_vec()));
    out.push(vec![0xff, 0xfe, 0xc3]); // invalid UTF-8
    out.push(Vec::new());
    out
}

/// xorshift64*: the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four random edits of a seed: byte flips, random bytes, nasty pieces, repeats,
/// cuts and splices with another seed.
fn mutate(rng: &mut Rng, pool: &[Vec<u8>]) -> Vec<u8> {
    let mut v = pool[rng.below(pool.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(7) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.insert(at, rng.next() as u8),
            2 => {
                let piece = NASTY[rng.below(NASTY.len())].as_bytes();
                v.splice(at..at, piece.iter().copied());
            }
            3 if !v.is_empty() => {
                let start = rng.below(v.len());
                let end = (start + 1 + rng.below(16)).min(v.len());
                let piece = v[start..end].repeat(1 + rng.below(50));
                v.splice(at..at, piece);
            }
            4 => v.truncate(at),
            5 => {
                let other = &pool[rng.below(pool.len())];
                let from = rng.below(other.len() + 1);
                v.splice(at..at, other[from..].iter().copied());
            }
            _ => {
                // A long run of one character: the elongation and spacing passes.
                let c = ["a", "é", "!", " ", "😀"][rng.below(5)];
                v.splice(at..at, c.repeat(1 + rng.below(300)).into_bytes());
            }
        }
    }
    v
}

fn run(target: &str, iterations: usize, seed: u64, check: impl Fn(&[u8])) {
    let pool = seeds(target);
    for input in &pool {
        check(input);
    }
    let mut rng = Rng(seed);
    for i in 0..iterations {
        let input = mutate(&mut rng, &pool);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input)));
        if let Err(e) = caught {
            panic!(
                "{target}: iteration {i} (seed {seed:#x}) broke an invariant on {:?}: {e:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}

#[test]
fn normalize_holds_on_seeds_and_mutations() {
    run("normalize", 100_000, 0x5EED_0001, |b| {
        check_normalize(&String::from_utf8_lossy(b))
    });
}

#[test]
fn score_holds_on_seeds_and_mutations() {
    let model = common::model::default_model();
    let policy = Policy::load(&common::files::path("models/thresholds.toml")).unwrap();
    run("score", 20_000, 0x5EED_0002, |b| {
        check_score(model, &policy, b)
    });
}

#[test]
fn the_mutator_makes_varied_inputs() {
    let pool = seeds("score");
    let mut rng = Rng(1);
    let inputs: std::collections::HashSet<Vec<u8>> =
        (0..500).map(|_| mutate(&mut rng, &pool)).collect();
    assert!(inputs.len() > 400, "only {} distinct inputs", inputs.len());
    assert!(inputs.iter().any(|i| std::str::from_utf8(i).is_err()));
    assert!(inputs.iter().any(|i| i.len() > 1_000));
}
