//! `cargo run --bin serve`: the scoring API on the committed default model.
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    vigie::http::serve::run(vigie::http::serve::ServeArgs::parse()).await
}
