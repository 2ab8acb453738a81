#!/usr/bin/env python3
"""Prints the tables of bench/realdata/run.sh from its output folder (Markdown)."""

import json
import os
import sys

HEADS = ["toxicity", "insult", "identity_attack", "threat", "profanity"]
MODELS = [
    ("a", "committed models/default.vigie (project data only)"),
    ("b", "project data + real corpora at weight 1"),
    ("c", "project data + real corpora at weight 0.2"),
]
REAL = ["davidson", "mlma", "fox-news-comments", "wiki-toxicity-testset", "ftr"]
MAIN_HEAD = {"davidson": "toxicity", "mlma": "toxicity", "fox-news-comments": "identity_attack",
             "wiki-toxicity-testset": "toxicity", "ftr": "identity_attack"}


def load(out, name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def cell(ev, head):
    m = ev and ev["heads"].get(head)
    return "%.3f" % m["roc_auc"] if m else "-"


def seconds(out, name):
    path = os.path.join(out, name + ".seconds")
    return open(path).read().strip() if os.path.exists(path) else "-"


def heldout(report):
    """Held-out ROC-AUC per head (training/heldout.jsonl) from a model's report."""
    if not os.path.exists(report):
        return {}
    with open(report, encoding="utf-8") as f:
        heads = json.load(f)["card"]["heads"]
    return {h["name"]: h["heldout"]["roc_auc"] for h in heads if h.get("heldout")}


def main():
    out = sys.argv[1]
    # Models of EXTRA_WEIGHTS (run.sh): wW, real corpora at weight W.
    for name in sorted(os.listdir(out)):
        if name.startswith("rtp.w") and name.endswith(".json"):
            m = name[len("rtp."):-len(".json")]
            MODELS.append((m, "project data + real corpora at weight " + m[1:].replace("_", ".")))
    rtp = load(out, "rtp.a.json")
    n = rtp["items"] if rtp else "?"
    print("ROC-AUC on rtp-lx-fr (%s items, French, evaluation only)\n" % n)
    print("| model | " + " | ".join(HEADS[:4]) + " | train s |")
    print("|---|" + "---:|" * 5)
    for m, what in MODELS:
        ev = load(out, "rtp.%s.json" % m)
        print("| %s: %s | %s | %s |" % (m, what, " | ".join(cell(ev, h) for h in HEADS[:4]),
                                        seconds(out, m)))
    if rtp:
        pos = {h: rtp["heads"][h]["positives"] for h in HEADS[:4] if rtp["heads"].get(h)}
        print("\npositives: %s" % pos)
    print("\nROC-AUC on training/heldout.jsonl (project data, from each model's report)\n")
    print("| model | " + " | ".join(HEADS) + " |")
    print("|---|" + "---:|" * 5)
    for m, _ in MODELS:
        if m == "a":
            report = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                  "models", "default.report.json")
        else:
            report = os.path.join(out, "models", m + ".report.json")
        held = heldout(report)
        print("| %s | %s |" % (m, " | ".join("%.3f" % held[h] if h in held else "-"
                                           for h in HEADS)))
    if not load(out, "loco.%s.json" % REAL[0]):
        return
    print("\nLeave one corpus out: c trained without corpus X, scored on X (ROC-AUC); "
          "a = committed model\n")
    print("| corpus X | main head | a | c without X | other heads of X (c without X) | train s |")
    print("|---|---|---:|---:|---|---:|")
    for x in REAL:
        ev, base = load(out, "loco.%s.json" % x), load(out, "loco-a.%s.json" % x)
        head = MAIN_HEAD[x]
        others = ", ".join("%s %s" % (h, cell(ev, h)) for h in HEADS
                           if h != head and ev and ev["heads"].get(h))
        print("| %s | %s | %s | %s | %s | %s |" % (x, head, cell(base, head), cell(ev, head),
                                                   others or "-", seconds(out, "c-no-" + x)))


if __name__ == "__main__":
    main()
