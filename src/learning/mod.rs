//! Learning from the site's moderators: which comments to ask them about first.

mod teach;

pub use teach::{teach_order, uncertainty, Candidate, TeachParams};
