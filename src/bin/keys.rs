//! `cargo run --bin keys -- create alice --role moderator`: API keys, stored hashed.
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    vigie::cli::run_keys(vigie::cli::KeysArgs::parse()).await
}
