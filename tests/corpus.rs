//! The project's own labeled corpus meets what the default model needs.

#[path = "common"]
mod common {
    pub mod files;
    pub mod tempdir;
}

use std::collections::BTreeMap;

use vigie::corpus::{read_jsonl, Record};
use vigie::domain::Stance;

fn corpus() -> Vec<Record> {
    let mut r = read_jsonl(&common::files::path("training/corpus.jsonl")).unwrap();
    r.extend(read_jsonl(&common::files::path("training/heldout.jsonl")).unwrap());
    r
}

#[test]
fn corpus_is_big_and_balanced_enough() {
    let records = corpus();
    assert!(records.len() >= 800, "{} items", records.len());
    let mut positives: BTreeMap<&str, usize> = BTreeMap::new();
    let mut stance: BTreeMap<Stance, usize> = BTreeMap::new();
    for r in &records {
        for (h, &v) in &r.labels.binary {
            *positives.entry(h.as_str()).or_default() += v as usize;
        }
        if let Some(s) = r.labels.stance {
            *stance.entry(s).or_default() += 1;
        }
        // Consistency rule of the guidelines.
        let any = ["insult", "threat", "identity_attack"].iter().any(|h| {
            r.labels
                .binary
                .iter()
                .any(|(k, &v)| k.as_str() == *h && v == 1)
        });
        if any {
            assert!(
                r.labels
                    .binary
                    .iter()
                    .any(|(k, &v)| k.as_str() == "toxicity" && v == 1),
                "{}",
                r.id
            );
        }
    }
    for head in [
        "toxicity",
        "insult",
        "threat",
        "identity_attack",
        "profanity",
    ] {
        assert!(
            positives.get(head).copied().unwrap_or(0) >= 60,
            "{head}: {positives:?}"
        );
    }
    for s in Stance::ALL {
        assert!(
            stance.get(&s).copied().unwrap_or(0) >= 150,
            "{s}: {stance:?}"
        );
    }
    let langs: std::collections::BTreeSet<_> = records.iter().filter_map(|r| r.lang).collect();
    assert_eq!(langs.len(), 2, "French and English");
}

#[test]
fn corpus_files_say_they_are_written_by_the_project() {
    for f in ["training/corpus.jsonl", "training/heldout.jsonl"] {
        let head = std::fs::read_to_string(common::files::path(f)).unwrap();
        let first = head.lines().next().unwrap();
        assert!(
            first.starts_with('#')
                && first.contains("Written by the Vigie project team, not collected"),
            "{f}"
        );
    }
}

#[test]
fn texts_are_all_different() {
    let records = corpus();
    let texts: std::collections::HashSet<String> =
        records.iter().map(|r| r.text.to_lowercase()).collect();
    assert_eq!(texts.len(), records.len());
}

#[test]
fn every_seed_item_is_labeled() {
    let mut data = vigie::train::TrainingData::default();
    data.add_seeds(
        &common::files::path("seeds"),
        &common::files::path("training/seeds.labels.jsonl"),
    )
    .unwrap();
    let docs = vigie::corpus::read_seed_dir(&common::files::path("seeds")).unwrap();
    let items: usize = docs.iter().map(|d| d.items().count()).sum();
    assert_eq!(data.records.len(), items);
    assert!(data
        .records
        .iter()
        .all(|r| r.target.as_ref().map(|t| t.as_str()) == Some("gouvernement")));
    // A label line for an id no seed has is an error, not silently dropped.
    let dir = common::tempdir::TempDir::new("seedlabels");
    let bad = dir.path().join("labels.jsonl");
    let mut content =
        std::fs::read_to_string(common::files::path("training/seeds.labels.jsonl")).unwrap();
    content.push_str("{\"id\": \"nope:c99\", \"labels\": {}}\n");
    std::fs::write(&bad, content).unwrap();
    let err = vigie::train::TrainingData::default()
        .add_seeds(&common::files::path("seeds"), &bad)
        .unwrap_err();
    assert!(err.contains("nope:c99"), "{err}");
}

/// A site's own data names its targets as people write them; they read as stable slugs.
#[test]
fn targets_written_as_people_write_them_are_slugged() {
    let jsonl = concat!(
        r#"{"id": "1", "text": "We must act now", "labels": {"stance": "favor"}, "target": "Climate Change is a Real Concern"}"#,
        "\n",
        r#"{"id": "2", "text": "She lied", "labels": {"stance": "against"}, "target": "Hillary Clinton"}"#,
        "\n",
    );
    let records = vigie::corpus::read_jsonl_str(std::path::Path::new("site.jsonl"), jsonl).unwrap();
    let targets: Vec<&str> = records
        .iter()
        .map(|r| r.target.as_ref().unwrap().as_str())
        .collect();
    assert_eq!(
        targets,
        ["climate-change-is-a-real-concern", "hillary-clinton"]
    );
}
