//! Shared test helpers.
#![allow(dead_code)]

pub mod prom;
pub mod serve;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use vigie::model::Model;

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

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn path(rel: &str) -> PathBuf {
    root().join(rel)
}

/// The committed default model, loaded once per test binary.
pub fn default_model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| Model::load(&path("models/default.vigie")).expect("committed model loads"))
}

/// A fresh directory under the system temp dir, `vigie-<name>-<pid>`, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("vigie-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The path as a command-line argument.
    pub fn arg(&self) -> &str {
        self.0.to_str().expect("temp dir path is UTF-8")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
