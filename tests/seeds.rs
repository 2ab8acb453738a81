//! The seed documents: 12 reader comments in seed 001, with authors, timestamps, the
//! mobile marker and quotes kept apart from replies; stable ids everywhere.

use std::path::Path;

use vigie::corpus::{read_seed_dir, SeedDocument};

fn seeds() -> Vec<SeedDocument> {
    read_seed_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("seeds")
            .as_path(),
    )
    .unwrap()
}

#[test]
fn seed_001_has_twelve_comments_with_authors_and_times() {
    let docs = seeds();
    let doc = docs
        .iter()
        .find(|d| d.name == "001_cc5694568f3475eb")
        .unwrap();
    let got: Vec<(&str, &str)> = doc
        .comments
        .iter()
        .map(|c| (c.author.as_str(), c.timestamp.as_str()))
        .collect();
    let expected = [
        ("LesRipoublicains", "2021-07-22T23:10:00+02:00"),
        ("LesRipoublicains", "2021-07-22T22:53:00+02:00"),
        ("seb2746", "2021-07-22T11:33:00+02:00"),
        ("YVESM", "2021-07-22T11:04:00+02:00"),
        ("YVESM", "2021-07-22T11:01:00+02:00"),
        ("YVESM", "2021-07-22T10:56:00+02:00"),
        ("YVESM", "2021-07-22T10:45:00+02:00"),
        ("swatss", "2021-07-22T10:26:00+02:00"),
        ("Jilou1994", "2021-07-22T10:10:00+02:00"),
        ("nebuleuse75", "2021-07-22T09:25:00+02:00"),
        ("jarod.26", "2021-07-22T09:08:00+02:00"),
        ("MS54840", "2021-07-22T09:06:00+02:00"),
    ];
    assert_eq!(doc.comments.len(), 12);
    assert_eq!(got, expected);
    let ids: Vec<&str> = doc.comments.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids[0], "001_cc5694568f3475eb:c01");
    assert_eq!(ids[11], "001_cc5694568f3475eb:c12");
    // Only nebuleuse75 wrote from the mobile application.
    let mobile: Vec<&str> = doc
        .comments
        .iter()
        .filter(|c| c.mobile)
        .map(|c| c.author.as_str())
        .collect();
    assert_eq!(mobile, ["nebuleuse75"]);
}

#[test]
fn quotes_are_separated_from_replies() {
    let docs = seeds();
    let doc = docs
        .iter()
        .find(|d| d.name == "001_cc5694568f3475eb")
        .unwrap();
    let quoted: Vec<(usize, &str, &str, &str)> = doc
        .comments
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            c.quote
                .as_ref()
                .map(|(a, q)| (i, a.as_str(), q.as_str(), c.text.as_str()))
        })
        .collect();
    assert_eq!(quoted.len(), 4);
    assert_eq!(quoted[0], (3, "Pouffion", "Et ?", "Téléphone maison ?"));
    assert_eq!(quoted[1], (5, "Pouffion", "Et ?", "Hé, Hé !"));
    let (i, author, quote, reply) = quoted[2];
    assert_eq!((i, author), (7, "Azérol"));
    assert_eq!(
        quote,
        "Très franchement et très sincèrement, il compte faire quoi si c'est avéré?"
    );
    assert!(
        reply.starts_with("Son pseudo conseil de défense"),
        "{reply}"
    );
    assert!(!reply.contains("Très franchement"));
    assert!(reply.ends_with("smiley"));
    let (i, author, quote, reply) = quoted[3];
    assert_eq!((i, author), (9, "jarod.26"));
    assert_eq!(quote, "faut être taré pour s'intéresser à macron");
    assert!(reply.starts_with("@jarod.26\nPar contre"), "{reply}");
    // Unquoted comments keep all their paragraphs and nothing of the next comment.
    let first = &doc.comments[0].text;
    assert!(first.starts_with("Ça y est, je suis rassuré"));
    assert!(first.ends_with("ils resteront dehors."));
    assert!(!first.contains("Portrait de"));
}

#[test]
fn articles_split_into_paragraphs_with_stable_ids() {
    let docs = seeds();
    assert_eq!(docs.len(), 5);
    for d in &docs {
        assert!(
            d.paragraphs.len() >= 5,
            "{} has {} paragraphs",
            d.name,
            d.paragraphs.len()
        );
        for (i, p) in d.paragraphs.iter().enumerate() {
            assert_eq!(p.id, format!("{}:p{:02}", d.name, i + 1));
            assert!(p.text.split_whitespace().count() >= 8);
        }
    }
    // Page furniture is not a paragraph.
    let all: Vec<&str> = docs
        .iter()
        .flat_map(|d| d.paragraphs.iter().map(|p| p.text.as_str()))
        .collect();
    assert!(!all.contains(&"PUBLICITÉ"));
    assert!(!all.iter().any(|p| p.starts_with("Portrait de")));
    // The English translation is detected as English, the others as French.
    let en = docs.iter().find(|d| d.name.starts_with("004")).unwrap();
    assert!(en
        .paragraphs
        .iter()
        .all(|p| p.lang == vigie::domain::Lang::En));
    let fr = docs.iter().find(|d| d.name.starts_with("000")).unwrap();
    assert!(fr
        .paragraphs
        .iter()
        .all(|p| p.lang == vigie::domain::Lang::Fr));
    // Ids are unique across documents and the same on every read.
    let ids: std::collections::BTreeSet<String> =
        docs.iter().flat_map(|d| d.items().map(|i| i.id)).collect();
    assert_eq!(
        ids.len(),
        docs.iter().map(|d| d.items().count()).sum::<usize>()
    );
    assert_eq!(seeds(), docs);
}

#[test]
fn seeds_are_the_shared_seeds_unchanged() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds");
    if !shared.exists() {
        eprintln!("skipped: {} is not here to compare with", shared.display());
        return;
    }
    let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let mut names: Vec<_> = std::fs::read_dir(&shared)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), 5);
    for n in names {
        assert_eq!(
            std::fs::read(shared.join(&n)).unwrap(),
            std::fs::read(ours.join(&n)).unwrap(),
            "{n:?}"
        );
    }
}
