//! Arbitrary text through the committed default model: analyse, head probabilities, stance,
//! attribution and the explanation of every head, then the HTTP layer's `score_input`
//! (decision and explanations of the flagged heads) for texts the API would accept.
//!
//! Invariants:
//! - nothing panics;
//! - the feature row is sorted, finite, and of norm 1 (or empty);
//! - every head probability and stance probability is finite and in [0, 1], stance
//!   probabilities sum to 1;
//! - every explanation span is a non-empty range of characters of the text, on char
//!   boundaries, whose `text` is exactly that slice, with a finite positive weight.
//!
//! The model is `models/default.vigie` of the repository (or `$VIGIE_MODEL`), loaded once.

#![no_main]

mod common;

use std::sync::OnceLock;

use common::{char_span, model, repo_path};
use libfuzzer_sys::fuzz_target;
use vigie::domain::Lang;
use vigie::http::score::{score_input, validate};
use vigie::http::Limits;
use vigie::policy::Policy;

fn policy() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| Policy::load(&repo_path("models/thresholds.toml")).expect("thresholds"))
}

fn prob(p: f32, what: &str) {
    assert!(p.is_finite() && (0.0..=1.0).contains(&p), "{what} = {p}");
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the language (given or detected), the rest is the comment.
    let (lang, rest) = match data.split_first() {
        Some((b, rest)) => (
            match b % 3 {
                0 => None,
                1 => Some(Lang::Fr),
                _ => Some(Lang::En),
            },
            rest,
        ),
        None => (None, data),
    };
    let text = String::from_utf8_lossy(rest);
    let text = text.as_ref();
    let m = model();

    let a = m.analyze(text, lang);
    if let Some(l) = lang {
        assert_eq!(a.lang, l);
    }
    assert!(a.row.indices.windows(2).all(|w| w[0] < w[1]));
    assert!(a
        .row
        .indices
        .iter()
        .all(|&i| (i as usize) < m.vectorizer.n_features()));
    assert!(a.row.values.iter().all(|v| v.is_finite() && *v > 0.0));
    let norm2: f32 = a.row.values.iter().map(|v| v * v).sum();
    assert!(
        a.row.values.is_empty() || (norm2 - 1.0).abs() < 1e-3,
        "row norm² {norm2}"
    );

    let probs = m.head_probabilities(&a);
    assert_eq!(probs.len(), m.card.heads.len());
    for (h, &p) in m.card.heads.iter().zip(&probs) {
        prob(p, h.name.as_str());
    }
    for t in 0..m.card.stance.len() {
        let s = m.stance(&a, t);
        for p in s.probabilities {
            prob(p, "stance");
        }
        let sum: f32 = s.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-3, "stance sums to {sum}");
    }

    let at = m.attribution(&a);
    for head in 0..m.card.heads.len() {
        let contributions = m.explain(text, &a, &at, head, 8);
        assert!(contributions.len() <= 8);
        for c in contributions {
            assert_eq!(char_span(text, c.start.into(), c.end.into()), c.text, "{c:?}");
            assert!(c.weight.is_finite() && c.weight > 0.0, "{c:?}");
            assert!(c.ngrams.len() <= 3);
            assert!(c.ngrams.iter().all(|g| g.weight.is_finite()));
        }
    }

    // What the API does with a text it accepts: decision and explanations of flagged heads.
    let limits = Limits::default();
    if let Ok(input) = validate(m, &limits, text.to_owned(), None, lang.map(Lang::code)) {
        let r = score_input(m, policy(), &input);
        for (name, &p) in &r.scores {
            prob(p, name);
        }
        for (name, items) in &r.explanation {
            assert!(r.flagged.contains(name));
            for it in items {
                assert_eq!(char_span(text, it.start.into(), it.end.into()), it.text);
            }
        }
        if let Some(s) = &r.stance {
            for (name, &p) in &s.probabilities {
                prob(p, name);
            }
        }
    }
});
