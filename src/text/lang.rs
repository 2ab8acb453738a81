use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use crate::domain::Lang;

// Frequent function words, as normalisation leaves them (accents kept; their unaccented
// spellings too, common in comments). Short lists on purpose: they decide
// between two languages, not among a hundred.
const FR: &[&str] = &[
    "le", "la", "les", "de", "des", "du", "un", "une", "et", "est", "que", "qui", "pas", "ne",
    "pour", "dans", "sur", "au", "aux", "ce", "cette", "il", "elle", "ils", "on", "nous", "vous",
    "je", "tu", "mais", "ou", "avec", "sont", "plus", "son", "sa", "ses", "leur", "c", "l", "d",
    "j", "qu", "n", "s", "y", "a", "à", "où", "ça", "été", "être", "fait", "tout", "tous", "comme",
    "bien", "très", "même", "rien", "quoi", "moi", "toi", "lui", "aussi", "ete", "etre", "tres",
    "meme",
];
const EN: &[&str] = &[
    "the", "of", "and", "to", "in", "is", "that", "it", "for", "was", "on", "are", "with", "as",
    "he", "she", "they", "be", "at", "this", "have", "from", "or", "by", "not", "but", "what",
    "all", "were", "we", "you", "your", "his", "her", "their", "an", "i", "my", "me", "do", "does",
    "did", "will", "would", "can", "so", "if", "no", "just", "about", "who", "has", "had", "been",
    "there", "than", "them", "because", "should",
];

/// French or English, from function-word counts over a normalised text. French wins ties,
/// since the service is French first.
pub fn detect_lang(normalized: &str) -> Lang {
    // A map, not the lists: a long comment has hundreds of words, and scanning both lists
    // for each was a tenth of its scoring time. One lookup a word: bit 0 French, bit 1
    // English. The byte length of the longest listed word: longer words are skipped unhashed.
    static WORDS: OnceLock<(FxHashMap<&str, u8>, usize)> = OnceLock::new();
    let (table, longest) = WORDS.get_or_init(|| {
        let mut table = FxHashMap::default();
        for (list, bit) in [(FR, 1u8), (EN, 2u8)] {
            for w in list {
                *table.entry(*w).or_default() |= bit;
            }
        }
        let longest = FR.iter().chain(EN).map(|w| w.len()).max().unwrap_or(0);
        (table, longest)
    });
    let (mut fr, mut en) = (0u32, 0u32);
    for (a, b) in super::words(normalized) {
        if b - a > *longest {
            continue;
        }
        if let Some(&bits) = table.get(&normalized[a..b]) {
            fr += u32::from(bits & 1);
            en += u32::from(bits >> 1);
        }
    }
    if en > fr {
        Lang::En
    } else {
        Lang::Fr
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize;

    fn detect(s: &str) -> Lang {
        detect_lang(&normalize(s).text)
    }

    #[test]
    fn tells_french_from_english() {
        assert_eq!(
            detect("Le président a changé de téléphone après l'affaire"),
            Lang::Fr
        );
        assert_eq!(
            detect("The president changed his phone after the affair"),
            Lang::En
        );
        assert_eq!(detect("Macron Pegasus NSO"), Lang::Fr);
        assert_eq!(detect("I think that this is not what they said"), Lang::En);
    }
}
