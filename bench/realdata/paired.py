"""Paired bootstrap of the ROC-AUC difference between two models on one labeled JSONL file.

Usage: python3 paired.py GOLD.jsonl A.scores.jsonl B.scores.jsonl [--resamples N] [--seed S]

GOLD is canonical JSONL (`labels`: head -> 0/1); A and B are `score` outputs for the same file
(one line per item, `id` and `scores`). For each head labeled in GOLD it prints AUC(A), AUC(B),
B - A and the 95 % percentile interval of B - A over resamples of the items (the same resample
for both models). A difference whose interval holds zero is a tie. Standard library only.
"""

import json
import random
import sys


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip() and not line.startswith("#")]


def auc(pairs):
    """ROC-AUC of (score, label) pairs by ranks, ties counted half."""
    pairs = sorted(pairs)
    pos = sum(1 for _, y in pairs if y)
    neg = len(pairs) - pos
    if pos == 0 or neg == 0:
        return None
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid = (i + 1 + j) / 2  # mean of ranks i+1..j
        rank_sum += mid * sum(1 for k in range(i, j) if pairs[k][1])
        i = j
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def main():
    args = sys.argv[1:]
    resamples, seed = 2000, 42
    if "--resamples" in args:
        i = args.index("--resamples")
        resamples = int(args[i + 1])
        del args[i : i + 2]
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i : i + 2]
    gold_path, a_path, b_path = args
    gold = read_jsonl(gold_path)
    a = {r["id"]: r["scores"] for r in read_jsonl(a_path)}
    b = {r["id"]: r["scores"] for r in read_jsonl(b_path)}
    heads = sorted({h for r in gold for h in r["labels"] if h != "stance"})
    rng = random.Random(seed)
    print("| head | n | positives | AUC A | AUC B | B - A | 95 % interval | verdict |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for head in heads:
        items = [(r["id"], r["labels"][head]) for r in gold if head in r["labels"]]
        if any(head not in a.get(i, {}) or head not in b.get(i, {}) for i, _ in items):
            print(f"| {head} | {len(items)} | | not scored by both models | | | | |")
            continue
        ya = [(a[i][head], y) for i, y in items]
        yb = [(b[i][head], y) for i, y in items]
        base_a, base_b = auc(ya), auc(yb)
        if base_a is None:
            print(f"| {head} | {len(items)} | | one class only | | | | |")
            continue
        diffs = []
        n = len(items)
        for _ in range(resamples):
            idx = [rng.randrange(n) for _ in range(n)]
            da, db = auc([ya[k] for k in idx]), auc([yb[k] for k in idx])
            if da is not None and db is not None:
                diffs.append(db - da)
        diffs.sort()
        lo, hi = diffs[int(0.025 * len(diffs))], diffs[int(0.975 * len(diffs)) - 1]
        verdict = "B better" if lo > 0 else ("A better" if hi < 0 else "tie")
        pos = sum(y for _, y in items)
        print(
            f"| {head} | {n} | {pos} | {base_a:.3f} | {base_b:.3f} | {base_b - base_a:+.3f} "
            f"| [{lo:+.3f}, {hi:+.3f}] | {verdict} |"
        )


if __name__ == "__main__":
    main()
