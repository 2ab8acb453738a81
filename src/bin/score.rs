//! `cargo run --bin score`: see `vigie::cli::ScoreArgs`.
use clap::Parser;

fn main() -> anyhow::Result<()> {
    vigie::cli::run_score(vigie::cli::ScoreArgs::parse())
}
