//! The moderation vocabulary: what a comment is, what a score says, what a decision is.
//! Nothing here knows about HTTP or SQL; every newtype validates in `parse()`.

mod comment;
mod queue;
mod scores;

pub use comment::{CommentText, Lang, ScorablePrefix, Target, TextError};
pub use queue::{CommentId, CommentStatus, ModeratorAction, Role};
pub use scores::{Decision, HeadName, Stance};
