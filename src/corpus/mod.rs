//! Where training text comes from: the seed documents (articles with their reader
//! comments), labeled corpora in the canonical JSONL format, and CSV/TSV files (public
//! corpora, moderation histories) through a column mapping.

mod records;
mod seeds;
mod tabular;

pub use records::{read_jsonl, read_jsonl_str, CorpusError, Labels, Record};
pub use seeds::{parse_seed, read_seed_dir, SeedComment, SeedDocument, SeedItem, SeedParagraph};
pub use tabular::{is_tabular, read_labeled, read_table_str, ColumnArgs, ColumnMap};
