//! The teach order: which comments' labels would change the model most.
//!
//! Plain uncertainty sampling (the comments nearest a threshold first) is known to do no
//! better than random picks from a cold start: the most uncertain comments are near copies
//! of each other, and all about the head whose threshold is busiest. So the order mixes
//! three things:
//! - **per-head uncertainty**, taken in turn from each head (round robin), so every head
//!   gets labels near its own flag threshold;
//! - **diversity**: a comment too similar (cosine of the feature rows) to one already
//!   picked is passed over;
//! - **a random share**: every `1 / random_share`-th pick is drawn at random (by a hash of
//!   the comment's key, so the order is reproducible), which keeps the labels an unbiased
//!   sample of the site's comments too;
//! - **a random warm-up** (off by default): while the ranking model has learned from fewer
//!   than `warm_up` of the site's labels, every pick is random, since its probabilities on
//!   the site's comments are then the base data's. Measured, it did not help
//!   (`bench/RESULTS.md`, "Learning curve"), so `warm_up` defaults to 0.

use std::cmp::Ordering;

use crate::features::SparseRow;

/// One comment the order may pick: its feature row and its probability per binary head.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// Stable key (the comment id): seeds its random draw.
    pub key: &'a str,
    pub row: &'a SparseRow,
    /// P(positive) per head, in the order of `TeachParams::thresholds`.
    pub probabilities: &'a [f32],
}

/// Settings of the teach order.
#[derive(Debug, Clone, PartialEq)]
pub struct TeachParams {
    /// Flag threshold of each head: where a label teaches most.
    pub thresholds: Vec<f32>,
    /// Share of picks drawn at random, in [0, 1].
    pub random_share: f64,
    /// A candidate whose cosine similarity with a picked one exceeds this is passed over.
    pub max_similarity: f32,
    /// Site labels the ranking model must have learned from before uncertainty leads.
    pub warm_up: usize,
    /// Site labels the ranking model has learned from
    /// ([`crate::learning::retrain::site_labels_learned`]).
    pub learned: usize,
}

impl Default for TeachParams {
    fn default() -> Self {
        TeachParams {
            thresholds: Vec::new(),
            random_share: 0.25,
            max_similarity: 0.7,
            warm_up: 0,
            learned: 0,
        }
    }
}

/// How uncertain a probability is for a head flagging at `threshold`: 1 at the threshold,
/// 0 at the far end of [0, 1].
pub fn uncertainty(p: f32, threshold: f32) -> f32 {
    let span = threshold.max(1.0 - threshold).max(f32::EPSILON);
    (1.0 - (p - threshold).abs() / span).clamp(0.0, 1.0)
}

/// Cosine similarity of two sparse rows (rows are near unit length, but lexicon features sit
/// outside the n-grams' norm).
fn similarity(a: &SparseRow, b: &SparseRow) -> f32 {
    let (mut i, mut j, mut dot) = (0, 0, 0f32);
    while i < a.indices.len() && j < b.indices.len() {
        match a.indices[i].cmp(&b.indices[j]) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                dot += a.values[i] * b.values[j];
                i += 1;
                j += 1;
            }
        }
    }
    let norm = |r: &SparseRow| r.values.iter().map(|v| v * v).sum::<f32>().sqrt();
    let denominator = norm(a) * norm(b);
    if denominator > 0.0 {
        dot / denominator
    } else {
        0.0
    }
}

/// A reproducible pseudo-random rank for a key (FNV-1a, then a mixing step).
fn random_rank(key: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in key.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51afd7ed558ccd);
    h ^ (h >> 33)
}

