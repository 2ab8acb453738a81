//! Cuts a comment into plain and highlighted segments from its stored explanation, so the
//! template can mark the words that drove each flagged head, escaping every segment.

use std::collections::BTreeSet;

/// A run of characters, highlighted when some flagged head's explanation covers it.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub text: String,
    /// Heads whose explanation covers this run, e.g. "insult, toxicity"; empty if none.
    pub heads: String,
}

impl Segment {
    pub fn marked(&self) -> bool {
        !self.heads.is_empty()
    }
}

/// Words weighing less than this share of a head's heaviest word are not highlighted: the
/// page points at what drove the score, not at every word that nudged it.
const MIN_SHARE: f64 = 0.3;

/// `explanation` is `{head: [{"start", "end", "weight", ...}]}` with character offsets.
pub fn segments(text: &str, explanation: Option<&serde_json::Value>) -> Vec<Segment> {
    let chars: Vec<char> = text.chars().collect();
    let mut cover: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); chars.len()];
    if let Some(map) = explanation.and_then(|e| e.as_object()) {
        for (head, items) in map {
            let items: Vec<&serde_json::Value> = items.as_array().into_iter().flatten().collect();
            let top = items
                .iter()
                .filter_map(|it| it["weight"].as_f64())
                .fold(0.0, f64::max);
            for it in items {
                if it["weight"].as_f64().is_some_and(|w| w < MIN_SHARE * top) {
                    continue;
                }
                let (Some(s), Some(e)) = (it["start"].as_u64(), it["end"].as_u64()) else {
                    continue;
                };
                let (s, e) = (s as usize, (e as usize).min(chars.len()));
                for c in cover.iter_mut().take(e).skip(s) {
                    c.insert(head.as_str());
                }
            }
        }
    }
    let mut out: Vec<Segment> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let mut j = i + 1;
        while j < chars.len() && cover[j] == cover[i] {
            j += 1;
        }
        out.push(Segment {
            text: chars[i..j].iter().collect(),
            heads: cover[i].iter().copied().collect::<Vec<_>>().join(", "),
        });
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn marks_the_explained_words() {
        let e = json!({"insult": [{"start": 5, "end": 10}], "toxicity": [{"start": 5, "end": 10}, {"start": 11, "end": 13}]});
        let s = segments("Quel c0nar ça", Some(&e));
        let got: Vec<(&str, &str)> = s
            .iter()
            .map(|s| (s.text.as_str(), s.heads.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("Quel ", ""),
                ("c0nar", "insult, toxicity"),
                (" ", ""),
                ("ça", "toxicity")
            ]
        );
    }

    #[test]
    fn light_words_are_not_highlighted() {
        let e = json!({"toxicity": [{"start": 0, "end": 4, "weight": 2.0}, {"start": 5, "end": 7, "weight": 0.5}]});
        let s = segments("Bande de nuls", Some(&e));
        let got: Vec<(&str, &str)> = s
            .iter()
            .map(|s| (s.text.as_str(), s.heads.as_str()))
            .collect();
        assert_eq!(got, [("Band", "toxicity"), ("e de nuls", "")]);
    }

    #[test]
    fn no_explanation_or_bad_spans_leave_the_text_whole() {
        assert_eq!(
            segments("abc", None),
            [Segment {
                text: "abc".into(),
                heads: String::new()
            }]
        );
        let e = json!({"toxicity": [{"start": 2, "end": 99}, {"start": "x"}]});
        let s = segments("abc", Some(&e));
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].text, "c");
        assert!(segments("", Some(&e)).is_empty());
    }
}
