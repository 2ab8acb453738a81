//! Scoring one 300-character French comment through every head, in process, and one
//! 650-character English comment (the length of a Wikipedia talk-page comment).
//! `cargo bench --bench scoring`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use vigie::model::Model;
use vigie::policy::Policy;

const COMMENT: &str =
    "Ce gouvernement nous prend vraiment pour des idiots : un conseil de défense \
pour changer de téléphone, bravo ! Pendant ce temps les hôpitaux manquent de tout et personne \
n'est responsable de rien. Franchement, ces guignols de ministres devraient démissionner, \
tous autant qu'ils sont, avant 2022 !!!";

// The same length, insulting enough that every model flags it: the explanation is computed.
const FLAGGED_COMMENT: &str =
    "Ce gouvernement nous prend vraiment pour des idiots : un conseil de défense \
pour changer de téléphone, bravo ! Pendant ce temps les hôpitaux manquent de tout. Bande de \
connards incompétents, ces guignols de ministres devraient tous démissionner, et vite, avant \
que tout ne s'écroule, hélas !!!";

// Written for this benchmark (no corpus text is copied into the project).
const LONG_COMMENT: &str = "I have reverted your edit again because the source you keep adding \
does not say what you claim it says. Please read the article before you change it, and stop \
calling other editors idiots on their talk pages: that is a personal attack, and you were \
already warned twice last month. If you think the section about the 2021 elections is biased, \
bring better sources to the discussion here, explain which sentence is wrong and why, and wait \
for other people to answer. Edit warring will only get the page protected and you blocked. \
I am happy to help you find reliable sources, but not if every reply is full of insults and \
shouting in capital letters. Thanks.";

fn bench(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // VIGIE_BENCH_MODEL: another model file, to compare two models in one sitting.
    let model_path = std::env::var_os("VIGIE_BENCH_MODEL")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("models/default.vigie"));
    let model = Model::load(&model_path).unwrap();
    let policy = Policy::load(&root.join("models/thresholds.toml")).unwrap();
    assert!(
        (290..=310).contains(&COMMENT.chars().count()),
        "{}",
        COMMENT.chars().count()
    );
    assert!(
        (640..=660).contains(&LONG_COMMENT.chars().count()),
        "{}",
        LONG_COMMENT.chars().count()
    );
    let target = model.target_index("gouvernement");

    c.bench_function("score_300_chars_all_heads", |b| {
        b.iter(|| {
            let a = model.analyze(black_box(COMMENT), None);
            let p = model.head_probabilities(&a);
            let s = target.map(|t| model.stance(&a, t));
            black_box((p, s))
        })
    });
    c.bench_function("score_650_chars_english_all_heads", |b| {
        b.iter(|| {
            let a = model.analyze(black_box(LONG_COMMENT), None);
            black_box(model.head_probabilities(&a))
        })
    });
    let input = vigie::scoring::validate(
        &model,
        vigie::scoring::DEFAULT_MAX_TEXT_CHARS,
        FLAGGED_COMMENT.to_owned(),
        None,
        None,
    )
    .unwrap();
    assert!((290..=310).contains(&FLAGGED_COMMENT.chars().count()));
    let scored = vigie::scoring::score(&model, &policy, &input);
    assert!(!scored.flagged.is_empty(), "the comment must be flagged");
    c.bench_function("score_300_chars_with_decision_and_explanation", |b| {
        b.iter(|| black_box(vigie::scoring::score(&model, &policy, black_box(&input))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
