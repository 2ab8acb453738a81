//! `cargo run --bin train`: fit the default model from `seeds/` and `training/`.
use clap::Parser;

fn main() -> anyhow::Result<()> {
    vigie::train::cli::run(vigie::train::cli::TrainArgs::parse())
}
