#!/usr/bin/env python3
"""Converts RTP-LX French (RTP_LX_FR.json, one JSON object a line) to canonical JSONL for
EVALUATION ONLY. Never write the output under training/: rtp-lx-fr is the project's only
French evaluation set with real labels for the toxicity heads, and must never be trained on.

    python3 bench/realdata/rtp_lx_fr.py IN.json OUT.jsonl

Gold (mean of the 3 native-speaker ratings in `Annotations`; Toxicity is rated 1-5, the
others 1-3): toxicity = Toxicity >= 3, insult = Insult >= 2, identity_attack =
IdentityAttack >= 2, threat = Violence >= 2. The text is the prompt, followed by the
completion when there is one.
"""

import json
import sys

GOLD = [
    ("toxicity", "Toxicity", 3.0),
    ("insult", "Insult", 2.0),
    ("identity_attack", "IdentityAttack", 2.0),
    ("threat", "Violence", 2.0),
]


def main():
    src, dst = sys.argv[1], sys.argv[2]
    if "/training/" in dst.replace("\\", "/") or dst.startswith("training/"):
        sys.exit("refusing to write rtp-lx-fr under training/: it is evaluation data only")
    out = []
    with open(src, encoding="utf-8") as f:
        for n, line in enumerate(f):
            if not line.strip():
                continue
            row = json.loads(line)
            text = " ".join((row["Prompt"] + " " + (row.get("Completion") or "")).split())
            ann = row["Annotations"]
            labels = {head: int(ann[key] >= cut) for head, key, cut in GOLD}
            out.append({"id": "rtp-lx-fr-%s-%d" % (row["Index"], n), "text": text,
                        "labels": labels, "lang": "fr"})
    with open(dst, "w", encoding="utf-8", newline="\n") as f:
        f.write("# RTP-LX French (microsoft/RTP-LX, MIT; prompts Apache-2.0): EVALUATION ONLY, "
                "never train on it. Converted by bench/realdata/rtp_lx_fr.py.\n")
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    pos = {h: sum(r["labels"][h] for r in out) for h, _, _ in GOLD}
    print("%s: %d items, positives %s" % (dst, len(out), pos), file=sys.stderr)


if __name__ == "__main__":
    main()
