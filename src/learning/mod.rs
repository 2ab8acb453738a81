//! Learning from the site's moderators: which comments to ask them about first, and safe
//! retraining on their labels.

pub mod retrain;
mod teach;

pub use teach::{teach_order, uncertainty, Candidate, TeachParams};
