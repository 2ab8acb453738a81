//! The `train` command line: flags, progress bar, the files written and the summary.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use super::sources::{load_base, Base, BaseFiles};
use super::{Calibration, ClassWeight, Progress, TrainParams, Trained, ValidTrainParams};
use crate::corpus::read_seed_dir;
use crate::domain::Target;
use crate::features::{Lexicon, VectorizerParams};
use crate::model::RealDataEvaluation;

/// Train the TF-IDF + logistic models and write `<out>/<name>.vigie` with its report.
#[derive(Debug, Parser)]
#[command(name = "train", version)]
pub struct TrainArgs {
    /// Training file (repeatable): canonical JSONL, or CSV/TSV read through the column
    /// flags; each item weighs 1. Replaces the files of `--sources`.
    #[arg(long = "data", env = "VIGIE_TRAIN_DATA", value_delimiter = ',')]
    pub data: Vec<PathBuf>,
    /// Manifest of the training files and their weights (see `vigie::train::sources`),
    /// read when no `--data` is given.
    #[arg(
        long,
        env = "VIGIE_TRAIN_SOURCES",
        default_value = "training/sources.toml"
    )]
    pub sources: PathBuf,
    /// Lexicon file (`vigie::features::Lexicon`) whose categories become extra features;
    /// replaces the manifest's `lexicon`.
    #[arg(long, env = "VIGIE_TRAIN_LEXICON")]
    pub lexicon: Option<PathBuf>,
    #[command(flatten)]
    pub columns: crate::corpus::ColumnArgs,
    /// Seed documents (articles and reader comments).
    #[arg(long, env = "VIGIE_SEEDS", default_value = "seeds")]
    pub seeds: PathBuf,
    /// Labels of the seed items, keyed by id.
    #[arg(
        long,
        env = "VIGIE_SEED_LABELS",
        default_value = "training/seeds.labels.jsonl"
    )]
    pub seed_labels: PathBuf,
    /// Train without the seeds.
    #[arg(long)]
    pub no_seeds: bool,
    /// Held-out file, scored for the report and never trained on.
    #[arg(long, env = "VIGIE_HELDOUT", default_value = "training/heldout.jsonl")]
    pub heldout: PathBuf,
    /// No held-out evaluation.
    #[arg(long)]
    pub no_heldout: bool,
    /// Output directory.
    #[arg(long, env = "VIGIE_MODELS_DIR", default_value = "models")]
    pub out: PathBuf,
    /// Also write every labeled item's out-of-fold scores (JSONL `{"id", "scores"}`, as
    /// `score` writes), to compare training sets on the same items by paired bootstrap.
    #[arg(long)]
    pub oof: Option<PathBuf>,
    /// Model name: the files are <name>.vigie, <name>.report.json, <name>.report.md.
    #[arg(long, default_value = "default")]
    pub name: String,
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// L2 penalties tried by cross-validation.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.01,0.03,0.1,0.3,1,3,10"
    )]
    pub alphas: Vec<f64>,
    #[arg(long, value_enum, default_value_t = ClassWeight::None)]
    pub class_weight: ClassWeight,
    /// Keep n-grams seen in at least this many documents.
    #[arg(long, default_value_t = 2)]
    pub min_df: u32,
    #[arg(long, default_value_t = 500_000)]
    pub max_features: usize,
    /// Seeds the fold assignment.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Stance target used when a request names none.
    #[arg(long)]
    pub default_target: Option<String>,
    #[arg(long, default_value_t = 200)]
    pub max_iterations: u64,
    /// Stop a fit when the gradient of the mean loss has an L2 norm below this.
    #[arg(long, default_value_t = 1e-4)]
    pub gradient_tolerance: f64,
    /// Scale the binary heads' columns by `|log-count ratio|^E` before fitting (see
    /// `vigie::train::nb`); 0, the default, trains on plain TF-IDF. 0.25 lifted ROC-AUC on
    /// every corpus of `bench/compare`, but on the small default corpus it raised the English
    /// identity-term false positives of the bias check, so the default model trains without.
    #[arg(long, default_value_t = 0.0)]
    pub nb_exponent: f64,
    /// Added to each class's column sums before the ratio of `--nb-exponent`.
    #[arg(long, default_value_t = 0.3)]
    pub nb_smoothing: f64,
    /// Calibration of the binary heads' probabilities (see `vigie::train::calibration`):
    /// `platt` fits `σ(a·z + b)` on the out-of-fold logits; `auto` is `platt` with
    /// `--class-weight balanced` (whose probabilities lean towards the minority class) and
    /// `none` otherwise.
    #[arg(long, value_enum, default_value_t = CalibrationArg::Auto)]
    pub calibration: CalibrationArg,
    /// Identity terms and templates for the unintended-bias check in the report (skipped
    /// when the folder does not exist).
    #[arg(long, default_value = "training/bias")]
    pub bias: PathBuf,
    /// Real-data evaluation (`bench/realdata/run.sh`) put into the report when it names the
    /// model trained, and ignored otherwise. It is measured on the trained model, so the
    /// report carries it from the second identical training on.
    #[arg(long, default_value = "models/default.realdata.json")]
    pub realdata: PathBuf,
    /// Print the seed items (id, lang, text) as JSONL and exit: the ids to label.
    #[arg(long)]
    pub print_seeds: bool,
}

