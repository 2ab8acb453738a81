//! The model registry: every model that ever served is kept, as a file in the models
//! directory (`<id>.vigie`, written atomically, with the model's real-data evaluation beside
//! it when it has one) and a row of the store (the file's SHA-256, who or what registered
//! it, its report, its activations). The model to serve is the one of the latest activation.
//!
//! [`register`] keeps a new model; [`activate`] makes a registered one serve (its file read
//! back and checked, the activation recorded, then the model swapped in); [`start`] settles,
//! when `serve` starts, which model serves, then follows the latest activation, so that
//! every replica sharing the database and the models directory serves the model an admin or
//! a retraining activated on any of them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::metrics::file_written;
use super::App;
use crate::domain::{ActivationReason, ModelId};
use crate::model::Model;
use crate::store::{now_ms, Activation, NewModel, StoreError, StoredModel};
use crate::util::sha256_hex;

/// The actor of what `serve` itself registers and activates at start-up.
pub const SERVE: &str = "serve";

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("this server keeps no model files (it was started without a models directory)")]
    Off,
    #[error("no registered model with id {0:?}")]
    Unknown(String),
    /// The model or its file cannot serve: the reason.
    #[error("{0}")]
    Rejected(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A task reading or writing a model file panicked.
    #[error("{0}")]
    Internal(String),
}

/// A model as [`register`] kept it.
#[derive(Debug, Clone, PartialEq)]
pub struct Registered {
    pub model_id: String,
    /// Its file's name in the models directory.
    pub file: String,
    pub sha256: String,
    /// `false` when the same file was registered before.
    pub new: bool,
}

/// The model that served before an activation, and the one serving now.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Switched {
    pub previous_model_id: String,
    pub model_id: String,
}

fn models_dir(app: &App) -> Result<&Path, RegistryError> {
    app.config.models_dir.as_deref().ok_or(RegistryError::Off)
}

/// Keeps `model` (its file in the models directory, its row in the store), registered by
/// `actor` with `report` (e.g. a retraining's comparison); it does not serve until
/// [`activate`]d. Registering the same file again changes nothing; another file under a
/// registered id is refused (`StoreError::ModelConflict`).
pub async fn register(
    app: &App,
    model: Arc<Model>,
    report: Option<serde_json::Value>,
    actor: &str,
) -> Result<Registered, RegistryError> {
    let dir = models_dir(app)?.to_owned();
    let id = ModelId::parse(&model.card.model_id).map_err(RegistryError::Rejected)?;
    let file = id.file_name();
    let (bytes, sha256, model) = blocking(move || {
        let bytes = model.to_bytes();
        let sha = sha256_hex(&bytes);
        (bytes, sha, model)
    })
    .await?;
    // Checked before writing: the file of the model registered under this id stays as is.
    if let Some(known) = app.store.model(id.as_str()).await? {
        if known.sha256 != sha256 {
            return Err(StoreError::ModelConflict(id.to_string()).into());
        }
    }
    let name = file.clone();
    blocking(move || write_model(&dir, &name, &bytes, &model)).await??;
    let new = app
        .store
        .register_model(&NewModel {
            model_id: id.to_string(),
            file: file.clone(),
            sha256: sha256.clone(),
            report,
            registered_by: actor.to_owned(),
            now_ms: now_ms(),
        })
        .await?;
    if new {
        tracing::info!(model = %id, by = actor, "model registered");
    }
    Ok(Registered {
        model_id: id.to_string(),
        file,
        sha256,
        new,
    })
}

