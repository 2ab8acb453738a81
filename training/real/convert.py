#!/usr/bin/env python3
"""Converts the real third-party corpora under training/real/<corpus>/ to canonical JSONL.

Writes training/real/<corpus>.jsonl: one `{"id", "text", "labels", "lang"}` object a line,
after a '#' header saying where the rows come from. Python 3 standard library only;
deterministic (rows in file order, same bytes on every run); re-run it after changing a
mapping:

    python3 training/real/convert.py

Each corpus labels only the heads it says something about (training/SOURCES.md gives the
reasons). A head left out of `labels` is NOT LABELED, never negative. Rows whose label is
ambiguous for a head (annotators split, or the corpus's class says nothing about that head)
leave the head out; a row left with no head at all is dropped. The project's consistency rule
holds: insult, threat or identity_attack = 1 implies toxicity = 1.
"""

import csv
import html
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

HEADER = (
    "# REAL THIRD-PARTY DATA, not written by the Vigie project: {what}. Copied unchanged "
    "into training/real/{folder}/ from {origin} ({licence}; licence file alongside), and "
    "converted by training/real/convert.py: do not edit by hand, re-run the converter. Label "
    "mapping and its reasons: training/SOURCES.md. A head absent from `labels` is not "
    "labeled, never negative. Content warning: racist, sexist, homophobic and otherwise "
    "offensive text."
)


def clean(text):
    """One line of text: runs of whitespace (newlines included) become one space."""
    return " ".join(text.split())


def davidson():
    """Davidson et al. 2017: class 0 hate speech, 1 offensive language, 2 neither.

    toxicity: hate or offensive -> 1, neither -> 0.
    profanity: offensive -> 1, neither -> 0; hate -> absent (the class says hate, not
        whether the words are profane).
    identity_attack: hate (majority) -> 1; no annotator chose hate -> 0; some but not a
        majority chose hate -> absent.
    """
    path = os.path.join(HERE, "davidson", "labeled_data.csv")
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            cls = int(row["class"])
            hate_votes = int(row["hate_speech"])
            labels = {"toxicity": 1 if cls in (0, 1) else 0}
            if cls == 1:
                labels["profanity"] = 1
            elif cls == 2:
                labels["profanity"] = 0
            if cls == 0:
                labels["identity_attack"] = 1
            elif hate_votes == 0:
                labels["identity_attack"] = 0
            # Tweets come HTML-escaped from the Twitter API (&amp;, &#128514;).
            yield "davidson-" + row[""], html.unescape(row["tweet"]), labels, "en"


MLMA_HOSTILE = {"abusive", "hateful", "offensive", "disrespectful"}
MLMA_INSULTING = {"abusive", "offensive", "disrespectful"}


def mlma_labels(sentiment, directness, target):
    """MLMA (Ousidhoum et al. 2019) `sentiment` is the set of hostility types the
    annotators chose, joined by '_'; `normal` next to a hostile type means they disagreed.

    toxicity: only `normal` -> 0; hostile types and no `normal` -> 1; else absent
        (disagreement, or `fearful` alone, which is fear of a group, not rudeness).
    identity_attack: only `normal` -> 0; `hateful`, no `normal`, and a target attribute
        (origin, gender, sexual orientation, religion, disability; not `other`) -> 1;
        else absent (offensive or abusive alone does not say the attack is about identity).
    insult: only `normal` -> 0; abusive/offensive/disrespectful, no `normal`, and `direct`
        -> 1; else absent.
    """
    kinds = set(sentiment.split("_"))
    if kinds == {"normal"}:
        return {"toxicity": 0, "identity_attack": 0, "insult": 0}
    if "normal" in kinds or not kinds & MLMA_HOSTILE:
        return {}
    labels = {"toxicity": 1}
    if "hateful" in kinds and target != "other":
        labels["identity_attack"] = 1
    if kinds & MLMA_INSULTING and directness == "direct":
        labels["insult"] = 1
    return labels


def mlma():
    for lang in ("en", "fr"):
        path = os.path.join(HERE, "mlma", lang + "_dataset.csv")
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                labels = mlma_labels(row["sentiment"], row["directness"], row["target"])
                yield "mlma-%s-%s" % (lang, row["HITId"]), row["tweet"], labels, lang


