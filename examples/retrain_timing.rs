//! Times one retraining as the service would run it: the base data `train` reads with no
//! flags, the shipped model as champion, and a canonical JSONL file as the site's labels.
//!
//!     cargo run --release --example retrain_timing -- SITE.jsonl [LIMIT] [full]
//!
//! LIMIT keeps the file's first LIMIT records; `full` chooses every penalty by
//! cross-validation instead of reusing the champion's. Prints the wall times of loading,
//! of each stage and of the whole retraining, then the comparison as JSON.

use std::path::Path;
use std::time::Instant;

use vigie::corpus::read_jsonl;
use vigie::learning::retrain::{retrain, RetrainParams};
use vigie::model::Model;
use vigie::train::sources::{load_base, BaseFiles};
use vigie::train::Progress;

/// Prints each stage's message with the seconds since the retraining started.
struct Stages(Instant);

impl Progress for Stages {
    fn message(&self, msg: &str) {
        eprintln!("{:7.1} s  {msg}", self.0.elapsed().as_secs_f64());
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let site_path = args
        .first()
        .expect("usage: retrain_timing SITE.jsonl [LIMIT] [full]");
    let limit: usize = args.get(1).map_or(Ok(usize::MAX), |n| n.parse())?;
    let full = args.get(2).is_some_and(|a| a == "full");

    let started = Instant::now();
    let base = load_base(&BaseFiles::in_dir(Path::new(".")))?;
    let champion = Model::load(Path::new("models/default.vigie"))?;
    let mut site = read_jsonl(Path::new(site_path))?;
    site.truncate(limit);
    let loaded = started.elapsed().as_secs_f64();

    let params = RetrainParams {
        reuse_penalties: !full,
        ..Default::default()
    }
    .check()?;
    let started = Instant::now();
    let out = retrain(&base, &site, &champion, &params, &Stages(started))?;
    let trained = started.elapsed().as_secs_f64();
    eprintln!(
        "{} site labels ({} trained on), {} base items: loaded in {loaded:.1} s, \
         retrained in {trained:.1} s ({})",
        site.len(),
        out.comparison.trained_on,
        base.data.records.len(),
        if full {
            "every penalty"
        } else {
            "the champion's penalties"
        },
    );
    eprintln!("{}", out.comparison.verdict);
    println!("{}", serde_json::to_string_pretty(&out.comparison)?);
    Ok(())
}
