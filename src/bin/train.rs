//! `cargo run --bin train`: fit the default model from `seeds/` and `training/`.
use clap::Parser;

// Training allocates many short-lived vectors (vocabulary counting, fold matrices, chunk
// gradients); glibc's malloc hands large ones back to the kernel and faults them in again.
// With argmin's solver mimalloc took training on 20,000 tweets from 4.5 s to 3.7 s; with
// the in-house L-BFGS, three alternating runs gave 5.0-5.4 s with it and 5.2-6.3 s
// without, for about 100 MiB more peak memory. (Scoring allocates little and runs no
// faster with it, so only this binary uses it.)
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    vigie::train::cli::run(vigie::train::cli::TrainArgs::parse())
}
