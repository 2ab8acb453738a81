//! The character features of each vocabulary word, listed once at load.

/// `char_wb` n-grams never cross a word boundary, so a word's character features depend
/// on the word alone: for every single word of the vocabulary they are looked up once, on
/// load. A comment's known words (nearly all of its words) then take their character
/// features from here, found by the word lookup that unigrams need anyway, instead of one
/// lookup per n-gram: on long comments, about twenty lookups per word replaced by a copy.
#[derive(Debug, Clone)]
pub(super) struct WordChars {
    /// Word feature `i` has the character features `ids[offsets[i]..offsets[i + 1]]`
    /// (none for bigrams, which no single word looks up).
    offsets: Vec<u32>,
    ids: Vec<u32>,
}

impl WordChars {
    pub(super) fn of(&self, word: u32) -> &[u32] {
        let i = word as usize;
        &self.ids[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Lists the character features of every single word of `words` (a sorted word
    /// vocabulary: unigrams and bigrams), as `hits(word, ids)` pushes them onto `ids`.
    pub(super) fn build(
        words: &[String],
        mut hits: impl FnMut(&str, &mut Vec<u32>),
    ) -> Result<Self, String> {
        let too_many = || "vectorizer: too many character n-grams per word".to_owned();
        let mut offsets = Vec::with_capacity(words.len() + 1);
        let mut ids = Vec::new();
        offsets.push(0);
        for w in words {
            if !w.contains(' ') {
                hits(w, &mut ids);
            }
            offsets.push(u32::try_from(ids.len()).map_err(|_| too_many())?);
        }
        ids.shrink_to_fit();
        Ok(WordChars { offsets, ids })
    }
}
