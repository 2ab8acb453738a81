//! The committed default model.

use std::sync::OnceLock;

use vigie::model::Model;

/// `models/default.vigie`, loaded once per test binary.
pub fn default_model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| {
        Model::load(&super::files::path("models/default.vigie")).expect("committed model loads")
    })
}
