//! Where training text comes from: the seed documents (articles with their reader
//! comments) and labeled corpora in the canonical JSONL format.

mod records;
mod seeds;

pub use records::{read_jsonl, read_jsonl_str, CorpusError, Labels, Record};
pub use seeds::{parse_seed, read_seed_dir, SeedComment, SeedDocument, SeedItem, SeedParagraph};
