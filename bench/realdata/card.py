#!/usr/bin/env python3
"""The real-data evaluation of the default model, from the output folder of run.sh.

    card.py --loco-manifests MANIFEST OUT   writes OUT/without-X.toml for each real corpus X
                                            listed in MANIFEST, prints the names X
    card.py --card OUT                      writes OUT/realdata.json (the model's id, the
                                            cross-corpus and French rows) and prints Markdown
                                            (the model is the one OUT/french.json scored)

Standard library only (tomllib: Python 3.11).
"""

import json
import os
import sys
import tomllib

HEADS = ["toxicity", "insult", "identity_attack", "threat", "profanity"]


def real_name(path):
    """`real/davidson.jsonl` -> `davidson`; None for the project's own files."""
    parts = path.replace("\\", "/").split("/")
    return parts[-1][: -len(".jsonl")] if "real" in parts[:-1] else None


def loco_manifests(manifest, out):
    with open(manifest, "rb") as f:
        parsed = tomllib.load(f)
    sources = parsed["source"]
    base = os.path.dirname(os.path.abspath(manifest))
    names = [real_name(s["path"]) for s in sources if real_name(s["path"])]
    for x in names:
        with open(os.path.join(out, "without-%s.toml" % x), "w", encoding="utf-8") as f:
            if "lexicon" in parsed:
                f.write("lexicon = %s\n\n" % json.dumps(os.path.join(base, parsed["lexicon"])))
            for s in sources:
                if real_name(s["path"]) == x:
                    continue
                f.write("[[source]]\npath = %s\n" % json.dumps(os.path.join(base, s["path"])))
                for key in ("weight", "reference"):
                    if key in s:
                        f.write("%s = %s\n" % (key, json.dumps(s[key])))
                f.write("\n")
        print(x)


def rows(ev, corpus, heads=HEADS):
    return [
        {"corpus": corpus, "head": h, "items": ev["heads"][h]["n"],
         "positives": ev["heads"][h]["positives"], "roc_auc": ev["heads"][h]["roc_auc"],
         "brier": ev["heads"][h]["brier"]}
        for h in heads if ev["heads"].get(h)
    ]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def markdown(table):
    lines = ["| corpus | head | items | positives | ROC-AUC | Brier |",
             "|---|---|---:|---:|---:|---:|"]
    for r in table:
        lines.append("| %s | %s | %d | %d | %.3f | %.3f |" % (
            r["corpus"], r["head"], r["items"], r["positives"], r["roc_auc"], r["brier"]))
    return "\n".join(lines)


def card(out):
    french = load(os.path.join(out, "french.json"))
    cross = []
    for name in sorted(os.listdir(out)):
        if name.startswith("loco.") and name.endswith(".json"):
            cross += rows(load(os.path.join(out, name)), name[len("loco."):-len(".json")])
    result = {"model_id": french["model_id"], "cross_corpus": cross,
              "french": rows(french, "rtp-lx-fr")}
    with open(os.path.join(out, "realdata.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print("Model `%s`.\n" % result["model_id"])
    print("Cross-corpus (each real corpus scored by the default recipe trained without it):\n")
    print(markdown(cross) + "\n")
    print("RTP-LX French (scored by the model itself; evaluation only):\n")
    print(markdown(result["french"]))


def main():
    if sys.argv[1] == "--loco-manifests":
        loco_manifests(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--card":
        card(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
