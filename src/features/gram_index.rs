//! N-gram → feature id by a 64-bit hash, the lookup table of [`super::Vectorizer`].

use rustc_hash::FxHashMap;

/// Marks a hash shared by several vocabulary n-grams: look in `GramIndex::exact`.
const COLLIDED: u32 = u32::MAX;

/// N-gram → feature id, looked up by a 64-bit hash of the n-gram: a probe reads one table
/// slot and no string. With the strings as keys, every probe chased a pointer and compared
/// bytes, about a third of the time of scoring a comment. Vocabulary n-grams whose hashes
/// collide are looked up by their text. An n-gram outside the vocabulary is taken for a
/// vocabulary one only if their 64-bit hashes are equal: odds of about 1 in 3·10¹³ per
/// lookup with 500,000 features.
#[derive(Debug, Clone)]
pub(super) struct GramIndex {
    hash: fn(&str) -> u64,
    by_hash: FxHashMap<u64, u32>,
    exact: FxHashMap<Box<str>, u32>,
}

pub(super) fn gram_hash(gram: &str) -> u64 {
    use std::hash::BuildHasher;
    // A fixed seed: the same ids on every machine and every run.
    foldhash::quality::FixedState::with_seed(0x5669_6769_6500_0001).hash_one(gram)
}

impl GramIndex {
    /// Ids `offset..` for `grams`, looked up by `hash` (tests pass one that collides);
    /// duplicates are an error.
    pub(super) fn build(
        grams: &[String],
        offset: usize,
        hash: fn(&str) -> u64,
    ) -> Result<Self, String> {
        use std::collections::hash_map::Entry;
        let mut index = GramIndex {
            hash,
            by_hash: FxHashMap::default(),
            exact: FxHashMap::default(),
        };
        index.by_hash.reserve(grams.len());
        let duplicate = |g: &str| format!("vectorizer: duplicate vocabulary entry {g:?}");
        for (i, g) in grams.iter().enumerate() {
            let id = (offset + i) as u32;
            match index.by_hash.entry(hash(g)) {
                Entry::Vacant(e) => {
                    e.insert(id);
                }
                Entry::Occupied(mut e) => {
                    let prev = *e.get();
                    if prev != COLLIDED {
                        let prev_gram = &grams[prev as usize - offset];
                        if prev_gram == g {
                            return Err(duplicate(g));
                        }
                        index.exact.insert(prev_gram.as_str().into(), prev);
                        e.insert(COLLIDED);
                    }
                    if index.exact.insert(g.as_str().into(), id).is_some() {
                        return Err(duplicate(g));
                    }
                }
            }
        }
        Ok(index)
    }

    pub(super) fn get(&self, gram: &str) -> Option<u32> {
        match self.by_hash.get(&(self.hash)(gram)) {
            Some(&COLLIDED) => self.exact.get(gram).copied(),
            found => found.copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_hashes_fall_back_to_the_text() {
        // A hash that collides on purpose: n-grams of one length share it.
        let by_len: fn(&str) -> u64 = |g| g.len() as u64;
        let grams: Vec<String> = ["ab", "cd", "xyz", "ef"].map(String::from).into();
        let index = GramIndex::build(&grams, 10, by_len).unwrap();
        assert_eq!(index.get("ab"), Some(10));
        assert_eq!(index.get("cd"), Some(11));
        assert_eq!(index.get("xyz"), Some(12));
        assert_eq!(index.get("ef"), Some(13));
        assert_eq!(index.get("gh"), None);
        assert_eq!(
            index.get("uvw"),
            Some(12),
            "a hash hit outside the exact table"
        );
        assert_eq!(index.exact.len(), 3);
        let dup: Vec<String> = ["ab", "cd", "ab"].map(String::from).into();
        assert!(GramIndex::build(&dup, 0, by_len)
            .unwrap_err()
            .contains("\"ab\""));
        let dup: Vec<String> = ["ab", "ab"].map(String::from).into();
        assert!(GramIndex::build(&dup, 0, gram_hash).is_err());
    }
}
