//! Scoring one 300-character French comment through every head, in process.
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

fn bench(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = Model::load(&root.join("models/default.vigie")).unwrap();
    let policy = Policy::load(&root.join("models/thresholds.toml")).unwrap();
    assert!(
        (290..=310).contains(&COMMENT.chars().count()),
        "{}",
        COMMENT.chars().count()
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
    let input = vigie::http::score::validate(
        &model,
        &vigie::http::Limits::default(),
        COMMENT.to_owned(),
        None,
        None,
    )
    .unwrap();
    c.bench_function("score_300_chars_with_decision_and_explanation", |b| {
        b.iter(|| {
            black_box(vigie::http::score::score_input(
                &model,
                &policy,
                black_box(&input),
            ))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
