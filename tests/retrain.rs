//! Safe retraining end to end on a small base (a few hundred generated French comments, so it
//! runs in seconds): site labels that teach a word the base never saw make a better
//! challenger, which is promoted; site labels whose training part contradicts the held-out
//! part make a worse one, which is not.

use std::path::Path;

use vigie::corpus::{read_jsonl_str, Record};
use vigie::learning::retrain::{
    retrain, split_site, KeepReason, NotJudgedReason, RetrainParams, Retrained, Verdict,
};
use vigie::model::Model;
use vigie::train::sources::Base;
use vigie::train::TrainingData;

const INSULTS: [&str; 4] = ["idiot", "crétin", "imbécile", "abruti"];
const CIVIL: [&str; 4] = ["merci", "bravo", "intéressant", "d'accord"];
const FILLER: [&str; 6] = [
    "pour cet article",
    "sur le budget",
    "au sujet du maire",
    "après le match",
    "dans le quartier",
    "sur les impôts",
];
/// The word the site teaches: none of its letters appears in the base, so no n-gram of it
/// is in the champion's vocabulary.
const NEW_WORD: &str = "kwyxk";

fn record(id: &str, text: &str, toxic: bool) -> String {
    let label = u8::from(toxic);
    format!("{{\"id\":\"{id}\",\"text\":\"{text}\",\"labels\":{{\"toxicity\":{label}}}}}\n")
}

fn read(lines: &str) -> Vec<Record> {
    read_jsonl_str(Path::new("generated.jsonl"), lines).unwrap()
}

/// 120 base comments: an insult makes a comment toxic.
fn base() -> Base {
    let mut lines = String::new();
    for i in 0..60 {
        let filler = FILLER[i % FILLER.len()];
        let insult = INSULTS[i % INSULTS.len()];
        let civil = CIVIL[(i / 2) % CIVIL.len()];
        lines += &record(
            &format!("b-t{i}"),
            &format!("espèce d'{insult} {filler} {i}"),
            true,
        );
        lines += &record(&format!("b-c{i}"), &format!("{civil} {filler} {i}"), false);
    }
    let records = read(&lines);
    let letters = |r: &Record| NEW_WORD.chars().any(|c| r.text.contains(c));
    assert!(
        !records.iter().any(letters),
        "the base must not see the new word"
    );
    Base {
        data: TrainingData {
            records,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn champion(base: &Base) -> Model {
    let settings = base.default_params().check().unwrap();
    settings.fit(&base.data, None, &()).unwrap().model
}

/// `n` site comments in pairs, the same but for one word, `toxic_word`, in the toxic one.
fn site(n: usize, toxic_word: impl Fn(usize) -> String) -> Vec<Record> {
    let mut lines = String::new();
    for i in 0..n / 2 {
        let filler = FILLER[i % FILLER.len()];
        let t = format!("franchement {} {filler}", toxic_word(i));
        lines += &record(&format!("s-t{i}"), &t, true);
        let c = format!("franchement {filler}");
        lines += &record(&format!("s-c{i}"), &c, false);
    }
    read(&lines)
}

fn params() -> RetrainParams {
    RetrainParams {
        heldout_share: 0.4,
        ..Default::default()
    }
}

fn run(base: &Base, site: &[Record], champion: &Model, p: RetrainParams) -> Retrained {
    retrain(base, site, champion, &p.check().unwrap(), &()).unwrap()
}

#[test]
fn a_challenger_that_learned_the_sites_word_is_promoted() {
    let base = base();
    let champion = champion(&base);
    let site = site(120, |_| NEW_WORD.to_owned());
    let out = run(&base, &site, &champion, params());
    let c = &out.comparison;
    assert_eq!(c.site_labels, 120);
    assert_eq!(c.trained_on + c.held_out, 120);
    assert_eq!(c.judged.len(), 1, "{c:?}");
    let tox = &c.judged[0];
    assert_eq!(tox.head, "toxicity");
    assert!(tox.positives >= 10 && tox.negatives >= 10, "{tox:?}");
    // The champion sees the same features in both comments of a pair: it cannot tell
    // them apart. The challenger learned the word.
    assert!(tox.champion_auc < 0.7, "{tox:?}");
    assert!(tox.challenger_auc > 0.95, "{tox:?}");
    assert!(tox.low > 0.0, "{tox:?}");
    assert_eq!(c.verdict, Verdict::Promote, "{}", c.verdict);
    // The champion's penalty was reused, and the site's labels are in the card.
    let head = out.challenger.card.head("toxicity").unwrap();
    assert_eq!(head.alpha, champion.card.head("toxicity").unwrap().alpha);
    let sources = &out.challenger.card.training.sources;
    assert_eq!(sources.last().unwrap().name, "site labels");
    assert_eq!(sources.last().unwrap().items, c.trained_on);
}

#[test]
fn a_challenger_taught_backwards_is_not_promoted() {
    let base = base();
    let champion = champion(&base);
    // The site speaks of the base's insults; the labels of its training part say the
    // opposite of the held-out part's (a moderator who clicked the wrong button), and weigh
    // five times a base item.
    let mut site = site(120, |i| INSULTS[i % INSULTS.len()].to_owned());
    let p = RetrainParams {
        site_weight: 5.0,
        ..params()
    };
    let heldout = split_site(&site, p.heldout_share, p.seed).heldout;
    for r in site.iter_mut().filter(|r| !heldout.contains(r)) {
        let toxic = r.labels.binary.values_mut().next().unwrap();
        *toxic = 1 - *toxic;
    }
    let out = run(&base, &site, &champion, p);
    let c = &out.comparison;
    let tox = &c.judged[0];
    assert!(tox.champion_auc > 0.9, "{tox:?}");
    assert!(tox.high < 0.0, "{tox:?}");
    let Verdict::KeepChampion { reasons } = &c.verdict else {
        panic!("promoted: {c:?}")
    };
    assert!(
        matches!(&reasons[..], [KeepReason::Worse { head, .. }] if head == "toxicity"),
        "{reasons:?}"
    );
    assert!(c.verdict.to_string().contains("worse on toxicity"));
}

#[test]
fn the_same_inputs_give_the_same_challenger_and_too_few_labels_judge_nothing() {
    let base = base();
    let champion = champion(&base);
    let site = site(30, |_| NEW_WORD.to_owned());
    let p = RetrainParams {
        min_per_class: 50,
        ..params()
    };
    let first = run(&base, &site, &champion, p.clone());
    let again = run(&base, &site, &champion, p);
    assert_eq!(first.challenger.to_bytes(), again.challenger.to_bytes());
    assert_eq!(first.comparison, again.comparison);
    let c = &first.comparison;
    assert!(c.judged.is_empty());
    assert_eq!(c.not_judged.len(), 1);
    assert_eq!(c.not_judged[0].reason, NotJudgedReason::TooFewLabels);
    assert_eq!(
        c.not_judged[0].positives + c.not_judged[0].negatives,
        c.held_out
    );
    assert_eq!(
        c.verdict,
        Verdict::KeepChampion {
            reasons: vec![KeepReason::NothingJudged]
        }
    );
}
