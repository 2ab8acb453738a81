//! The running service's shared state, below both `http` (the API) and `ui` (the
//! moderator's page), so neither imports the other: [`App`] (model, policy, limits, store,
//! counters), who is calling ([`Caller`]), the views of stored things ([`views`]), the
//! queue's parameters ([`queue`]) and teach order ([`teach`]), the site's labels
//! ([`labels`]), stance targets ([`targets`]), the model registry ([`models`]) and
//! statements of reasons ([`statements`]).

pub mod appeals;
pub mod labels;
pub mod metrics;
pub mod models;
pub mod queue;
pub mod ratelimit;
pub mod reports;
pub mod retrain;
pub mod statements;
pub mod targets;
pub mod teach;
pub mod transparency;
pub mod views;

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::domain::Role;
use crate::model::Model;
use crate::policy::Policy;
use crate::store::Store;
use metrics::Metrics;
use ratelimit::{RateLimit, RateLimiter};

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_text_chars: usize,
    pub max_body_bytes: usize,
    pub max_batch: usize,
    /// Coral's requests are read to the end whatever their size (their signature covers
    /// all of it); this much is kept and scored, a larger one is withheld for review.
    pub max_coral_body_bytes: usize,
    /// The whole request, body upload included.
    pub request_timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_text_chars: crate::scoring::DEFAULT_MAX_TEXT_CHARS,
            max_body_bytes: 1 << 20,
            max_batch: 1_000,
            max_coral_body_bytes: 16 << 20,
            request_timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// How a service is set up, besides its model, policy and store: what `serve`'s flags set.
/// `AppConfig::default()` is the in-process default (no model file, scoring open to all,
/// no rate limits, Coral off).
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub limits: Limits,
    /// Where `POST /v1/admin/model/reload` reads the model from.
    pub model_path: Option<PathBuf>,
    /// Where every model that served is kept ([`models`]); shared by the replicas of one
    /// database. `None` (the in-process default): no model is kept nor followed.
    pub models_dir: Option<PathBuf>,
    /// How often a replica looks for a model activated elsewhere; `None`: never.
    pub model_poll: Option<std::time::Duration>,
    /// Whether `/v1/score` needs a scorer key.
    pub score_requires_key: bool,
    /// Default claim lease.
    pub claim_lease_secs: u32,
    /// Longest lease a claim may ask for: one key cannot hold comments away from the other
    /// moderators for long.
    pub claim_max_lease_secs: u32,
    /// Mark the moderator page's session cookie `Secure` (sent over HTTPS only; browsers
    /// also accept it on http://localhost).
    pub cookie_secure: bool,
    /// Coral external moderation signing secrets (several while rotating); empty: the
    /// Coral endpoint is off.
    pub coral_secrets: Vec<String>,
    /// Requests per key; off by default in process, on from `serve`'s flags.
    pub rate_limit: RateLimit,
    /// Refused keys per client address; off by default in process, on from `serve`'s flags.
    pub key_failures: RateLimit,
    /// Keep comment text out of the logs.
    pub redact_logs: bool,
    /// How the service retrains ([`retrain`]); `None` (the in-process default): it does not.
    pub retrain: Option<retrain::RetrainConfig>,
    /// The rules of the site's terms statements of reasons cite ([`statements`]).
    pub grounds: Arc<crate::domain::Grounds>,
    /// Reader reports per client address ([`reports`]): on by default, everywhere.
    pub report_limit: RateLimit,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            model_path: None,
            models_dir: None,
            model_poll: None,
            score_requires_key: false,
            claim_lease_secs: 300,
            claim_max_lease_secs: 600,
            cookie_secure: true,
            coral_secrets: Vec::new(),
            rate_limit: RateLimit::default(),
            key_failures: RateLimit::default(),
            redact_logs: false,
            retrain: None,
            grounds: Arc::new(crate::domain::Grounds::default_grounds()),
            report_limit: reports::DEFAULT_LIMIT,
        }
    }
}

/// Everything a request handler needs, set once by [`App::new`]. The model sits in an
/// `ArcSwap` so a reload swaps it whole while in-flight requests finish on the one they
/// started with.
pub struct App {
    pub(crate) model: ArcSwap<Model>,
    pub(crate) policy: Policy,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) config: AppConfig,
    /// Built from `config.rate_limit`.
    pub(crate) rate_limiter: RateLimiter,
    /// Built from `config.key_failures`.
    pub(crate) auth_failures: RateLimiter,
    /// Built from `config.report_limit`.
    pub(crate) report_limiter: RateLimiter,
    /// What `GET /metrics` reports; the store reports its database failures to it.
    pub(crate) metrics: Arc<Metrics>,
    /// Held while the model serving is switched ([`models`]), so that a replica following
    /// another's activation never swaps back a model an activation here just replaced.
    pub(crate) switching: tokio::sync::Mutex<()>,
    /// The running or last retraining ([`retrain`]).
    pub(crate) retrain: std::sync::Mutex<retrain::RetrainStatus>,
    /// The site's stance label counts and the label marks they were counted at
    /// ([`targets::list`]).
    pub(crate) stance_tally:
        std::sync::Mutex<Option<(crate::store::LabelMarks, Arc<targets::StanceTally>)>>,
}

pub type AppState = Arc<App>;

impl App {
    /// `store` is wrapped so that its database failures are counted in `metrics`.
    pub fn new(model: Model, policy: Policy, store: Arc<dyn Store>, config: AppConfig) -> Self {
        let metrics = Arc::new(Metrics::default());
        let counted = metrics.clone();
        let store = Arc::new(crate::store::Observed::new(store, move |kind| {
            counted.database_failed(kind)
        }));
        Self {
            model: ArcSwap::from_pointee(model),
            policy,
            store,
            rate_limiter: RateLimiter::new(config.rate_limit),
            auth_failures: RateLimiter::new(config.key_failures),
            report_limiter: RateLimiter::new(config.report_limit),
            config,
            metrics,
            switching: tokio::sync::Mutex::new(()),
            retrain: std::sync::Mutex::new(retrain::RetrainStatus::Idle),
            stance_tally: std::sync::Mutex::new(None),
        }
    }

    /// The store, as the handlers see it (failures counted in the metrics).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }
}

/// The authenticated caller, in request extensions once its key is checked.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

/// In a response's extensions: the request presented a key that is unknown or revoked.
#[derive(Debug, Clone, Copy)]
pub struct KeyRefused;