/// Makes the registered model `model_id` serve: its file is read and checked (the
/// registered SHA-256, then `Model::load`'s checks), the activation is recorded for `actor`
/// and `reason`, then the model is swapped in (requests in flight finish on the one they
/// started with). An unknown id is `Unknown`; a missing or damaged file is `Rejected`, and
/// the model serving keeps serving. Other replicas follow within their poll period.
pub async fn activate(
    app: &App,
    model_id: &str,
    actor: &str,
    reason: ActivationReason,
) -> Result<Switched, RegistryError> {
    let _one_switch_at_a_time = app.switching.lock().await;
    let (model, written) = load(app, model_id).await?;
    if !app
        .store
        .activate_model(model_id, actor, reason, now_ms())
        .await?
    {
        return Err(RegistryError::Unknown(model_id.to_owned()));
    }
    let previous = serve(app, model, written);
    tracing::info!(from = %previous, to = %model_id, by = actor, %reason, "model activated");
    Ok(Switched {
        previous_model_id: previous,
        model_id: model_id.to_owned(),
    })
}

/// Every registered model, newest first, with its activations.
pub async fn list(app: &App) -> Result<(Vec<StoredModel>, Option<Activation>), RegistryError> {
    Ok((app.store.models().await?, app.store.active_model().await?))
}

/// When `serve` starts, with a models directory: registers the model it was given, then
/// settles which model serves, and follows the latest activation every
/// `AppConfig::model_poll` from then on (in a task that ends with the `App`).
///
/// Which model serves at start-up: the first start (no activation yet) activates the model
/// given; afterwards the latest activation wins when its file loads, so a restarted replica
/// serves what the others serve, and a rollback survives restarts. A new model given is
/// registered, not activated: `POST /v1/admin/model/reload` or `POST
/// /v1/admin/models/{id}/activate` makes it serve. When the active model's file cannot be
/// loaded, the model given serves, with an error logged.
pub async fn start(app: &Arc<App>) -> Result<(), RegistryError> {
    if app.config.models_dir.is_none() {
        return Ok(());
    }
    settle(app).await?;
    if let Some(period) = app.config.model_poll {
        tokio::spawn(follow(Arc::downgrade(app), period));
    }
    Ok(())
}

async fn settle(app: &App) -> Result<(), RegistryError> {
    let given = app.model.load_full();
    let given_id = given.card.model_id.clone();
    register(app, given, None, SERVE).await?;
    let _one_switch_at_a_time = app.switching.lock().await;
    let Some(active) = app.store.active_model().await? else {
        // It serves already, read from the file given: only the activation is recorded.
        let reason = ActivationReason::Startup;
        app.store
            .activate_model(&given_id, SERVE, reason, now_ms())
            .await?;
        tracing::info!(model = %given_id, "first start: the model given is active");
        return Ok(());
    };
    if active.model_id == given_id {
        tracing::info!(model = %given_id, "the model given is the active one");
        return Ok(());
    }
    match load(app, &active.model_id).await {
        Ok((model, written)) => {
            serve(app, model, written);
            tracing::info!(
                model = %active.model_id, given = %given_id, by = %active.actor,
                reason = %active.reason,
                "serving the active model, not the model given (registered: activate it to serve it)"
            );
        }
        Err(e) => tracing::error!(
            active = %active.model_id, given = %given_id, error = %e,
            "the active model cannot be loaded: serving the model given, unlike the other replicas"
        ),
    }
    Ok(())
}

/// Every `period`, [`follow_once`], until the `App` is gone.
async fn follow(app: Weak<App>, period: Duration) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let mut failed = None;
    loop {
        tick.tick().await;
        let Some(app) = app.upgrade() else { return };
        follow_once(&app, &mut failed).await;
    }
}

/// Swaps in the model of the latest activation when it is not the one serving (another
/// replica activated it). A file that cannot be loaded leaves the model serving as it is;
/// the error is logged once per model (`failed`), and loading is tried again each time.
pub async fn follow_once(app: &App, failed: &mut Option<String>) {
    let _one_switch_at_a_time = app.switching.lock().await;
    let active = match app.store.active_model().await {
        Ok(Some(active)) => active,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read which model is active");
            return;
        }
    };
    if active.model_id == app.model.load().card.model_id {
        *failed = None;
        return;
    }
    match load(app, &active.model_id).await {
        Ok((model, written)) => {
            let previous = serve(app, model, written);
            tracing::info!(from = %previous, to = %active.model_id, by = %active.actor,
                reason = %active.reason, "following the active model");
            *failed = None;
        }
        Err(e) => {
            if failed.as_deref() != Some(active.model_id.as_str()) {
                tracing::error!(active = %active.model_id, error = %e,
                    "the active model cannot be loaded: this replica keeps serving its model");
            }
            *failed = Some(active.model_id);
        }
    }
}