/// `--calibration`: a [`Calibration`], or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CalibrationArg {
    Auto,
    None,
    Platt,
}

impl CalibrationArg {
    pub fn resolve(self, class_weight: ClassWeight) -> Calibration {
        match (self, class_weight) {
            (Self::None, _) | (Self::Auto, ClassWeight::None) => Calibration::None,
            (Self::Platt, _) | (Self::Auto, ClassWeight::Balanced) => Calibration::Platt,
        }
    }
}

impl TrainArgs {
    /// The files the flags name.
    pub fn base_files(&self) -> anyhow::Result<BaseFiles> {
        Ok(BaseFiles {
            manifest: self.sources.clone(),
            data: self.data.clone(),
            lexicon: self.lexicon.clone(),
            seeds: (!self.no_seeds).then(|| (self.seeds.clone(), self.seed_labels.clone())),
            heldout: (!self.no_heldout).then(|| self.heldout.clone()),
            columns: self.columns.column_map()?,
        })
    }
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }
    fn fit_done(&self) {
        self.0.inc(1);
    }
    fn message(&self, msg: &str) {
        self.0.set_message(msg.to_owned());
    }
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    if args.print_seeds {
        return print_seeds(&args);
    }
    let started = Instant::now();
    let Base {
        data,
        lexicon,
        heldout,
    } = load_base(&args.base_files()?)?;
    let params = params(&args, lexicon)?;
    eprintln!(
        "training on {} labeled items from {} sources{}",
        data.records.len(),
        data.sources.len(),
        heldout
            .as_ref()
            .map_or(String::new(), |(c, _)| format!("; {} held out", c.items))
    );
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} fits  {msg}",
        )
        .expect("valid template"),
    );
    let mut trained = params.fit(
        &data,
        heldout.as_ref().map(|(c, r)| (c, r.as_slice())),
        &Bar(bar.clone()),
    )?;
    bar.finish_and_clear();
    let has_toxicity = trained
        .model
        .card
        .heads
        .iter()
        .any(|h| h.name.as_str() == "toxicity");
    if has_toxicity && args.bias.join("templates.tsv").exists() {
        trained.report.bias = Some(
            super::bias::check_dir(&trained.model, "toxicity", &args.bias)
                .map_err(anyhow::Error::msg)?,
        );
    }
    trained.report.realdata =
        RealDataEvaluation::read_for(&args.realdata, &trained.model.card.model_id)
            .map_err(anyhow::Error::msg)?;
    let model_path = write(&args, &trained)?;

    let card = &trained.model.card;
    println!("model {} → {}", card.model_id, model_path.display());
    print!("{}", trained.report.summary());
    println!(
        "{} features; trained in {:.1} s",
        card.n_features,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `--print-seeds`: the seed items as JSONL.
fn print_seeds(args: &TrainArgs) -> anyhow::Result<()> {
    for doc in read_seed_dir(&args.seeds).map_err(anyhow::Error::msg)? {
        for item in doc.items() {
            println!(
                "{}",
                serde_json::json!({"id": item.id, "lang": item.lang.code(), "text": item.text})
            );
        }
    }
    Ok(())
}

/// The training settings of the flags and the lexicon, checked.
fn params(args: &TrainArgs, lexicon: Option<Lexicon>) -> anyhow::Result<ValidTrainParams> {
    Ok(TrainParams {
        name: args.name.clone(),
        vectorizer: VectorizerParams {
            min_df: args.min_df,
            max_features: args.max_features,
            ..Default::default()
        },
        folds: args.folds,
        alphas: args.alphas.clone(),
        class_weight: args.class_weight,
        nb_scaling: (args.nb_exponent != 0.0).then_some(super::NbScaling {
            exponent: args.nb_exponent,
            smoothing: args.nb_smoothing,
        }),
        calibration: args.calibration.resolve(args.class_weight),
        max_iterations: args.max_iterations,
        gradient_tolerance: args.gradient_tolerance,
        seed: args.seed,
        default_target: args
            .default_target
            .as_deref()
            .map(Target::from_name)
            .transpose()
            .map_err(anyhow::Error::msg)?,
        lexicon,
        ..Default::default()
    }
    .check()?)
}

/// Writes `<out>/<name>.vigie` and its two reports; returns the model's path.
fn write(args: &TrainArgs, trained: &Trained) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(&args.out)?;
    let model_path = args.out.join(format!("{}.vigie", args.name));
    trained.model.save(&model_path)?;
    std::fs::write(
        args.out.join(format!("{}.report.json", args.name)),
        trained.report.to_json(),
    )?;
    std::fs::write(
        args.out.join(format!("{}.report.md", args.name)),
        trained.report.to_markdown(),
    )?;
    if let Some(path) = &args.oof {
        write_out_of_fold(path, &trained.out_of_fold)?;
    }
    Ok(model_path)
}

