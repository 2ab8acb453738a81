#!/usr/bin/env python3
"""Side-by-side benchmark: scikit-learn (TF-IDF FeatureUnion + LogisticRegressionCV) vs Vigie.

Run through bench/compare/run.sh, which sets up the venv and builds Vigie's binaries.

For each corpus of ../shared/data (never copied into the project), this script:
  1. derives a deterministic train/test split and writes <out>/<corpus>/{train,test}.csv
     (id,text,label) and test.jsonl ({"id","text"}, for scoring);
  2. runs the scikit-learn side in a child Python process (this same file, `_sklearn`
     sub-command) and reads its peak RSS with os.wait4;
  3. runs Vigie's `train`, `eval` and `score` release binaries as child processes, also
     with os.wait4;
  4. prints one Markdown table, writes it to <out>/results.md and the raw numbers to
     <out>/results.json, and says whether each target holds.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

# ---------------------------------------------------------------------------------------
# Corpora
# ---------------------------------------------------------------------------------------

CORPORA = ["davidson", "mlma_fr", "mlma_en", "fox_news", "wiki_toxicity"]

CORPUS_FILES = {
    "davidson": "davidson/labeled_data.csv",
    "mlma_fr": "mlma/fr_dataset.csv",
    "mlma_en": "mlma/en_dataset.csv",
    "fox_news": "fox-news-comments/fox-news-comments.json",
    "wiki_toxicity": "wiki-toxicity-testset/toxicity_nonfuzzed_testset.csv",
}

# Comments timed one at a time for the single-comment throughput (both sides, same texts).
SINGLE_CAP = 2000
# Lines of the file Vigie's `score` reads for the batch throughput (the test texts repeated,
# so that start-up and model loading do not count; scikit-learn scores the test set once).
BATCH_LINES = 20_000


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_corpus(name: str, data_dir: Path) -> list[tuple[str, str, int]]:
    """(id, text, label) rows; label 1 = toxic. Texts are returned unchanged."""
    path = data_dir / CORPUS_FILES[name]
    rows: list[tuple[str, str, int]] = []
    if name == "davidson":
        # First column has an empty header (the pandas index): that is the id.
        # class: 0 hate speech, 1 offensive -> toxic; 2 neither -> not toxic.
        for r in _read_csv(path):
            cls = int(r["class"])
            if cls not in (0, 1, 2):
                raise ValueError(f"{path}: unexpected class {cls!r}")
            rows.append((r[""], r["tweet"], 1 if cls in (0, 1) else 0))
    elif name in ("mlma_fr", "mlma_en"):
        # sentiment: labels joined by "_"; exactly "normal" -> 0, anything else -> 1.
        for r in _read_csv(path):
            rows.append((r["HITId"], r["tweet"], 0 if r["sentiment"] == "normal" else 1))
    elif name == "fox_news":
        # JSON lines; id = line number (1-based).
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                o = json.loads(line)
                if o["label"] not in (0, 1):
                    raise ValueError(f"{path}:{n}: unexpected label {o['label']!r}")
                rows.append((str(n), o["text"], int(o["label"])))
    elif name == "wiki_toxicity":
        for r in _read_csv(path):
            if r["toxic"] not in ("True", "False"):
                raise ValueError(f"{path}: unexpected toxic {r['toxic']!r}")
            rows.append((r["rev_id"], r["comment"], 1 if r["toxic"] == "True" else 0))
    else:
        raise ValueError(f"unknown corpus {name!r}; known: {', '.join(CORPORA)}")
    ids = [r[0] for r in rows]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{name}: duplicate ids")
    return rows


def is_test(corpus: str, row_id: str, fold: int = 0) -> bool:
    """The split rule: test iff int(sha256(f"{corpus}:{id}")[:8], 16) % 5 == fold (about 20 %).
    Fold 0 is the comparison's split; folds 1-4 are the other four fifths (see folds.sh)."""
    h = hashlib.sha256(f"{corpus}:{row_id}".encode("utf-8")).hexdigest()
    return int(h[:8], 16) % 5 == fold


def single_texts(test: list) -> list:
    """The SINGLE_CAP items timed one at a time: the test split in order, cycled."""
    return [test[j % len(test)] for j in range(SINGLE_CAP)] if test else []


