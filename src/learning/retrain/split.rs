//! The site's labels split into the part a challenger trains on and the part both models are
//! judged on, by a hash of each record's id: a record stays on its side from one retraining
//! to the next (while the seed and the share stay), so a champion that came from an earlier
//! retraining never trained on the labels it is judged on now.

use sha2::{Digest, Sha256};

use crate::corpus::Record;

/// The site's labeled records, in their order, on either side of the split.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteSplit {
    pub train: Vec<Record>,
    pub heldout: Vec<Record>,
}

/// A stable number in [0, 1) for an id: the first 8 bytes of SHA-256 over a tag of its own
/// (so the split does not follow the training's fold assignment), the seed and the id.
fn unit_key(seed: u64, id: &str) -> f64 {
    let mut h = Sha256::new();
    h.update(b"vigie retrain split\0");
    h.update(seed.to_le_bytes());
    h.update(id.as_bytes());
    let digest = h.finalize();
    let first = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    (first >> 11) as f64 / (1u64 << 53) as f64
}

/// Records whose key falls below `heldout_share` are held out, the others train.
pub fn split_site(records: &[Record], heldout_share: f64, seed: u64) -> SiteSplit {
    let mut split = SiteSplit::default();
    for r in records {
        if unit_key(seed, &r.id) < heldout_share {
            split.heldout.push(r.clone());
        } else {
            split.train.push(r.clone());
        }
    }
    split
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Labels;

    fn records(n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| Record {
                id: format!("site-{i}"),
                text: format!("comment {i}"),
                labels: Labels::default(),
                target: None,
                lang: None,
            })
            .collect()
    }

    fn ids(rs: &[Record]) -> Vec<&str> {
        rs.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn holds_out_about_the_share_and_keeps_every_record_once() {
        let all = records(2000);
        let s = split_site(&all, 0.2, 42);
        assert_eq!(s.train.len() + s.heldout.len(), 2000);
        assert!((350..450).contains(&s.heldout.len()), "{}", s.heldout.len());
        let mut both: Vec<&str> = ids(&s.train).into_iter().chain(ids(&s.heldout)).collect();
        both.sort();
        both.dedup();
        assert_eq!(both.len(), 2000);
        assert_eq!(split_site(&all, 0.0, 42).heldout.len(), 0);
        assert_eq!(split_site(&all, 1.0, 42).train.len(), 0);
    }

    #[test]
    fn a_record_keeps_its_side_whatever_else_is_labeled() {
        let all = records(500);
        let s = split_site(&all, 0.2, 42);
        // More labels later, in another order: the first 500 stay where they were.
        let mut more = records(900);
        more.reverse();
        let later = split_site(&more, 0.2, 42);
        for r in &s.heldout {
            assert!(later.heldout.contains(r), "{} moved", r.id);
        }
        for r in &s.train {
            assert!(later.train.contains(r), "{} moved", r.id);
        }
        // Another seed, another split.
        assert_ne!(split_site(&all, 0.2, 7).heldout, s.heldout);
    }
}
