"""The learning curve's table (Markdown, on stdout) and plot (PNG).

Usage: python3 plot.py OUT_DIR PNG

Reads OUT_DIR/*.curve.json, one per site corpus, as `cargo bench --bench learning_curve`
writes them: the site's head, pool and test sizes, the ROC-AUC on the site's test set of every
model (k = 0 is the model before any site label; then each strategy at each k), and the
paired-bootstrap intervals (teach order minus random at each k; each strategy at k minus
k = 0).
"""

import glob
import json
import os
import sys


def load(out):
    curves = []
    for path in sorted(glob.glob(os.path.join(out, "*.curve.json"))):
        with open(path, encoding="utf-8") as f:
            curves.append(json.load(f))
    if not curves:
        sys.exit(f"no *.curve.json in {out}")
    return curves


def interval(d):
    return f"{d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"


def verdict(d):
    if d["low"] > 0:
        return "better"
    if d["high"] < 0:
        return "**worse**"
    return "tie"


def draws_column(p):
    """The random draws' AUC range at this k, and where the teach order falls against it."""
    aucs = [a for a in p.get("random_draws", []) if a is not None]
    if len(aucs) < 2:
        return None
    lo, hi = min(aucs), max(aucs)
    t = p["teach"]["auc"]
    where = "below" if t < lo else "above" if t > hi else "within"
    return f"{lo:.3f}–{hi:.3f} ({len(aucs)}) | {where}"


def table(c):
    draws = any(draws_column(p) for p in c["points"])
    head = "| k | random | teach order | teach − random, 95 % interval | | random − k=0 | teach − k=0 | retrain s |"
    rule = "|---:|---:|---:|---|---|---|---|---:|"
    if draws:
        head += " random draws: range (n) | teach order |"
        rule += "---|---|"
    lines = [
        f"**{c['corpus']}** ({c['head']}; pool {c['pool']}, test {c['test']}; "
        f"before any site label: ROC-AUC {c['base_auc']:.3f})",
        "",
        head,
        rule,
    ]
    for p in c["points"]:
        row = (
            f"| {p['k']} | {p['random']['auc']:.3f} | {p['teach']['auc']:.3f} | "
            f"{interval(p['teach_minus_random'])} | {verdict(p['teach_minus_random'])} | "
            f"{interval(p['random']['gain'])} | {interval(p['teach']['gain'])} | "
            f"{p['random']['seconds']:.0f} / {p['teach']['seconds']:.0f} |"
        )
        if draws:
            row += f" {draws_column(p) or '– | –'} |"
        lines.append(row)
    return "\n".join(lines)


def plot(curves, png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.6), squeeze=False)
    for ax, c in zip(axes[0], curves):
        ks = [0] + [p["k"] for p in c["points"]]
        for name, style in (("random", "o--"), ("teach", "s-")):
            aucs = [c["base_auc"]] + [p[name]["auc"] for p in c["points"]]
            ax.plot(ks, aucs, style, label="teach order" if name == "teach" else "random")
        spread = [p.get("random_draws") or [] for p in c["points"]]
        if any(len(s) > 1 for s in spread):
            lo = [c["base_auc"]] + [min(s) if s else p["random"]["auc"] for s, p in zip(spread, c["points"])]
            hi = [c["base_auc"]] + [max(s) if s else p["random"]["auc"] for s, p in zip(spread, c["points"])]
            ax.fill_between(ks, lo, hi, alpha=0.2, label="random draws' range")
        ax.set_xscale("symlog", linthresh=50)
        ax.set_xticks(ks)
        ax.set_xticklabels([str(k) for k in ks], fontsize=7)
        ax.set_title(f"{c['corpus']} ({c['head']})", fontsize=9)
        ax.set_xlabel("site labels", fontsize=8)
        ax.set_ylabel("ROC-AUC on the site's test set", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main():
    out, png = sys.argv[1], sys.argv[2]
    curves = load(out)
    print("\n\n".join(table(c) for c in curves))
    plot(curves, png)


if __name__ == "__main__":
    main()
