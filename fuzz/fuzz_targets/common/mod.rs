//! Helpers shared by the fuzz targets that load the model.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use vigie::model::Model;

/// A path of the repository (the fuzz crate lives in `fuzz/`).
pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

/// `$VIGIE_MODEL`, or the committed default model; loaded once.
pub fn model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| {
        let path = std::env::var_os("VIGIE_MODEL")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_path("models/default.vigie"));
        Model::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}