/// The candidates to label first, at most `k`, as indices into `candidates`, most
/// informative first (see the module docs).
pub fn teach_order(candidates: &[Candidate], k: usize, p: &TeachParams) -> Vec<usize> {
    let heads = p.thresholds.len();
    // One queue per head, most uncertain first (ties by index: stable), and a random queue.
    let mut queues: Vec<Vec<usize>> = (0..heads)
        .map(|h| {
            let u = |i: usize| uncertainty(candidates[i].probabilities[h], p.thresholds[h]);
            let mut q: Vec<usize> = (0..candidates.len()).collect();
            q.sort_by(|&a, &b| u(b).total_cmp(&u(a)).then(a.cmp(&b)));
            q
        })
        .collect();
    let mut random: Vec<usize> = (0..candidates.len()).collect();
    random.sort_by_key(|&i| (random_rank(candidates[i].key), i));
    queues.push(random);
    let random_share = if p.learned < p.warm_up {
        1.0
    } else {
        p.random_share
    };
    let every = if random_share > 0.0 {
        (1.0 / random_share).round().max(1.0) as usize
    } else {
        usize::MAX
    };
    let mut picked: Vec<usize> = Vec::with_capacity(k);
    let mut taken = vec![false; candidates.len()];
    let mut cursors = vec![0usize; queues.len()];
    let (mut slot, mut head) = (0usize, 0usize);
    let k = k.min(candidates.len());
    let mut diverse = true;
    while picked.len() < k {
        let q = if heads == 0 || (slot + 1) % every == 0 {
            heads
        } else {
            head = (head + 1) % heads;
            head
        };
        slot += 1;
        let fits = |i: usize, taken: &[bool], picked: &[usize]| {
            !taken[i]
                && (!diverse
                    || picked.iter().all(|&j| {
                        similarity(candidates[i].row, candidates[j].row) <= p.max_similarity
                    }))
        };
        // The slot's queue first, then the others: a spent queue gives its turn away.
        let found = (0..queues.len()).find_map(|step| {
            let q = (q + step) % queues.len();
            let queue = &queues[q];
            (cursors[q]..queue.len())
                .find(|&c| fits(queue[c], &taken, &picked))
                .map(|c| (q, c))
        });
        match found {
            Some((q, c)) => {
                cursors[q] = c + 1;
                taken[queues[q][c]] = true;
                picked.push(queues[q][c]);
            }
            // Every queue is spent under the diversity rule: fill up without it.
            None if diverse => {
                diverse = false;
                cursors.iter_mut().for_each(|c| *c = 0);
            }
            None => break,
        }
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(u32, f32)]) -> SparseRow {
        let norm = pairs.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        SparseRow {
            indices: pairs.iter().map(|(i, _)| *i).collect(),
            values: pairs.iter().map(|(_, v)| v / norm).collect(),
        }
    }

    #[test]
    fn uncertainty_peaks_at_the_threshold() {
        assert_eq!(uncertainty(0.3, 0.3), 1.0);
        assert_eq!(uncertainty(1.0, 0.3), 0.0);
        assert!(uncertainty(0.0, 0.3) > uncertainty(1.0, 0.3));
        assert!(uncertainty(0.35, 0.3) > uncertainty(0.6, 0.3));
    }

    #[test]
    fn takes_heads_in_turn_skips_near_copies_and_mixes_in_random_picks() {
        // Items 0-2: near copies, all at head 0's threshold. Item 3: at head 1's threshold.
        // Items 4-7: certain on both heads, each with its own features.
        let rows: Vec<SparseRow> = [
            row(&[(1, 1.0), (2, 1.0)]),
            row(&[(1, 1.0), (2, 1.0), (3, 0.1)]),
            row(&[(1, 1.0), (2, 0.9)]),
            row(&[(4, 1.0)]),
            row(&[(5, 1.0)]),
            row(&[(6, 1.0)]),
            row(&[(7, 1.0)]),
            row(&[(8, 1.0)]),
        ]
        .into_iter()
        .collect();
        let probs: Vec<[f32; 2]> = vec![
            [0.5, 0.0],
            [0.5, 0.0],
            [0.49, 0.0],
            [0.0, 0.2],
            [0.0, 0.0],
            [1.0, 0.0],
            [0.0, 1.0],
            [0.01, 0.01],
        ];
        let keys: Vec<String> = (0..rows.len()).map(|i| format!("c-{i}")).collect();
        let cands: Vec<Candidate> = (0..rows.len())
            .map(|i| Candidate {
                key: &keys[i],
                row: &rows[i],
                probabilities: &probs[i],
            })
            .collect();
        let params = TeachParams {
            thresholds: vec![0.5, 0.2],
            random_share: 0.0,
            ..TeachParams::default()
        };
        let order = teach_order(&cands, 3, &params);
        // Head 1's most uncertain, then head 0's, then not a near copy of item 0 or 1.
        assert_eq!(&order[..2], &[3, 0]);
        assert!(!matches!(order[2], 1 | 2), "{order:?}");

        // Without the diversity rule's way out, every item is still reachable.
        let all = teach_order(&cands, 100, &params);
        let mut sorted = all.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..rows.len()).collect::<Vec<_>>());

        // Before the warm-up, every pick is random; after it, uncertainty leads again.
        let all_random = TeachParams {
            random_share: 1.0,
            ..params.clone()
        };
        let warming = TeachParams {
            warm_up: 30,
            learned: 29,
            ..params.clone()
        };
        let warm = TeachParams {
            learned: 30,
            ..warming.clone()
        };
        assert_eq!(
            teach_order(&cands, 3, &warming),
            teach_order(&cands, 3, &all_random)
        );
        assert_ne!(teach_order(&cands, 3, &warming), order);
        assert_eq!(teach_order(&cands, 3, &warm), order);

        // Half random: the random picks follow the keys' hash, reproducibly.
        let half = TeachParams {
            random_share: 0.5,
            ..params
        };
        let a = teach_order(&cands, 4, &half);
        assert_eq!(a, teach_order(&cands, 4, &half));
        assert_eq!(a.len(), 4);
        let mut dedup = a.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(dedup.len(), 4, "no comment twice: {a:?}");
    }
}
