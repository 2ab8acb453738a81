"""Google's Python client (google-api-python-client), as Perspective's sample uses it, against a
running Vigie: the only change is the discovery URL. Prints one JSON line per check and exits 1
if any failed.

Usage: python check.py BASE_URL API_KEY
"""

import json
import sys

from googleapiclient import discovery
from googleapiclient.errors import HttpError

base, key = sys.argv[1], sys.argv[2]
checks = []


def check(name, ok, detail=None):
    checks.append({"check": name, "ok": bool(ok), "detail": detail})


def build(api_key):
    return discovery.build(
        "commentanalyzer",
        "v1alpha1",
        developerKey=api_key,
        discoveryServiceUrl=f"{base}/$discovery/rest?version=v1alpha1",
        static_discovery=False,
    )


def expect_error(name, client, body, error_type):
    try:
        client.comments().analyze(body=body).execute()
        check(name, False, "no error")
    except HttpError as e:
        data = json.loads(e.content)
        details = data["error"].get("details", [])
        check(
            name,
            e.resp.status == 400
            and data["error"]["status"] == "INVALID_ARGUMENT"
            and any(d.get("errorType") == error_type or d.get("reason") == error_type for d in details),
            {"status": e.resp.status, "error": data["error"]},
        )


text = "What kind of idiot name is foo? Sorry, I like your name."
try:
    client = build(key)
    analyze_request = {
        "comment": {"text": text},
        "requestedAttributes": {"TOXICITY": {}},
        "spanAnnotations": True,
    }
    response = client.comments().analyze(body=analyze_request).execute()
    tox = response["attributeScores"]["TOXICITY"]
    value = tox["summaryScore"]["value"]
    check("TOXICITY summaryScore.value is a probability", 0 <= value <= 1, tox["summaryScore"])
    spans = [[s["begin"], s["end"]] for s in tox["spanScores"]]
    check("spanScores cover the two sentences", spans == [[0, 31], [32, 56]], spans)
    check(
        "span scores are probabilities",
        all(0 <= s["score"]["value"] <= 1 for s in tox["spanScores"]),
        tox["spanScores"],
    )
    expect_error(
        "unknown attribute",
        client,
        {"comment": {"text": text}, "requestedAttributes": {"NOT_AN_ATTRIBUTE": {}}},
        "INVALID_REQUEST",
    )
    expect_error(
        "unsupported language",
        client,
        {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["de"]},
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
    )
    expect_error(
        "wrong key",
        build("not-a-key"),
        {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}},
        "API_KEY_INVALID",
    )
except Exception as e:  # noqa: BLE001 - any failure is a failed check, printed
    check("no unexpected error", False, repr(e))

for c in checks:
    print(json.dumps(c))
sys.exit(0 if all(c["ok"] for c in checks) else 1)
