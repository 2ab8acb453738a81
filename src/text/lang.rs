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

// When function words tie (or there are none, as in "great game last night"), words that
// short comments are made of, and the shapes of words only one language has.
const FR_SHORT: &[&str] = &[
    "merci",
    "bravo",
    "oui",
    "non",
    "mdr",
    "ptdr",
    "bof",
    "nul",
    "nulle",
    "vrai",
    "faux",
    "trop",
    "bon",
    "bonne",
    "journée",
    "journee",
    "soirée",
    "soiree",
    "salut",
    "coucou",
    "bonjour",
    "bonsoir",
    "stp",
    "svp",
    "voilà",
    "voila",
    "bah",
    "ben",
    "bref",
    "franchement",
    "honte",
    "encore",
    "toujours",
    "jamais",
    "gens",
    "pourquoi",
    "quand",
    "exactement",
    "enfin",
    "article",
    "génial",
    "genial",
    "excellent",
    "débile",
    "debile",
    "nan",
    "ouais",
    "grave",
    "chapeau",
    "pitié",
    "pitie",
    "lamentable",
    "hâte",
    "hate",
];
const EN_SHORT: &[&str] = &[
    "ok",
    "okay",
    "lol",
    "lmao",
    "omg",
    "wtf",
    "thanks",
    "thank",
    "thx",
    "yes",
    "yeah",
    "yep",
    "nope",
    "great",
    "good",
    "nice",
    "day",
    "game",
    "night",
    "last",
    "love",
    "like",
    "agree",
    "well",
    "said",
    "true",
    "right",
    "wrong",
    "sure",
    "really",
    "very",
    "people",
    "think",
    "know",
    "man",
    "guys",
    "here",
    "now",
    "best",
    "bad",
    "awesome",
    "cool",
    "wow",
    "please",
    "sorry",
    "name",
    "why",
    "how",
    "when",
    "where",
    "fake",
    "news",
    "stupid",
    "idiot",
    "amazing",
    "team",
    "win",
    "won",
    "lost",
    "totally",
    "absolutely",
    "disagree",
    "congrats",
    "hello",
    "hi",
    "bye",
];

/// French or English, from function-word counts over a normalised text; when they tie, from
/// the words of short comments and the shapes of words. French wins what is left tied, since
/// the service is French first.
pub fn detect_lang(normalized: &str) -> Lang {
    let (fr, en) = function_words(normalized);
    if fr != en {
        return if en > fr { Lang::En } else { Lang::Fr };
    }
    let (fr, en) = short_comment_cues(normalized);
    if en > fr {
        Lang::En
    } else {
        Lang::Fr
    }
}

/// (French, English) function-word counts.
fn function_words(normalized: &str) -> (u32, u32) {
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
    (fr, en)
}

/// (French, English) counts of short-comment words and of word shapes: French accents and
/// `œ`; English `th`, `w`, `-ing`, `-ght`.
fn short_comment_cues(normalized: &str) -> (u32, u32) {
    let (mut fr, mut en) = (0u32, 0u32);
    for (a, b) in super::words(normalized) {
        let w = &normalized[a..b];
        if FR_SHORT.contains(&w)
            || w.contains(['é', 'è', 'ê', 'à', 'ç', 'ù', 'û', 'ô', 'î', 'ï', 'ë', 'œ'])
        {
            fr += 1;
        } else if EN_SHORT.contains(&w)
            || w.contains("th")
            || w.contains('w')
            || w.ends_with("ing")
            || w.contains("ght")
        {
            en += 1;
        }
    }
    (fr, en)
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

    #[test]
    fn short_comments_in_both_languages() {
        for en in [
            "have a nice day",
            "ok",
            "lol",
            "great game last night",
            "Sorry, I like your name.",
            "Thanks!",
            "So true",
            "wow",
            "Nothing to add",
            "Totally agree",
        ] {
            assert_eq!(detect(en), Lang::En, "{en}");
        }
        for fr in [
            "Bravo",
            "merci",
            "mdr",
            "Trop bien",
            "c'est nul",
            "Très juste",
            "Bonne journée",
            "N'importe quoi",
            "Lamentable.",
            "ouais grave",
            "Macron démission",
            "",
        ] {
            assert_eq!(detect(fr), Lang::Fr, "{fr}");
        }
    }
}