def write_split(corpus: str, rows, cdir: Path, fold: int = 0) -> dict:
    train = [r for r in rows if not is_test(corpus, r[0], fold)]
    test = [r for r in rows if is_test(corpus, r[0], fold)]
    cdir.mkdir(parents=True, exist_ok=True)
    for fname, part in (("train.csv", train), ("test.csv", test)):
        with open(cdir / fname, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            w.writerow(["id", "text", "label"])
            for i, t, y in part:
                w.writerow([i, t, y])
    with open(cdir / "test.jsonl", "w", encoding="utf-8") as fh:
        for i, t, _ in test:
            fh.write(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n")
    # The same texts the scikit-learn side times one by one: the test texts in order, cycled
    # to SINGLE_CAP when the test split is smaller (a few hundred comments take Vigie a few
    # milliseconds, too short a run to time).
    with open(cdir / "single.jsonl", "w", encoding="utf-8") as fh:
        for i, t, _ in single_texts(test):
            fh.write(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n")
    # Canonical labeled JSONL, for a Vigie without the CSV flags.
    for fname, part in (("train.labeled.jsonl", train), ("test.labeled.jsonl", test)):
        with open(cdir / fname, "w", encoding="utf-8") as fh:
            for i, t, y in part:
                rec = {"id": i, "text": t, "labels": {"toxicity": y}}
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return {
        "n_train": len(train),
        "n_test": len(test),
        "pos_train": sum(y for _, _, y in train) / max(len(train), 1),
        "pos_test": sum(y for _, _, y in test) / max(len(test), 1),
    }


# ---------------------------------------------------------------------------------------
# Child processes with peak memory
# ---------------------------------------------------------------------------------------


def _tree_pss_kib(root_pid: int) -> int:
    """Sum of PSS (KiB) of root_pid and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                stat = fh.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def _tree_cpu_s(root_pid: int) -> float:
    """CPU seconds (user + sys) of root_pid, its live descendants and their reaped children."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                f = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        stats[int(d)] = f
        children.setdefault(int(f[1]), []).append(int(d))
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        f = stats.get(pid)
        if f:  # fields 14-17 of stat: utime stime cutime cstime (here shifted by 3)
            total += sum(int(x) for x in f[11:15])
    return total / tick


def run_measured(cmd, *, stdin=None, stdout=None, stderr=None, cwd=None, sample_tree=False):
    """Run cmd, wait with os.wait4. Returns (returncode, wall_s, maxrss_mib, tree_pss_peak_mib,
    cpu_s), cpu_s being user + sys time of the child (and of its reaped children).

    ru_maxrss from wait4 is the peak RSS of the child itself (Linux folds in the largest of
    its own waited-for children, not their sum). With sample_tree, the summed PSS of the
    whole process tree (for scikit-learn's joblib workers) is also sampled every 50 ms.
    """
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=stderr, cwd=cwd)
    peak = [0]
    done = threading.Event()
    sampler = None
    if sample_tree:

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], _tree_pss_kib(p.pid))
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    if sampler:
        sampler.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    # Keep Popen from waiting on a reaped pid.
    p.wait = lambda *a, **k: p.returncode  # type: ignore[method-assign]
    return (p.returncode, wall, ru.ru_maxrss / 1024.0,
            (peak[0] / 1024.0 if sample_tree else None), ru.ru_utime + ru.ru_stime)


# ---------------------------------------------------------------------------------------
# scikit-learn side (child process)
# ---------------------------------------------------------------------------------------


def sklearn_child(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="compare.py _sklearn")
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--solver", required=True)
    ap.add_argument("--class-weight", required=True)
    ap.add_argument("--result", type=Path, required=True)
    a = ap.parse_args(argv)

    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.metrics import f1_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import FeatureUnion, Pipeline

    def read(name):
        rows = _read_csv(a.dir / name)
        return [r["text"] for r in rows], np.array([int(r["label"]) for r in rows])

    x_train, y_train = read("train.csv")
    x_test, y_test = read("test.csv")

    pipeline = Pipeline(
        [
            (
                "tfidf",
                FeatureUnion(
                    [
                        (
                            "word",
                            TfidfVectorizer(
                                analyzer="word",
                                ngram_range=(1, 2),
                                sublinear_tf=True,
                                min_df=2,
                                lowercase=True,
                            ),
                        ),
                        (
                            "char",
                            TfidfVectorizer(
                                analyzer="char_wb",
                                ngram_range=(2, 5),
                                sublinear_tf=True,
                                min_df=2,
                            ),
                        ),
                    ]
                ),
            ),
            (
                "lr",
                LogisticRegressionCV(
                    Cs=[0.1, 0.3, 1, 3, 10, 30, 100],
                    l1_ratios=(0.0,),  # L2
                    cv=StratifiedKFold(n_splits=5, shuffle=True, random_state=42),
                    scoring="roc_auc",
                    solver=a.solver,
                    max_iter=1000,
                    class_weight=None if a.class_weight == "none" else a.class_weight,
                    n_jobs=-1,
                    use_legacy_attributes=False,
                    random_state=42,
                ),
            ),
        ]
    )
    cpu0 = _tree_cpu_s(os.getpid())
    t0 = time.perf_counter()
    pipeline.fit(x_train, y_train)
    train_s = time.perf_counter() - t0
    # joblib's workers are still alive (loky keeps them), so their CPU time is counted.
    train_cpu_s = _tree_cpu_s(os.getpid()) - cpu0

    proba = pipeline.predict_proba(x_test)[:, 1]
    pred = pipeline.predict(x_test)
    auc = float(roc_auc_score(y_test, proba))
    macro_f1 = float(f1_score(y_test, pred, average="macro"))

    single = [t for t, in single_texts([(t,) for t in x_test])]
    pipeline.predict_proba([single[0]])  # warm-up, not timed
    t0 = time.perf_counter()
    for t in single:
        pipeline.predict_proba([t])
    single_s = time.perf_counter() - t0

    # Batch: the whole test set in one call (repeating it would only grow the matrix).
    batch = x_test
    t0 = time.perf_counter()
    pipeline.predict_proba(batch)
    batch_s = time.perf_counter() - t0

    union = pipeline.named_steps["tfidf"]
    lr = pipeline.named_steps["lr"]
    result = {
        "train_s": train_s,
        "train_cpu_s": train_cpu_s,
        "roc_auc": auc,
        "macro_f1": macro_f1,
        "single_n": len(single),
        "single_per_s": len(single) / single_s,
        "batch_n": len(batch),
        "batch_per_s": len(batch) / batch_s,
        "C": float(np.ravel(lr.C_)[0]),
        "n_features": int(sum(len(t.vocabulary_) for _, t in union.transformer_list)),
        "n_iter_max": int(np.max(lr.n_iter_)),
    }
    a.result.write_text(json.dumps(result, indent=2))
    # Per-item test probabilities, in test.csv order, for the paired bootstrap.
    (a.dir / "sklearn.test_proba.json").write_text(json.dumps([float(p) for p in proba]))


