//! The model file: `VIGIEMDL` magic, format version (u32 LE), payload length (u64 LE),
//! payload (postcard), SHA-256 of the payload. Anything else is refused with an error that
//! says what is wrong, before a byte of it is trusted.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::{Model, RealDataEvaluation};

/// 2: accents kept by normalisation (a version-1 model was trained on accent-folded text, and
/// would miss every accented n-gram). 3: one-character contraction suffixes ("don't") give no
/// word n-grams (a version-2 model has "t" and "don t" in its vocabulary and would lose them).
/// 4: a head's card records its calibration (the payload gained a field).
/// 5: the vectoriser holds a lexicon, possibly empty (the payload gained a field).
pub const FORMAT_VERSION: u32 = 5;
const MAGIC: &[u8; 8] = b"VIGIEMDL";
const HEADER: usize = 8 + 4 + 8;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("not a Vigie model file (bad magic bytes)")]
    NotAModel,
    #[error(
        "model file format version {found} is not supported (this build reads version {supported})"
    )]
    UnsupportedVersion { found: u32, supported: u32 },
    #[error("corrupt model file: {0}")]
    Corrupt(String),
    #[error("cannot read the model's real-data evaluation: {0}")]
    RealData(String),
}

impl Model {
    /// Serialises to the file format.
    pub fn to_bytes(&self) -> Vec<u8> {
        let payload = postcard::to_stdvec(self).expect("a model always serialises");
        let mut out = Vec::with_capacity(HEADER + payload.len() + 32);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(&Sha256::digest(&payload));
        out
    }

    /// Parses and checks the file format.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        if bytes.len() < 8 || &bytes[..8] != MAGIC {
            return Err(ModelError::NotAModel);
        }
        if bytes.len() < HEADER {
            return Err(ModelError::Corrupt("truncated header".into()));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(ModelError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        let expected = (HEADER as u64)
            .checked_add(len)
            .and_then(|n| n.checked_add(32));
        if expected != Some(bytes.len() as u64) {
            return Err(ModelError::Corrupt(format!(
                "length mismatch: header announces a {len}-byte payload, file is {} bytes",
                bytes.len()
            )));
        }
        let payload = &bytes[HEADER..bytes.len() - 32];
        if Sha256::digest(payload).as_slice() != &bytes[bytes.len() - 32..] {
            return Err(ModelError::Corrupt("checksum mismatch".into()));
        }
        let model: Model =
            postcard::from_bytes(payload).map_err(|e| ModelError::Corrupt(e.to_string()))?;
        if model.card.format_version != FORMAT_VERSION {
            return Err(ModelError::Corrupt(
                "card and header versions differ".into(),
            ));
        }
        model.validate()?;
        Ok(model)
    }

    /// Reads a model file, and the real-data evaluation beside it when there is one for
    /// this model ([`RealDataEvaluation::path_beside`]).
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        Model::load_with_digest(path).map(|(model, _)| model)
    }

    /// As [`Model::load`], with the lowercase hex SHA-256 of the whole file (what the model
    /// registry records of a file, to know it again).
    pub fn load_with_digest(path: &Path) -> Result<(Model, String), ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let mut model = Model::from_bytes(&bytes)?;
        let beside = RealDataEvaluation::path_beside(path);
        model.realdata = RealDataEvaluation::read_for(&beside, &model.card.model_id)
            .map_err(ModelError::RealData)?;
        Ok((model, crate::util::sha256_hex(&bytes)))
    }

    /// Writes atomically (temporary file, then rename), so a reader never sees half a model.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let io = |source| ModelError::Io {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, self.to_bytes()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}
