//! `cargo run --bin train`: fit the default model from `seeds/` and `training/`.
use clap::Parser;

// Training allocates many short-lived vectors (vocabulary counting, fold matrices, chunk
// gradients); glibc's malloc hands large ones back to the kernel and faults them in again.
// mimalloc keeps them, which makes training on large corpora a little faster for about
// 100 MiB more peak memory. Scoring allocates little and runs no faster with it, so only
// this binary uses it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    vigie::train::cli::run(vigie::train::cli::TrainArgs::parse())
}