/// Writes out-of-fold scores as `score` lines: one per item, its heads' scores together.
fn write_out_of_fold(
    path: &std::path::Path,
    oof: &std::collections::BTreeMap<String, Vec<(String, f64)>>,
) -> anyhow::Result<()> {
    let mut by_id: std::collections::BTreeMap<&str, serde_json::Map<String, serde_json::Value>> =
        Default::default();
    for (head, scores) in oof {
        for (id, s) in scores {
            by_id
                .entry(id)
                .or_default()
                .insert(head.clone(), (*s).into());
        }
    }
    let mut out = String::new();
    for (id, scores) in by_id {
        out.push_str(&serde_json::json!({"id": id, "scores": scores}).to_string());
        out.push('\n');
    }
    std::fs::write(path, out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A retraining reads `BaseFiles::in_dir` and trains with `Base::default_params`: both
    /// must stay what `train` does with no flags.
    #[test]
    fn no_flags_read_the_default_files_with_the_default_settings() {
        let args = TrainArgs::parse_from(["train"]);
        assert_eq!(
            args.base_files().unwrap(),
            BaseFiles::in_dir(std::path::Path::new(""))
        );
        let lexicon = Lexicon::parse("idiot\tinsult\ten\n").unwrap();
        let base = Base {
            lexicon: Some(lexicon.clone()),
            ..Base::default()
        };
        let from_flags = params(&args, Some(lexicon)).unwrap();
        assert_eq!(from_flags.params(), &base.default_params());
    }
}