def run_sklearn(py: str, cdir: Path, solver: str, class_weight: str) -> dict:
    res_path = cdir / "sklearn.result.json"
    res_path.unlink(missing_ok=True)
    cmd = [py, os.path.abspath(__file__), "_sklearn", "--dir", str(cdir), "--solver", solver,
           "--class-weight", class_weight, "--result", str(res_path)]
    with open(cdir / "sklearn.log", "w") as log:
        rc, wall, rss, tree, _ = run_measured(cmd, stdout=log, stderr=subprocess.STDOUT,
                                              sample_tree=True)
    if rc != 0:
        tail = (cdir / "sklearn.log").read_text(errors="replace")[-3000:]
        return {"error": f"exit {rc}: {tail}"}
    r = json.loads(res_path.read_text())
    r.update({"process_s": wall, "peak_rss_mib": rss, "tree_pss_peak_mib": tree})
    return r


# ---------------------------------------------------------------------------------------
# Vigie side
# ---------------------------------------------------------------------------------------

SCORE_RE = re.compile(
    r"scored (\d+) comments in ([\d.]+) s \(([\d.]+) comments/s, (\d+) threads?\)")


def vigie_features(bin_dir: Path) -> dict:
    """Which of the new flags the binaries have (from --help)."""
    def help_of(b):
        try:
            return subprocess.run([str(bin_dir / b), "--help"], capture_output=True,
                                  text=True, timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            return ""
    th, eh, sh = help_of("train"), help_of("eval"), help_of("score")
    return {
        "train_csv": all(f in th for f in ("--text-col", "--id-col", "--label-col")),
        "eval_csv": all(f in eh for f in ("--text-col", "--id-col", "--label-col")),
        "score_threads": "--threads" in sh,
    }


def _err_tail(path: Path, n=4000) -> str:
    return path.read_text(errors="replace")[-n:].strip()


def vigie_train_flags(nb_exponent: float) -> list[str]:
    """Vigie's `train` settings for the comparison (besides data and output)."""
    # Platt calibration is what `auto` gives with balanced class weights; spelled out here so
    # the table says it.
    flags = ["--class-weight", "balanced", "--calibration", "platt"]
    if nb_exponent:
        flags += ["--nb-exponent", f"{nb_exponent:g}"]
    return flags


def run_vigie(bin_dir: Path, cdir: Path, feats: dict, input_mode: str, root: Path,
              nb_exponent: float) -> dict:
    """input_mode: "csv" (the CLIs' CSV flags) or "jsonl" (canonical JSONL fallback)."""
    r: dict = {"input": input_mode, "errors": []}
    mdir = cdir / "vigie"
    mdir.mkdir(exist_ok=True)
    if input_mode == "csv":
        data_train = ["--data", str(cdir / "train.csv"), "--text-col", "text", "--id-col", "id",
                      "--label-col", "toxicity=label"]
        data_test = ["--data", str(cdir / "test.csv"), "--text-col", "text", "--id-col", "id",
                     "--label-col", "toxicity=label"]
    else:
        data_train = ["--data", str(cdir / "train.labeled.jsonl")]
        data_test = ["--data", str(cdir / "test.labeled.jsonl")]

    # train
    cmd = [str(bin_dir / "train"), *data_train, "--no-seeds", "--no-heldout",
           "--out", str(mdir), "--name", "vigie", *vigie_train_flags(nb_exponent)]
    r["train_cmd"] = " ".join(cmd)
    log = cdir / "vigie.train.log"
    with open(log, "w") as fh:
        rc, wall, rss, _, cpu = run_measured(cmd, stdin=subprocess.DEVNULL, stdout=fh,
                                             stderr=subprocess.STDOUT, cwd=root)
    r.update({"train_s": wall, "train_cpu_s": cpu, "train_peak_rss_mib": rss})
    if rc != 0:
        r["errors"].append(f"train exit {rc}: {_err_tail(log)}")
        return r
    model = mdir / "vigie.vigie"
    rep = mdir / "vigie.report.json"
    if rep.exists():
        try:
            card = json.loads(rep.read_text())
            r["report_excerpt"] = _report_excerpt(card)
        except ValueError:
            pass

    # eval
    cmd = [str(bin_dir / "eval"), "--model", str(model), *data_test, "--json"]
    r["eval_cmd"] = " ".join(cmd)
    out, err = cdir / "vigie.eval.json", cdir / "vigie.eval.log"
    with open(out, "w") as fo, open(err, "w") as fe:
        rc, wall, rss, _, _ = run_measured(cmd, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                                           cwd=root)
    r.update({"eval_s": wall, "eval_peak_rss_mib": rss})
    if rc != 0:
        r["errors"].append(f"eval exit {rc}: {_err_tail(err)}")
    else:
        ev = json.loads(out.read_text())
        head = (ev.get("heads") or {}).get("toxicity")
        if not head:
            r["errors"].append(f"eval: no toxicity head in {out}")
        else:
            r.update({"roc_auc": head["roc_auc"], "macro_f1": head["macro_f1"],
                      "f1": head.get("f1"), "threshold": head.get("threshold"),
                      "eval_items": ev.get("items"), "eval_n": head.get("n")})

    # single-comment throughput: one thread, one comment per chunk, the same texts as sklearn
    def score(inp: Path, extra: list[str], tag: str):
        cmd = [str(bin_dir / "score"), "--model", str(model), *extra]
        err = cdir / f"vigie.score.{tag}.log"
        with open(inp) as fi, open(err, "w") as fe:
            rc, wall, rss, _, _ = run_measured(cmd, stdin=fi, stdout=subprocess.DEVNULL,
                                               stderr=fe, cwd=root)
        text = err.read_text(errors="replace")
        m = SCORE_RE.search(text)
        if rc != 0 or not m:
            r["errors"].append(f"score ({tag}) exit {rc}: {text.strip()[-3000:]}")
        return " ".join(cmd), m, rss

    if feats.get("score_threads"):
        extra = ["--threads", "1", "--chunk", "1"]
    else:
        extra = ["--chunk", "1"]
        r["errors"].append("score has no --threads flag yet: single-comment run used all threads")
    r["single_cmd"], m, rss = score(cdir / "single.jsonl", extra, "single")
    r["score_peak_rss_mib"] = rss
    if m:
        r.update({"single_n": int(m.group(1)), "single_per_s": float(m.group(3)),
                  "single_threads": int(m.group(4))})

    # per-item test scores, in test.jsonl order (= test.csv order), for the paired bootstrap
    scores_path = cdir / "vigie.test_scores.jsonl"
    cmd = [str(bin_dir / "score"), "--model", str(model)]
    with open(cdir / "test.jsonl") as fi, open(scores_path, "w") as fo, \
            open(cdir / "vigie.score.test.log", "w") as fe:
        rc = subprocess.run(cmd, stdin=fi, stdout=fo, stderr=fe, cwd=root).returncode
    if rc != 0:
        r["errors"].append(f"score (test) exit {rc}: {_err_tail(cdir / 'vigie.score.test.log')}")

    # batch throughput: default threads and chunk over a large file (test texts repeated)
    big = cdir / "batch.jsonl"
    lines = (cdir / "test.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    reps = -(-BATCH_LINES // len(lines))
    big.write_text("".join((lines * reps)[:BATCH_LINES]), encoding="utf-8")
    r["batch_cmd"], m, _ = score(big, [], "batch")
    big.unlink()
    if m:
        r.update({"batch_n": int(m.group(1)), "batch_per_s": float(m.group(3)),
                  "batch_threads": int(m.group(4))})
    r["peak_rss_mib"] = max(v for k, v in r.items() if k.endswith("_peak_rss_mib"))
    return r


BOOTSTRAP = 2000


def paired_scores(cdir: Path):
    """(labels, sklearn probabilities, Vigie scores) of a corpus folder's test split, as
    numpy arrays in test.csv order; ValueError when their lengths differ."""
    import numpy as np

    y = np.array([int(r["label"]) for r in _read_csv(cdir / "test.csv")])
    ps = np.array(json.loads((cdir / "sklearn.test_proba.json").read_text()))
    pv = np.array([json.loads(l)["scores"]["toxicity"]
                   for l in (cdir / "vigie.test_scores.jsonl").read_text().splitlines()
                   if l.strip()])
    if not (len(y) == len(ps) == len(pv)):
        raise ValueError(f"{len(y)} labels, {len(ps)} sklearn and {len(pv)} Vigie scores")
    return y, ps, pv


def bootstrap_auc_diffs(y, ps, pv):
    """AUC(Vigie) − AUC(sklearn) on BOOTSTRAP resamples of the items (drawn with
    replacement, seed 0; a resample with one class only is skipped)."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(BOOTSTRAP):
        i = rng.integers(0, len(y), len(y))
        if y[i].min() == y[i].max():
            continue
        diffs.append(roc_auc_score(y[i], pv[i]) - roc_auc_score(y[i], ps[i]))
    return np.array(diffs)


def interval(d) -> dict:
    """95 % percentile interval of bootstrap differences and the share that are >= 0."""
    import numpy as np

    return {"ci95": [float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))],
            "p_not_worse": float((d >= 0).mean())}


def paired_bootstrap(cdir: Path) -> dict | None:
    """ROC-AUC difference (Vigie − sklearn) on the same test items, with a 95 % percentile
    interval over BOOTSTRAP resamples of the test split (items drawn with replacement, both
    models scored on each resample), and the share of resamples where Vigie is not worse."""
    from sklearn.metrics import roc_auc_score

    try:
        y, ps, pv = paired_scores(cdir)
    except (OSError, ValueError, KeyError):
        return None
    d = bootstrap_auc_diffs(y, ps, pv)
    return {"auc_diff": float(roc_auc_score(y, pv) - roc_auc_score(y, ps)),
            "vigie_auc_from_scores": float(roc_auc_score(y, pv)),
            **interval(d), "resamples": len(d),
            "brier_sklearn": brier(y, ps), "brier_vigie": brier(y, pv),
            "brier_base_rate": brier(y, [float(y.mean())] * len(y))}


def brier(y, p) -> float:
    """Mean squared difference between the probabilities and the 0/1 labels."""
    import numpy as np

    return float(np.mean((np.asarray(p, dtype=float) - y) ** 2))


def _report_excerpt(report: dict) -> dict:
    """Alpha chosen, cross-validated metrics and vocabulary size from Vigie's report."""
    card = report.get("card", {})
    head = next((h for h in card.get("heads", []) if h.get("name") == "toxicity"), {})
    cv = head.get("cv") or {}
    return {"alpha": head.get("alpha"), "n_features": card.get("n_features"),
            "cv_roc_auc": cv.get("roc_auc"), "cv_macro_f1": cv.get("macro_f1"),
            "flag_threshold": (head.get("thresholds") or {}).get("flag"),
            "by_lang": (card.get("training") or {}).get("by_lang")}


def summarize_folds(base: Path) -> None:
    """Reads <base>/<k>/ (k = 0..4, one compare.py run per test fold, as folds.sh makes them)
    and prints, per corpus: the AUC difference on each fold, their mean, and the AUC of each
    side over all items pooled (every item scored once, by the models that did not train on
    it), with a paired bootstrap of the pooled difference. Also written to
    <base>/results-folds.md and .json."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    folds = sorted(int(d.name) for d in base.iterdir() if d.is_dir() and d.name.isdigit())
    runs = {k: json.loads((base / str(k) / "results.json").read_text()) for k in folds}
    corpora = [c for c in CORPORA if all(c in runs[k]["corpora"] for k in folds)]
    out: dict = {"folds": folds, "corpora": {}}
    L = [f"Test folds {', '.join(map(str, folds))} (each a fifth of the corpus; the union is "
         "every item once). Per fold: ROC-AUC Vigie − sklearn on that fold's test split. "
         "Pooled: each side's AUC over all items together, every item scored by the models "
         "trained without it; 95 % interval from a paired bootstrap "
         f"({BOOTSTRAP:,} resamples of all items).\n",
         "| corpus | items | " + " | ".join(f"fold {k}" for k in folds) +
         " | mean | pooled AUC sklearn / vigie | pooled difference | 95 % interval | "
         "Vigie not worse in | macro-F1 difference, mean | pooled Brier sklearn / vigie |",
         "|---|---|" + "---|" * len(folds) + "---|---|---|---|---|---|---|"]
    for c in corpora:
        ys, ps, pv, diffs, f1d = [], [], [], [], []
        for k in folds:
            cdir = base / str(k) / c
            try:
                y, a, b = paired_scores(cdir)
            except ValueError as e:
                raise SystemExit(f"{cdir}: {e}")
            ys.append(y)
            ps.append(a)
            pv.append(b)
            diffs.append(roc_auc_score(y, b) - roc_auc_score(y, a))
            r = runs[k]["corpora"][c]
            f1d.append(r["vigie"]["macro_f1"] - r["sklearn"]["macro_f1"])
        y, ps_, pv_ = np.concatenate(ys), np.concatenate(ps), np.concatenate(pv)
        auc_s, auc_v = roc_auc_score(y, ps_), roc_auc_score(y, pv_)
        d = bootstrap_auc_diffs(y, ps_, pv_)
        row = {"items": len(y), "fold_diffs": diffs, "mean_diff": float(np.mean(diffs)),
               "pooled_auc_sklearn": float(auc_s), "pooled_auc_vigie": float(auc_v),
               "pooled_diff": float(auc_v - auc_s), **interval(d),
               "mean_macro_f1_diff": float(np.mean(f1d)),
               "pooled_brier_sklearn": brier(y, ps_), "pooled_brier_vigie": brier(y, pv_)}
        out["corpora"][c] = row
        L.append(f"| {c} | {len(y):,} | " + " | ".join(f"{x:+.4f}" for x in diffs) +
                 f" | {row['mean_diff']:+.4f} | {auc_s:.4f} / {auc_v:.4f} | {row['pooled_diff']:+.4f} "
                 f"| [{row['ci95'][0]:+.4f}, {row['ci95'][1]:+.4f}] | {row['p_not_worse']:.0%} "
                 f"| {row['mean_macro_f1_diff']:+.4f} "
                 f"| {row['pooled_brier_sklearn']:.4f} / {row['pooled_brier_vigie']:.4f} |")
    md = "\n".join(L) + "\n"
    print(md)
    (base / "results-folds.md").write_text(md, encoding="utf-8")
    (base / "results-folds.json").write_text(json.dumps(out, indent=2), encoding="utf-8")


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def environment(root: Path, py: str) -> dict:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    sk = subprocess.run([py, "-c", "import sklearn, numpy, scipy; print(sklearn.__version__, numpy.__version__, scipy.__version__)"],
                        capture_output=True, text=True).stdout.split()
    git = lambda *a: subprocess.run(["git", *a], cwd=root, capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "--short=12", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "cpu": cpu,
        "python": platform.python_version(),
        "scikit_learn": sk[0] if sk else "?",
        "numpy": sk[1] if len(sk) > 1 else "?",
        "scipy": sk[2] if len(sk) > 2 else "?",
        "vigie_commit": commit + (" (+ uncommitted changes in the work tree)" if dirty else ""),
        "vigie_train_binary_built": _mtime(root / "target" / "release" / "train"),
    }


def _mtime(path: Path) -> str | None:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC")
    except OSError:
        return None


def fmt(v, spec=".3f", missing="—"):
    return missing if v is None else format(v, spec)


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def render(env: dict, results: dict, args) -> str:
    L = []
    L.append("# scikit-learn vs Vigie on the shared corpora\n")
    L.append(f"- date: {env['date']}")
    L.append(f"- machine: `nproc` = {env['nproc']}, CPU: {env['cpu']}")
    L.append(f"- versions: Python {env['python']}, scikit-learn {env['scikit_learn']} "
             f"(numpy {env['numpy']}, scipy {env['scipy']}), Vigie commit {env['vigie_commit']}, "
             f"binaries built {env.get('vigie_train_binary_built')}")
    L.append(f"- scikit-learn solver: `{args.solver}`, class_weight: `{args.sklearn_class_weight}`; "
             f"Vigie: `{' '.join(vigie_train_flags(args.vigie_nb_exponent))}`")
    L.append("- split: test iff int(sha256(f\"{corpus}:{id}\").hexdigest()[:8], 16) % 5 == "
             f"{args.test_fold}\n")
    L.append("| corpus | n train / test | positive rate (train / test) | ROC-AUC sklearn / vigie "
             "| macro-F1 sklearn / vigie | train s sklearn / vigie / ratio "
             "| single-comment /s sklearn / vigie / ratio | peak RSS MiB sklearn / vigie |")
    L.append("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        s, v, sp = r.get("sklearn") or {}, r.get("vigie") or {}, r["split"]
        tr = ratio(v.get("train_s"), s.get("train_s"))
        th = ratio(v.get("single_per_s"), s.get("single_per_s"))
        rss_s = s.get("peak_rss_mib")
        rss_cell = (f"{fmt(rss_s, '.0f')} (tree {fmt(s.get('tree_pss_peak_mib'), '.0f')})"
                    if rss_s is not None else "—")
        L.append(
            f"| {name} | {sp['n_train']:,} / {sp['n_test']:,} "
            f"| {sp['pos_train']:.3f} / {sp['pos_test']:.3f} "
            f"| {fmt(s.get('roc_auc'))} / {fmt(v.get('roc_auc'))} "
            f"| {fmt(s.get('macro_f1'))} / {fmt(v.get('macro_f1'))} "
            f"| {fmt(s.get('train_s'), '.1f')} / {fmt(v.get('train_s'), '.1f')} / {fmt(tr, '.2f')} "
            f"| {fmt(s.get('single_per_s'), ',.0f')} / {fmt(v.get('single_per_s'), ',.0f')} / {fmt(th, ',.0f')}× "
            f"| {rss_cell} / {fmt(v.get('peak_rss_mib'), '.0f')} |")
    L.append("")
    L.append("Also measured: training CPU time (user + sys, all threads and worker processes; "
             "less sensitive to other load on the machine than wall time) and batch throughput, "
             "comments/s (sklearn: one `predict_proba` call over the test set; Vigie: `score` "
             f"with its default threads and chunk over the test texts repeated to {BATCH_LINES:,} "
             "lines):\n")
    L.append("| corpus | train CPU s sklearn / vigie / ratio | batch /s sklearn / vigie / ratio "
             "| C chosen sklearn / vigie (1/α) | n-grams sklearn / vigie |")
    L.append("|---|---|---|---|---|")
    for name, r in results.items():
        s, v = r.get("sklearn") or {}, r.get("vigie") or {}
        ex = v.get("report_excerpt") or {}
        L.append(f"| {name} | {fmt(s.get('train_cpu_s'), '.1f')} / {fmt(v.get('train_cpu_s'), '.1f')} "
                 f"/ {fmt(ratio(v.get('train_cpu_s'), s.get('train_cpu_s')), '.2f')} "
                 f"| {fmt(s.get('batch_per_s'), ',.0f')} / {fmt(v.get('batch_per_s'), ',.0f')} "
                 f"/ {fmt(ratio(v.get('batch_per_s'), s.get('batch_per_s')), '.1f')}× "
                 f"| {fmt(s.get('C'), 'g')} / {fmt(ratio(1.0, ex.get('alpha')), 'g')} "
                 f"| {fmt(s.get('n_features'), ',')} / {fmt(ex.get('n_features'), ',')} |")
    L.append("")
    if any(r.get("paired") for r in results.values()):
        L.append("ROC-AUC difference on the same test items, Vigie − sklearn, with a paired "
                 f"bootstrap ({BOOTSTRAP:,} resamples of the test split, both models scored on "
                 "each): the 95 % percentile interval, and the share of resamples where Vigie's "
                 "AUC is at least sklearn's. Vigie's per-item scores come from `score` on "
                 "`test.jsonl`; their AUC is checked against `eval`'s. Brier score (lower is "
                 "better) of each side's probabilities on the test split, and of the constant "
                 "that predicts the split's positive rate for every item.\n")
        L.append("| corpus | AUC difference | 95 % interval | Vigie not worse in "
                 "| Brier sklearn / vigie / constant |")
        L.append("|---|---|---|---|---|")
        for name, r in results.items():
            pb = r.get("paired")
            if pb:
                L.append(f"| {name} | {pb['auc_diff']:+.4f} | [{pb['ci95'][0]:+.4f}, "
                         f"{pb['ci95'][1]:+.4f}] | {pb['p_not_worse']:.0%} "
                         f"| {fmt(pb.get('brier_sklearn'), '.4f')} / {fmt(pb.get('brier_vigie'), '.4f')} "
                         f"/ {fmt(pb.get('brier_base_rate'), '.4f')} |")
        L.append("")
    L.append("Train time: sklearn = `pipeline.fit` inside its process; Vigie = wall time of the "
             "whole `train` process (start-up, reading the CSV, writing the model and report "
             "included). Peak RSS: `ru_maxrss` from `os.wait4`; for sklearn the whole run "
             "(fit, eval, throughput) in its child, and in brackets the peak of the summed PSS "
             "of its process tree (joblib workers included, shared pages counted once); for "
             "Vigie the largest of its `train`, `eval` and `score` processes. Single-comment: "
             f"{SINGLE_CAP:,} test texts (the test split in order, cycled when smaller), one at a time on one thread "
             "(sklearn: `predict_proba([text])`, Vigie: `score --threads 1 --chunk 1`). "
             "macro-F1: sklearn at its 0.5 decision, Vigie at its own flag threshold (best "
             "cross-validated macro-F1).")
    loads = [f"{n}: " + ", ".join(f"{k} {v:.1f}" for k, v in r.get("load_1min_before", {}).items())
             for n, r in results.items()]
    L.append("")
    L.append("1-minute load average when each side started: " + "; ".join(loads) + ".")
    busy = [v for r in results.values() for v in r.get("load_1min_before", {}).values()
            if v > 1.0 + int(env["nproc"] or 1) * 0.5]
    if busy:
        L.append(f"**Warning: the machine was busy (load up to {max(busy):.1f} on {env['nproc']} "
                 "cores) during some runs: timings are not reliable; rerun on an idle machine.**")
    L.append("")
    L.append(targets_text(results))
    problems = []
    for name, r in results.items():
        for side in ("sklearn", "vigie"):
            d = r.get(side) or {}
            if d.get("error"):
                problems.append(f"- {name} / {side}: {d['error']}")
            for e in d.get("errors", []):
                problems.append(f"- {name} / {side}: {e}")
    for name, r in results.items():
        pb, v = r.get("paired"), r.get("vigie") or {}
        if pb and v.get("roc_auc") is not None and abs(pb["vigie_auc_from_scores"] - v["roc_auc"]) > 1e-4:
            problems.append(f"- {name}: AUC of `score`'s output {pb['vigie_auc_from_scores']:.5f} "
                            f"differs from `eval`'s {v['roc_auc']:.5f}")
    if problems:
        L.append("\n## Problems\n")
        L.extend(problems)
    return "\n".join(L) + "\n"


def targets_text(results: dict) -> str:
    def check(label, pred):
        ok, detail = True, []
        for name, r in results.items():
            s, v = r.get("sklearn") or {}, r.get("vigie") or {}
            res = pred(s, v)
            if res is None:
                detail.append(f"{name}: n/a")
                ok = None if ok is not False else False
            else:
                good, txt = res
                detail.append(f"{name}: {txt}{'' if good else ' ✗'}")
                if not good:
                    ok = False
        verdict = {True: "HOLDS", False: "DOES NOT HOLD", None: "UNKNOWN (missing numbers)"}[ok]
        return f"- {label}: **{verdict}** ({'; '.join(detail)})"

    def auc(s, v):
        if s.get("roc_auc") is None or v.get("roc_auc") is None:
            return None
        d = v["roc_auc"] - s["roc_auc"]
        return d >= 0, f"{d:+.4f}"

    def mf1(s, v):
        if s.get("macro_f1") is None or v.get("macro_f1") is None:
            return None
        d = v["macro_f1"] - s["macro_f1"]
        return d >= 0, f"{d:+.4f}"

    def train(s, v):
        rt = ratio(v.get("train_s"), s.get("train_s"))
        return None if rt is None else (rt <= 0.5, f"{rt:.2f}")

    def single(s, v):
        rt = ratio(v.get("single_per_s"), s.get("single_per_s"))
        return None if rt is None else (rt >= 50, f"{rt:.0f}×")

    return "\n".join([
        "## Targets\n",
        check("ROC-AUC ≥ sklearn on every corpus", auc),
        check("macro-F1 ≥ sklearn on every corpus", mf1),
        check("train time ≤ ½ sklearn", train),
        check("single-comment throughput ≥ 50× sklearn", single),
    ])


# ---------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_sklearn":
        sklearn_child(sys.argv[2:])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_folds":
        summarize_folds(Path(sys.argv[2]))
        return
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=here.parent.parent,
                    help="Vigie's repository root (default: two levels up from this file)")
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="the shared corpora (default: <root>/../shared/data); read in place, never copied")
    ap.add_argument("--corpora", default=",".join(CORPORA),
                    help=f"comma-separated, from: {','.join(CORPORA)} (default: all)")
    ap.add_argument("--out", type=Path, default=None, help="output directory (default: <root>/bench/out)")
    ap.add_argument("--solver", default="lbfgs", choices=["lbfgs", "liblinear"],
                    help="LogisticRegressionCV solver (default: lbfgs, scikit-learn's default; "
                         "it warm-starts along the C path, liblinear does not)")
    ap.add_argument("--sklearn-class-weight", default="balanced", choices=["balanced", "none"],
                    help="scikit-learn class_weight (default: balanced, as Vigie is run)")
    ap.add_argument("--vigie-input", default="auto", choices=["auto", "csv", "jsonl"],
                    help="feed Vigie the CSV files through its CSV flags, or canonical JSONL "
                         "(auto: CSV when `train --help` and `eval --help` list the flags)")
    ap.add_argument("--vigie-nb-exponent", type=float, default=0.25,
                    help="Vigie's `train --nb-exponent` (default 0.25; 0: plain TF-IDF, as "
                         "scikit-learn's side)")
    ap.add_argument("--test-fold", type=int, default=0, choices=range(5),
                    help="which fifth of each corpus is the test split (default 0, the "
                         "comparison's; folds.sh runs all five)")
    ap.add_argument("--skip-sklearn", action="store_true")
    ap.add_argument("--skip-vigie", action="store_true")
    args = ap.parse_args()

    root = args.root.resolve()
    data_dir = (args.data_dir or root.parent / "shared" / "data").resolve()
    out = (args.out if args.out and args.out.is_absolute() else
           root / (args.out or Path("bench/out"))).resolve()
    corpora = [c.strip() for c in args.corpora.split(",") if c.strip()]
    for c in corpora:
        if c not in CORPORA:
            ap.error(f"unknown corpus {c!r}; known: {', '.join(CORPORA)}")
    if data_dir == root or root in data_dir.parents:
        ap.error(f"--data-dir {data_dir} is inside the project: read the corpora from ../shared/data")
    out.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    bin_dir = root / "target" / "release"

    env = environment(root, py)
    print(f"date {env['date']}; nproc {env['nproc']}; CPU {env['cpu']}")
    print(f"Python {env['python']}, scikit-learn {env['scikit_learn']}, numpy {env['numpy']}, "
          f"scipy {env['scipy']}; Vigie commit {env['vigie_commit']}")
    feats = {} if args.skip_vigie else vigie_features(bin_dir)
    mode = args.vigie_input
    if mode == "auto":
        mode = "csv" if feats.get("train_csv") and feats.get("eval_csv") else "jsonl"
    if not args.skip_vigie:
        print(f"Vigie binaries in {bin_dir}: {feats}; input: {mode}")

    # --skip-sklearn keeps scikit-learn's results of an earlier run into the same --out (its
    # test probabilities stay in <corpus>/sklearn.test_proba.json), for the same split only.
    previous: dict = {}
    if args.skip_sklearn and (out / "results.json").exists():
        previous = json.loads((out / "results.json").read_text())
    results: dict = {}
    for name in corpora:
        cdir = out / name
        rows = load_corpus(name, data_dir)
        sp = write_split(name, rows, cdir, args.test_fold)
        print(f"\n== {name}: {len(rows):,} rows -> train {sp['n_train']:,} (positive rate "
              f"{sp['pos_train']:.3f}), test {sp['n_test']:,} (positive rate {sp['pos_test']:.3f})",
              flush=True)
        r = {"split": sp}
        old = previous.get("corpora", {}).get(name, {})
        if args.skip_sklearn and "sklearn" in old and old.get("split") == sp:
            r["sklearn"] = old["sklearn"]
            print("   sklearn: kept from the earlier run in this --out", flush=True)
        if not args.skip_sklearn:
            r.setdefault("load_1min_before", {})["sklearn"] = os.getloadavg()[0]
            r["sklearn"] = run_sklearn(py, cdir, args.solver, args.sklearn_class_weight)
            s = r["sklearn"]
            print("   sklearn:", s.get("error") or
                  f"AUC {s['roc_auc']:.4f}, macro-F1 {s['macro_f1']:.4f}, fit {s['train_s']:.1f} s, "
                  f"C={s['C']}, {s['n_features']:,} features, single {s['single_per_s']:,.0f}/s, "
                  f"batch {s['batch_per_s']:,.0f}/s, peak RSS {s['peak_rss_mib']:.0f} MiB "
                  f"(tree PSS {s['tree_pss_peak_mib']:.0f})", flush=True)
        if not args.skip_vigie:
            r.setdefault("load_1min_before", {})["vigie"] = os.getloadavg()[0]
            r["vigie"] = run_vigie(bin_dir, cdir, feats, mode, root, args.vigie_nb_exponent)
            v = r["vigie"]
            print("   vigie:  " +
                  f"AUC {fmt(v.get('roc_auc'), '.4f')}, macro-F1 {fmt(v.get('macro_f1'), '.4f')} "
                  f"(threshold {fmt(v.get('threshold'), '.3f')}), train {fmt(v.get('train_s'), '.1f')} s, "
                  f"single {fmt(v.get('single_per_s'), ',.0f')}/s, batch {fmt(v.get('batch_per_s'), ',.0f')}/s, "
                  f"peak RSS {fmt(v.get('peak_rss_mib'), '.0f')} MiB", flush=True)
            for e in v["errors"]:
                print(f"   vigie problem: {e}", flush=True)
        if "sklearn" in r and not args.skip_vigie:
            r["paired"] = paired_bootstrap(cdir)
            pb = r["paired"]
            if pb:
                print(f"   AUC vigie − sklearn {pb['auc_diff']:+.4f}, 95 % interval "
                      f"[{pb['ci95'][0]:+.4f}, {pb['ci95'][1]:+.4f}], not worse in "
                      f"{pb['p_not_worse']:.0%} of {pb['resamples']} resamples", flush=True)
        results[name] = r

    md = render(env, results, args)
    print("\n" + md)
    (out / "results.md").write_text(md, encoding="utf-8")
    settings = {"test_fold": args.test_fold, "solver": args.solver,
                "sklearn_class_weight": args.sklearn_class_weight,
                "vigie_train_flags": vigie_train_flags(args.vigie_nb_exponent),
                "vigie_input": mode, "vigie_features": feats, "single_cap": SINGLE_CAP,
                "batch_lines": BATCH_LINES, "data_dir": str(data_dir)}
    (out / "results.json").write_text(json.dumps(
        {"environment": env, "settings": settings, "corpora": results}, indent=2), encoding="utf-8")
    print(f"written: {out / 'results.md'}, {out / 'results.json'}")


if __name__ == "__main__":
    main()