def fox_news_comments():
    """Gao & Huang 2017: `label` 1 hateful, 0 not.

    identity_attack: the label (hateful = attacks a person or group for an identity facet).
    toxicity: hateful -> 1; not hateful -> absent (a comment may be rude without being
        hateful, and the corpus did not say).
    """
    path = os.path.join(HERE, "fox-news-comments", "fox-news-comments.json")
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if not line.strip():
                continue
            row = json.loads(line)
            hateful = int(row["label"])
            labels = {"identity_attack": hateful}
            if hateful:
                labels["toxicity"] = 1
            yield "fox-%04d" % i, row["text"], labels, "en"


def wiki_toxicity_testset():
    """Dixon et al. 2018 test set of Wikipedia talk comments: `toxic` True/False -> toxicity."""
    path = os.path.join(HERE, "wiki-toxicity-testset", "toxicity_nonfuzzed_testset.csv")
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            toxic = {"True": 1, "False": 0}[row["toxic"]]
            yield "wiki-" + row["rev_id"], row["comment"], {"toxicity": toxic}, "en"


def ftr():
    """FTR (Vanetik & Mimoun 2022): `label` 1 racist speech, 0 not.

    identity_attack: the label. toxicity: racist -> 1; not racist -> absent (the tweets were
    collected by keywords such as "nazi", "crève": many non-racist ones are still hostile).
    """
    path = os.path.join(HERE, "ftr", "FTR_new_labels.csv")
    # 8 bytes of the file are not valid UTF-8.
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        for row in csv.DictReader(f):
            racist = int(row["label"])
            labels = {"identity_attack": racist}
            if racist:
                labels["toxicity"] = 1
            yield "ftr-" + row["id"], row["tweet"], labels, "fr"


CORPORA = [
    # (output name, folder, generator, what, origin, licence)
    ("davidson", "davidson", davidson,
     "English tweets of Davidson et al., ICWSM 2017 (hate speech / offensive / neither)",
     "github.com/t-davidson/hate-speech-and-offensive-language data/labeled_data.csv", "MIT"),
    ("mlma", "mlma", mlma,
     "English and French tweets of Ousidhoum et al., EMNLP 2019 (MLMA)",
     "github.com/HKUST-KnowComp/MLMA_hate_speech hate_speech_mlma.zip", "MIT"),
    ("fox-news-comments", "fox-news-comments", fox_news_comments,
     "reader comments under Fox News articles, Gao & Huang, RANLP 2017 (hateful or not)",
     "github.com/sjtuprog/fox-news-comments fox-news-comments.json", "MIT"),
    ("wiki-toxicity-testset", "wiki-toxicity-testset", wiki_toxicity_testset,
     "English Wikipedia talk-page comments, test set of Dixon et al., AIES 2018 (toxic or not)",
     "github.com/conversationai/unintended-ml-bias-analysis "
     "archive/unintended_ml_bias/eval_datasets/toxicity_nonfuzzed_testset.csv",
     "Apache-2.0; labels CC0"),
    ("ftr", "ftr", ftr,
     "French tweets of the FTR data set, Vanetik & Mimoun 2022 (racist speech or not)",
     "github.com/NataliaVanetik/FTR-dataset FTR_new_labels.csv", "MIT"),
]


def check(labels):
    """The project's consistency rule (training/GUIDELINES.md)."""
    if any(labels.get(h) == 1 for h in ("insult", "threat", "identity_attack")):
        assert labels.get("toxicity") == 1, labels


def convert(name, folder, rows, what, origin, licence):
    out_path = os.path.join(HERE, name + ".jsonl")
    seen = set()
    kept = dropped = 0
    lines = [HEADER.format(what=what, folder=folder, origin=origin, licence=licence)]
    for rid, text, labels, lang in rows:
        text = clean(text)
        if not text or not labels:
            dropped += 1
            continue
        assert rid not in seen, rid
        seen.add(rid)
        check(labels)
        record = {"id": rid, "text": text, "labels": dict(sorted(labels.items())), "lang": lang}
        lines.append(json.dumps(record, ensure_ascii=False))
        kept += 1
    with open(out_path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print("%s: %d records, %d dropped (no usable label or empty text)" % (out_path, kept, dropped),
          file=sys.stderr)


def main():
    for name, folder, gen, what, origin, licence in CORPORA:
        convert(name, folder, gen(), what, origin, licence)


if __name__ == "__main__":
    main()
