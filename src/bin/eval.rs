//! `cargo run --bin eval`: see `vigie::cli::EvalArgs`.
use clap::Parser;

fn main() -> anyhow::Result<()> {
    vigie::cli::run_eval(vigie::cli::EvalArgs::parse())
}
