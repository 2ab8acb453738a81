//! Sample comments.

/// Comments of every kind: allowed, held for review, rejected; accents, emoji, quotes,
/// obfuscation, two languages.
pub const TEXTS: [&str; 8] = [
    "Merci pour cet article, très clair et bien documenté.",
    "Quelle bande de bras cassés",
    "Bande de guignols, démission !",
    "Quel crétin ce ministre, il ne comprend rien",
    "Dégagez tous, bande d'abrutis",
    "you are a m o r o n and everyone knows it",
    "Très bon résumé 👍 — l’été dernier à Besançon, même chose.",
    "Ce gouvernement est une honte, des incapables",
];