/// The registered model `model_id`, read from its file and checked, with the file's
/// modification time (for the model's age in the metrics).
async fn load(app: &App, model_id: &str) -> Result<(Model, Option<SystemTime>), RegistryError> {
    let dir = models_dir(app)?.to_owned();
    let row = app
        .store
        .model(model_id)
        .await?
        .ok_or_else(|| RegistryError::Unknown(model_id.to_owned()))?;
    let (model, written) = blocking(move || read_registered(&dir, &row))
        .await?
        .map_err(RegistryError::Rejected)?;
    for h in app.policy.unknown_heads(&model.card) {
        tracing::warn!(head = %h, model = %model_id, "thresholds file names a head the model does not have");
    }
    Ok((model, written))
}

/// `row`'s file: a plain name in `dir`, its SHA-256 the registered one, accepted by
/// [`Model::load_with_digest`]; with its modification time.
fn read_registered(dir: &Path, row: &StoredModel) -> Result<(Model, Option<SystemTime>), String> {
    if Path::new(&row.file).file_name() != Some(row.file.as_ref()) {
        return Err(format!(
            "registered file name {:?} is not a plain file name",
            row.file
        ));
    }
    let path = dir.join(&row.file);
    let written = file_written(&path);
    let (model, sha) = Model::load_with_digest(&path).map_err(|e| e.to_string())?;
    if sha != row.sha256 {
        return Err(format!(
            "{} is not the registered file (its SHA-256 is {sha}, the registered one {})",
            path.display(),
            row.sha256
        ));
    }
    if model.card.model_id != row.model_id {
        return Err(format!(
            "{} holds model {}",
            path.display(),
            model.card.model_id
        ));
    }
    Ok((model, written))
}

/// Swaps `model` in; the previous model's id.
fn serve(app: &App, model: Model, written: Option<SystemTime>) -> String {
    let previous = app.model.swap(Arc::new(model));
    app.metrics.model_loaded(written);
    previous.card.model_id.clone()
}

/// Writes the model file `name` in `dir`, and its real-data evaluation beside it.
fn write_model(dir: &Path, name: &str, bytes: &[u8], model: &Model) -> Result<(), RegistryError> {
    let write = |name: &str, bytes: &[u8]| {
        keep_file(dir, name, bytes).map_err(|source| RegistryError::Write {
            path: dir.join(name),
            source,
        })
    };
    write(name, bytes)?;
    if let Some(eval) = &model.realdata {
        let beside = crate::model::RealDataEvaluation::path_beside(Path::new(name));
        let json = serde_json::to_vec_pretty(eval).expect("an evaluation serialises");
        write(&beside.to_string_lossy(), &json)?;
    }
    Ok(())
}

/// Writes `bytes` as `dir/name` unless that file holds them already: into a temporary file
/// of a name no other writer uses (replicas may share the directory), flushed to disk, then
/// renamed over `name`, so a reader never sees half a file.
fn keep_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let path = dir.join(name);
    if std::fs::read(&path).is_ok_and(|found| found == bytes) {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| std::io::Error::other(e.to_string()))?;
    let tmp = dir.join(format!(".{name}.{}.tmp", crate::util::hex(&nonce)));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename reaches the disk with the directory.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Runs `f` on the blocking pool (model files are large: reading, checking and writing one
/// would hold up the requests of an async worker).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, RegistryError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RegistryError::Internal(format!("a model file task failed: {e}")))
}
