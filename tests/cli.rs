//! The command-line tools, run as a user would: `train`, `score`, `eval`.

#[path = "common"]
mod common {
    pub mod files;
    pub mod model;
    pub mod tempdir;
}

use std::io::Write;
use std::process::{Command, Stdio};

fn run(bin: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(bin)
        .args(args)
        .current_dir(common::files::root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn score_writes_one_line_per_comment_in_order() {
    let input = "{\"id\": \"a\", \"text\": \"Quel connard\"}\n\n{\"id\": 7, \"text\": \"Merci pour l'article\", \"target\": \"nucleaire\"}\n{\"id\": \"b\", \"text\": \"\"}\nnot json\n";
    let (ok, out, err) = run(env!("CARGO_BIN_EXE_score"), &[], Some(input));
    assert!(!ok, "bad lines make the exit status non-zero");
    assert!(
        err.contains("scored 4 comments") && err.contains("comments/s") && err.contains("2 errors"),
        "{err}"
    );
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["id"], "a");
    let flag = common::model::default_model()
        .card
        .head("insult")
        .unwrap()
        .thresholds
        .flag;
    assert!(
        lines[0]["scores"]["insult"].as_f64().unwrap() >= flag as f64,
        "{}",
        lines[0]
    );
    assert_eq!(lines[0]["stance"]["target"], "gouvernement");
    assert_eq!(lines[1]["id"], 7);
    assert_eq!(lines[1]["stance"]["target"], "nucleaire");
    assert_eq!(lines[2]["error"]["code"], "empty_text");
    assert_eq!(lines[3]["error"]["code"], "invalid_json");
    assert_eq!(lines[3]["line"], 5);

    let (ok, out, _) = run(
        env!("CARGO_BIN_EXE_score"),
        &[],
        Some("{\"text\": \"bonjour\"}\n"),
    );
    assert!(ok);
    assert_eq!(out.lines().count(), 1);
}

#[test]
fn eval_reports_every_head_and_stance() {
    let (ok, out, err) = run(
        env!("CARGO_BIN_EXE_eval"),
        &["--data", "training/heldout.jsonl", "--thresholds"],
        None,
    );
    assert!(ok, "{err}");
    for head in [
        "toxicity",
        "insult",
        "threat",
        "identity_attack",
        "profanity",
    ] {
        assert!(out.lines().any(|l| l.starts_with(head)), "{head}: {out}");
    }
    assert!(
        out.contains("stance:gouvernement") && out.contains("F_avg="),
        "{out}"
    );
    assert!(out.contains("precision / recall / F1 by threshold"));

    let (ok, out, _) = run(
        env!("CARGO_BIN_EXE_eval"),
        &["--data", "training/heldout.jsonl", "--json"],
        None,
    );
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // The held-out metrics in the model card are these very numbers.
    let card = &common::model::default_model().card;
    let tox = card.head("toxicity").unwrap().heldout.as_ref().unwrap();
    // serde_json's default float parsing may be one unit in the last place off.
    let printed = v["heads"]["toxicity"]["roc_auc"].as_f64().unwrap();
    assert!(
        (printed - tox.roc_auc).abs() < 1e-12,
        "{printed} vs {}",
        tox.roc_auc
    );

    let (ok, _, err) = run(
        env!("CARGO_BIN_EXE_eval"),
        &["--data", "/nonexistent.jsonl"],
        None,
    );
    assert!(!ok && err.contains("/nonexistent.jsonl"), "{err}");
}

/// How many items `training/heldout.jsonl` holds: the corpus grows, the tests follow it.
fn heldout_items() -> usize {
    vigie::corpus::read_jsonl(&common::files::path("training/heldout.jsonl"))
        .unwrap()
        .len()
}

/// `train` on the held-out items (3 folds, one alpha) into `out_dir` as `name`, with
/// `extra` flags.
fn train_small(out_dir: &str, name: &str, extra: &[&str]) -> (bool, String, String) {
    let mut args = vec![
        "--data",
        "training/heldout.jsonl",
        "--no-seeds",
        "--no-heldout",
        "--folds",
        "3",
        "--alphas",
        "1",
        "--out",
        out_dir,
        "--name",
        name,
    ];
    args.extend_from_slice(extra);
    run(env!("CARGO_BIN_EXE_train"), &args, None)
}

#[test]
fn train_lists_seed_ids_and_trains_on_any_canonical_file() {
    let (ok, out, _) = run(env!("CARGO_BIN_EXE_train"), &["--print-seeds"], None);
    assert!(ok);
    assert_eq!(out.lines().filter(|l| l.contains(":c")).count(), 12);

    let tmp = common::tempdir::TempDir::new("cli-train");
    let (dir, out_dir) = (tmp.path(), tmp.path().to_str().unwrap());
    let (ok, out, err) = train_small(out_dir, "small", &[]);
    assert!(ok, "{err}");
    assert!(
        out.contains("toxicity") && out.contains("trained in"),
        "{out}"
    );
    for f in ["small.vigie", "small.report.json", "small.report.md"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let m = vigie::model::Model::load(&dir.join("small.vigie")).unwrap();
    assert_eq!(m.card.training.items, heldout_items());

    let (ok, _, err) = run(
        env!("CARGO_BIN_EXE_train"),
        &["--data", "/nonexistent.jsonl", "--out", "/tmp/x"],
        None,
    );
    assert!(!ok && err.contains("/nonexistent.jsonl"), "{err}");

    let (ok, _, err) = run(
        env!("CARGO_BIN_EXE_train"),
        &[
            "--data",
            "training/heldout.jsonl",
            "--no-seeds",
            "--no-heldout",
            "--nb-exponent",
            "2",
            "--out",
            out_dir,
        ],
        None,
    );
    assert!(
        !ok && err.contains("nb exponent must be in (0, 1]"),
        "{err}"
    );
}

#[test]
fn train_calibrates_class_weighted_heads_unless_told_not_to() {
    let tmp = common::tempdir::TempDir::new("cli-calibration");
    let (dir, out_dir) = (tmp.path(), tmp.path().to_str().unwrap());
    let train = |extra: &[&str], name: &str| train_small(out_dir, name, extra);
    let head = |name: &str| {
        let m = vigie::model::Model::load(&dir.join(format!("{name}.vigie"))).unwrap();
        m.card.head("toxicity").unwrap().clone()
    };

    // `auto` (the default) calibrates when classes are balanced by weights...
    let (ok, out, err) = train(&["--class-weight", "balanced"], "auto");
    assert!(ok, "{err}");
    assert!(out.contains("calibration: toxicity p = σ("), "{out}");
    let p = head("auto").calibration.expect("calibrated");
    assert!(p.a > 0.0, "{p:?}");
    let md = std::fs::read_to_string(dir.join("auto.report.md")).unwrap();
    assert!(md.contains("Calibrated by Platt scaling"), "{md}");
    // ...and `none` keeps the weighted model's own probabilities.
    let (ok, out, err) = train(
        &["--class-weight", "balanced", "--calibration", "none"],
        "raw",
    );
    assert!(ok, "{err}");
    assert!(!out.contains("calibration:"), "{out}");
    assert_eq!(head("raw").calibration, None);
    // Unweighted training is left alone unless asked.
    let (ok, out, _) = train(&[], "plain");
    assert!(ok && !out.contains("calibration:"), "{out}");
    let (ok, out, _) = train(&["--calibration", "platt"], "platt");
    assert!(ok && out.contains("calibration: toxicity"), "{out}");

    let (ok, _, err) = train(&["--calibration", "isotonic"], "bad");
    assert!(!ok && err.contains("platt"), "{err}");
}

/// `--sources` reads a manifest of files and weights; a weight changes the model, a bad
/// manifest gets a clear error.
#[test]
fn train_reads_a_weighted_manifest() {
    let tmp = common::tempdir::TempDir::new("cli-sources");
    let heldout = common::files::path("training/heldout.jsonl");
    let manifest = |weight: &str| {
        let path = tmp.path().join(format!("sources-{weight}.toml"));
        std::fs::write(
            &path,
            format!(
                "[[source]]\npath = {:?}\nweight = {weight}\n",
                heldout.to_str().unwrap()
            ),
        )
        .unwrap();
        path.to_str().unwrap().to_owned()
    };
    let train = |sources: &str, name: &str| {
        run(
            env!("CARGO_BIN_EXE_train"),
            &[
                "--sources",
                sources,
                "--no-seeds",
                "--no-heldout",
                "--folds",
                "3",
                "--alphas",
                "1",
                "--out",
                tmp.path().to_str().unwrap(),
                "--name",
                name,
            ],
            None,
        )
    };
    let (ok, _, err) = train(&manifest("1"), "unit");
    assert!(ok, "{err}");
    let (ok, _, err) = train(&manifest("0.5"), "half");
    assert!(ok, "{err}");
    let load = |n: &str| vigie::model::Model::load(&tmp.path().join(format!("{n}.vigie"))).unwrap();
    let (unit, half) = (load("unit"), load("half"));
    assert_eq!(unit.card.training.items, heldout_items());
    assert_ne!(
        unit.card.model_id, half.card.model_id,
        "a weight is part of the model"
    );
    let (ok, _, err) = train(&manifest("0"), "zero");
    assert!(
        !ok && err.contains("weight must be a positive number"),
        "{err}"
    );
    let (ok, _, err) = train("/nonexistent/sources.toml", "none");
    assert!(!ok && err.contains("/nonexistent/sources.toml"), "{err}");
}
