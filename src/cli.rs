//! The `score` and `eval` command lines.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use rayon::prelude::*;
use serde::Deserialize;

use crate::corpus::read_labeled;
pub use crate::corpus::ColumnArgs;
use crate::model::Model;
use crate::scoring;
use crate::train::{evaluate, metrics};

/// Score comments: JSONL `{"id"?, "text", "target"?, "lang"?}` on stdin, one
/// `{"id", "scores", "stance"}` line per comment on stdout, in input order.
#[derive(Debug, Parser)]
#[command(name = "score", version)]
pub struct ScoreArgs {
    #[arg(long, env = "VIGIE_MODEL", default_value = "models/default.vigie")]
    pub model: PathBuf,
    /// Comments scored per parallel chunk.
    #[arg(long, default_value_t = 4096)]
    pub chunk: usize,
    /// Worker threads (default: one per core). `--threads 1 --chunk 1` scores one comment
    /// at a time, as a client calling the service would.
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(default)]
    id: Option<serde_json::Value>,
    text: String,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    // Canonical training records can be scored as they are.
    #[serde(default)]
    #[allow(dead_code)]
    labels: Option<serde_json::Value>,
}

fn score_line(model: &Model, n: usize, line: &str) -> serde_json::Value {
    let fail = |id: Option<serde_json::Value>, code: &str, message: String| serde_json::json!({"id": id, "line": n, "error": {"code": code, "message": message}});
    let l: Line = match serde_json::from_str(line) {
        Ok(l) => l,
        Err(e) => return fail(None, "invalid_json", e.to_string()),
    };
    // No length limit here: a file is not a request.
    let checked = scoring::validate(
        model,
        usize::MAX - 1,
        l.text,
        l.target.as_deref(),
        l.lang.as_deref(),
    );
    match checked {
        Ok(input) => {
            let s = scoring::scores(model, &input);
            serde_json::json!({"id": l.id, "lang": s.lang, "scores": s.scores, "stance": s.stance})
        }
        Err(e) => fail(l.id, cli_code(&e), e.to_string()),
    }
}

/// The command line has always called every text error `empty_text` (a NUL included);
/// the API says `invalid_text` for a NUL.
fn cli_code(e: &scoring::ScoreError) -> &'static str {
    match e {
        scoring::ScoreError::Text(_) => "empty_text",
        _ => e.code(),
    }
}

pub fn run_score(args: ScoreArgs) -> anyhow::Result<()> {
    if args.chunk == 0 {
        anyhow::bail!("--chunk must be at least 1");
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()?;
    pool.install(|| score_stream(&args))
}

fn score_stream(args: &ScoreArgs) -> anyhow::Result<()> {
    let model = Model::load(&args.model)?;
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let started = Instant::now();
    let (mut total, mut errors) = (0usize, 0usize);
    let mut lines = stdin.lines().enumerate();
    loop {
        let mut chunk: Vec<(usize, String)> = Vec::with_capacity(args.chunk);
        for (i, line) in lines.by_ref() {
            let line = line?;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            chunk.push((i + 1, line));
            if chunk.len() == args.chunk {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let scored: Vec<serde_json::Value> = chunk
            .par_iter()
            .map(|(n, l)| score_line(&model, *n, l))
            .collect();
        for v in scored {
            errors += usize::from(v.get("error").is_some());
            serde_json::to_writer(&mut out, &v)?;
            out.write_all(b"\n")?;
        }
        total += chunk.len();
    }
    out.flush()?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "scored {total} comments in {secs:.2} s ({:.0} comments/s, {} threads); {errors} errors",
        total as f64 / secs.max(1e-9),
        rayon::current_num_threads()
    );
    if errors > 0 {
        anyhow::bail!("{errors} lines could not be scored (see their \"error\" objects)");
    }
    Ok(())
}

/// Measure a model on labeled canonical JSONL.
#[derive(Debug, Parser)]
#[command(name = "eval", version)]
pub struct EvalArgs {
    #[arg(long, env = "VIGIE_MODEL", default_value = "models/default.vigie")]
    pub model: PathBuf,
    /// Labeled test file(s): canonical JSONL, or CSV/TSV with the column flags.
    #[arg(long = "data")]
    pub data: Vec<PathBuf>,
    #[command(flatten)]
    pub columns: ColumnArgs,
    /// Also print precision/recall per threshold for every head.
    #[arg(long)]
    pub thresholds: bool,
    /// Print the results as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Also run the unintended-bias check with the identity terms and templates of this
    /// folder (`identities.tsv`, `templates.tsv`), e.g. `training/bias`.
    #[arg(long)]
    pub bias: Option<PathBuf>,
    /// The head the bias check scores.
    #[arg(long, default_value = "toxicity")]
    pub bias_head: String,
}

pub fn run_eval(args: EvalArgs) -> anyhow::Result<()> {
    let model = Model::load(&args.model)?;
    if args.data.is_empty() && args.bias.is_none() {
        anyhow::bail!("nothing to evaluate: give --data FILE and/or --bias DIR");
    }
    let map = args.columns.column_map()?;
    let mut records = Vec::new();
    for f in &args.data {
        records.extend(read_labeled(f, map.as_ref())?.0);
    }
    let ev = evaluate(&model, &records);
    let bias = args
        .bias
        .as_deref()
        .map(|dir| crate::train::bias::check_dir(&model, &args.bias_head, dir))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    if args.json {
        let heads: serde_json::Map<_, _> = model
            .card
            .heads
            .iter()
            .zip(&ev.heads)
            .map(|(h, m)| (h.name.to_string(), serde_json::json!(m)))
            .collect();
        let stance: serde_json::Map<_, _> = model
            .card
            .stance
            .iter()
            .zip(&ev.stance)
            .map(|(s, m)| (s.target.to_string(), serde_json::json!(m)))
            .collect();
        let reliability: serde_json::Map<_, _> = model
            .card
            .heads
            .iter()
            .zip(&ev.scored)
            .filter(|(_, (_, l))| !l.is_empty())
            .map(|(h, (s, l))| {
                let bins: Vec<_> = metrics::reliability(s, l)
                    .into_iter()
                    .map(|(mean, rate, n)| serde_json::json!({"mean_score": mean, "positive_rate": rate, "n": n}))
                    .collect();
                (h.name.to_string(), serde_json::json!(bins))
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"model_id": model.card.model_id, "items": records.len(), "heads": heads, "stance": stance, "reliability": reliability, "bias": bias})
        );
        return Ok(());
    }
    println!("model {} on {} items", model.card.model_id, records.len());
    println!(
        "{:<16} {:>5} {:>5} {:>8} {:>8} {:>6} {:>6} {:>8} {:>7}",
        "head", "n", "pos", "roc_auc", "avg_prec", "thresh", "f1", "macro_f1", "brier"
    );
    for (h, m) in model.card.heads.iter().zip(&ev.heads) {
        match m {
            Some(m) => println!(
                "{:<16} {:>5} {:>5} {:>8.3} {:>8.3} {:>6.2} {:>6.3} {:>8.3} {:>7.3}",
                h.name.as_str(),
                m.n,
                m.positives,
                m.roc_auc,
                m.average_precision,
                m.threshold,
                m.f1,
                m.macro_f1,
                m.brier
            ),
            None => println!(
                "{:<16} (not labeled with both classes in these files)",
                h.name.as_str()
            ),
        }
    }
    for (s, m) in model.card.stance.iter().zip(&ev.stance) {
        match m {
            Some(m) => println!(
                "stance:{:<9} n={:<5} accuracy={:.3} macro_f1={:.3} F_avg={:.3} (F1 favor {:.3}, against {:.3}, none {:.3})",
                s.target.as_str(), m.n, m.accuracy, m.macro_f1, m.f_avg,
                m.f1.values().next().unwrap_or(&0.0), m.f1.values().nth(1).unwrap_or(&0.0), m.f1.values().nth(2).unwrap_or(&0.0)
            ),
            None => println!("stance:{:<9} (no labeled items)", s.target.as_str()),
        }
    }
    for (h, (s, l)) in model.card.heads.iter().zip(&ev.scored) {
        if l.is_empty() {
            continue;
        }
        println!(
            "\n{} — reliability: mean score vs observed positive rate per score bin",
            h.name.as_str()
        );
        for (i, (mean, rate, n)) in metrics::reliability(s, l).into_iter().enumerate() {
            if n > 0 {
                println!(
                    "  [{:.1}, {:.1})  n={n:<6} mean score {mean:.3}  positive rate {rate:.3}",
                    i as f64 / 10.0,
                    (i + 1) as f64 / 10.0
                );
            }
        }
    }
    if args.thresholds {
        for (h, (s, l)) in model.card.heads.iter().zip(&ev.scored) {
            if l.is_empty() {
                continue;
            }
            println!(
                "\n{} — precision / recall / F1 by threshold",
                h.name.as_str()
            );
            for t in (1..20).map(|i| i as f64 * 0.05) {
                let (p, r, f) = metrics::precision_recall_f1(s, l, t);
                println!("  {t:.2}  P={p:.3}  R={r:.3}  F1={f:.3}");
            }
        }
    }
    if let Some(b) = &bias {
        println!(
            "\nunintended bias: neutral and hostile template sentences per identity term\n{}",
            b.to_markdown(15)
        );
    }
    Ok(())
}

/// Manage API keys: `keys create NAME --role moderator`, `keys list`, `keys revoke NAME`.
/// Keys are printed once and stored hashed.
#[derive(Debug, Parser)]
#[command(name = "keys", version)]
pub struct KeysArgs {
    #[command(flatten)]
    pub db: crate::store::DbArgs,
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it (the only time it is shown).
    Create {
        name: String,
        /// scorer, moderator or admin.
        #[arg(long)]
        role: crate::domain::Role,
    },
    /// List keys (names, roles, dates; never the keys).
    List,
    /// Revoke a key.
    Revoke { name: String },
}

impl clap::ValueEnum for crate::domain::Role {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            crate::domain::Role::Scorer,
            crate::domain::Role::Moderator,
            crate::domain::Role::Admin,
        ]
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

pub async fn run_keys(args: KeysArgs) -> anyhow::Result<()> {
    use crate::store::{generate_key, hash_key, now_ms};
    let store = args.db.open().await?;
    match args.command {
        KeysCommand::Create { name, role } => {
            crate::store::check_key_name(&name).map_err(anyhow::Error::msg)?;
            let key = generate_key();
            store
                .create_key(&name, &hash_key(&key), role, now_ms())
                .await?;
            eprintln!("created {role} key {name:?}; it is shown once, keep it:");
            println!("{key}");
        }
        KeysCommand::List => {
            for k in store.list_keys().await? {
                let revoked = k.revoked_at_ms.map_or(String::new(), |t| {
                    format!("  revoked {}", crate::util::rfc3339(t))
                });
                println!(
                    "{:<24} {:<9} created {}{revoked}",
                    k.name,
                    k.role.as_str(),
                    crate::util::rfc3339(k.created_at_ms)
                );
            }
        }
        KeysCommand::Revoke { name } => {
            anyhow::ensure!(
                store.revoke_key(&name, now_ms()).await?,
                "no live key named {name:?}"
            );
            eprintln!("revoked {name:?}");
        }
    }
    Ok(())
}
