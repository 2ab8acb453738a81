//! The `serve` command line: configuration from flags and environment, then the server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;

use super::limits::RateLimit;
use super::{app, App, AppConfig, Limits};
use crate::model::Model;
use crate::policy::Policy;
use crate::service::retrain::RetrainConfig;
pub use crate::store::DbArgs;
use crate::train::sources::BaseFiles;

/// Serve the scoring API.
#[derive(Debug, Clone, Parser)]
#[command(name = "serve", version)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "VIGIE_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Model file.
    #[arg(long, env = "VIGIE_MODEL", default_value = "models/default.vigie")]
    pub model: PathBuf,
    /// Per-head thresholds (TOML); heads it does not name use the model's own.
    #[arg(
        long,
        env = "VIGIE_THRESHOLDS",
        default_value = "models/thresholds.toml"
    )]
    pub thresholds: PathBuf,
    /// The rules of the site's terms that statements of reasons cite (TOML); by default
    /// the committed `models/grounds.toml`.
    #[arg(long, env = "VIGIE_GROUNDS")]
    pub grounds: Option<PathBuf>,
    /// Longest accepted comment, in characters.
    #[arg(long, env = "VIGIE_MAX_TEXT_CHARS", default_value_t = 10_000)]
    pub max_text_chars: usize,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "VIGIE_MAX_BODY_BYTES", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,
    /// Most comments in one batch request.
    #[arg(long, env = "VIGIE_MAX_BATCH", default_value_t = 1_000)]
    pub max_batch: usize,
    /// Longest a request may take, body upload included, in seconds (then 408).
    #[arg(long, env = "VIGIE_REQUEST_TIMEOUT_SECS", default_value_t = 30.0)]
    pub request_timeout_secs: f64,
    /// Requests per second allowed to one API key (0: no limit); over it, 429 with
    /// `Retry-After`. Requests without a key are not limited here: put the service behind
    /// a proxy that limits by address if it faces the public.
    #[arg(long, env = "VIGIE_RATE_LIMIT", default_value_t = 200.0)]
    pub rate_limit: f64,
    /// Requests one key may send at once above its rate.
    #[arg(long, env = "VIGIE_RATE_BURST", default_value_t = 400.0)]
    pub rate_burst: f64,
    /// Keep comment text out of the logs (ids, statuses and scores only).
    #[arg(long, env = "VIGIE_REDACT_LOGS")]
    pub redact_logs: bool,
    /// Refused keys (unknown or revoked) one client address may present per minute; past
    /// them, its requests that present a key get 429 until the budget refills (0: off).
    #[arg(long, env = "VIGIE_KEY_FAILURES_PER_MINUTE", default_value_t = 10.0)]
    pub key_failures_per_minute: f64,
    /// Also serve `GET /metrics` here, without a key (on the main address it needs an admin
    /// key): an address of an internal network, where Prometheus scrapes.
    #[arg(long, env = "VIGIE_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    #[command(flatten)]
    pub db: DbArgs,
    /// Where every model that served is kept (`<id>.vigie`); by default `<data-dir>/models`.
    /// Replicas of one database share it (a replica that cannot read the active model's file
    /// logs an error and keeps serving its own).
    #[arg(long, env = "VIGIE_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,
    /// How often, in seconds, a replica looks in the database for a model activated
    /// elsewhere, and serves it (1 to 60; 0: never).
    #[arg(long, env = "VIGIE_MODEL_POLL_SECS", default_value_t = 10)]
    pub model_poll_secs: u64,
    /// Project folder whose training files (`training/sources.toml`, the seeds, the held-out
    /// file) a retraining starts from; without its manifest the service does not retrain.
    #[arg(long, env = "VIGIE_RETRAIN_BASE", default_value = ".")]
    pub retrain_base: PathBuf,
    /// Threads a retraining uses (scoring keeps the others); 0: all but one.
    #[arg(long, env = "VIGIE_RETRAIN_THREADS", default_value_t = 0)]
    pub retrain_threads: usize,
    /// Run a retraining's threads at the same priority as scoring. By default they run at
    /// the lowest (batch policy, nice 19): scoring's latency holds while one runs, but under
    /// a load that keeps every core busy the retraining waits for idle moments.
    #[arg(long, env = "VIGIE_RETRAIN_FULL_PRIORITY")]
    pub retrain_full_priority: bool,
    /// Retrain on this schedule (e.g. `6h`); unset: only when an admin asks.
    #[arg(long, env = "VIGIE_RETRAIN_EVERY", value_parser = humantime::parse_duration)]
    pub retrain_every: Option<std::time::Duration>,
    /// Also retrain once this many site labels were added since the last retraining.
    #[arg(long, env = "VIGIE_RETRAIN_AFTER_LABELS")]
    pub retrain_after_labels: Option<usize>,
    /// Require a scorer key on /v1/score and /v1/score/batch.
    #[arg(long, env = "VIGIE_SCORE_REQUIRES_KEY")]
    pub score_requires_key: bool,
    /// Default claim lease, in seconds.
    #[arg(long, env = "VIGIE_CLAIM_LEASE_SECS", default_value_t = 300)]
    pub claim_lease_secs: u32,
    /// Longest lease a claim may ask for, in seconds.
    #[arg(long, env = "VIGIE_CLAIM_MAX_LEASE_SECS", default_value_t = 600)]
    pub claim_max_lease_secs: u32,
    /// Send the moderator page's session cookie without the `Secure` attribute (for plain
    /// HTTP on another host than localhost; behind HTTPS leave it off).
    #[arg(long, env = "VIGIE_INSECURE_COOKIE")]
    pub insecure_cookie: bool,
    /// Signing secret of Coral Talk's external moderation phase; repeat (or separate with
    /// commas) to accept an old and a new secret while rotating. Unset: the Coral endpoint
    /// is off.
    #[arg(
        long = "coral-secret",
        env = "VIGIE_CORAL_SECRETS",
        value_delimiter = ','
    )]
    pub coral_secrets: Vec<String>,
    /// Largest Coral request kept and scored, in bytes. A larger one is still read to check
    /// its signature, then withheld for review in Coral (an error would publish it).
    #[arg(long, env = "VIGIE_CORAL_MAX_BODY_BYTES", default_value_t = 16 << 20)]
    pub coral_max_body_bytes: usize,
    /// Longest a client may take to send a request's line and headers, in seconds; a slower
    /// one (slowloris) is disconnected.
    #[arg(long, env = "VIGIE_HEADER_READ_TIMEOUT_SECS", default_value_t = 10.0)]
    pub header_read_timeout_secs: f64,
    /// On SIGTERM or Ctrl-C the server stops accepting connections at once and lets
    /// in-flight requests finish; after this many seconds it closes whatever is still open.
    #[arg(long, env = "VIGIE_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,
}

impl ServeArgs {
    /// Loads the model and the thresholds and opens the database: everything that can fail
    /// before listening.
    pub async fn build(&self) -> anyhow::Result<App> {
        let written = super::metrics::file_written(&self.model);
        let model = Model::load(&self.model)?;
        let policy = Policy::load(&self.thresholds).map_err(anyhow::Error::msg)?;
        for h in policy.unknown_heads(&model.card) {
            tracing::warn!(head = %h, "thresholds file names a head the model does not have");
        }
        let config = self.config()?;
        let store = self.db.open().await?;
        let app = App::new(model, policy, store, config);
        app.metrics.model_loaded(written);
        Ok(app)
    }

    /// The flags as the service's configuration, checked.
    fn config(&self) -> anyhow::Result<AppConfig> {
        let limits = self.limits()?;
        if !(self.rate_limit >= 0.0 && self.rate_burst >= 0.0) {
            anyhow::bail!("--rate-limit and --rate-burst must be zero or positive");
        }
        if !(10..=self.claim_max_lease_secs).contains(&self.claim_lease_secs) {
            anyhow::bail!(
                "--claim-lease-secs must be 10 to --claim-max-lease-secs ({})",
                self.claim_max_lease_secs
            );
        }
        if self.key_failures_per_minute.is_nan() || self.key_failures_per_minute < 0.0 {
            anyhow::bail!("--key-failures-per-minute must be zero or positive");
        }
        if self.model_poll_secs > 60 {
            anyhow::bail!(
                "--model-poll-secs must be 0 (off) to 60: replicas switch models within it"
            );
        }
        Ok(AppConfig {
            limits,
            model_path: Some(self.model.clone()),
            models_dir: Some(
                self.models_dir
                    .clone()
                    .unwrap_or_else(|| self.db.data_dir.join("models")),
            ),
            model_poll: (self.model_poll_secs > 0)
                .then(|| std::time::Duration::from_secs(self.model_poll_secs)),
            score_requires_key: self.score_requires_key,
            claim_lease_secs: self.claim_lease_secs,
            claim_max_lease_secs: self.claim_max_lease_secs,
            cookie_secure: !self.insecure_cookie,
            coral_secrets: self
                .coral_secrets
                .iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            rate_limit: RateLimit {
                per_second: self.rate_limit,
                burst: self.rate_burst,
            },
            key_failures: RateLimit {
                per_second: self.key_failures_per_minute / 60.0,
                burst: self.key_failures_per_minute,
            },
            redact_logs: self.redact_logs,
            retrain: self.retrain_config()?,
            grounds: std::sync::Arc::new(self.grounds()?),
            report_limit: crate::service::reports::DEFAULT_LIMIT,
        })
    }

    /// The grounds file, checked; the committed default without `--grounds`.
    fn grounds(&self) -> anyhow::Result<crate::domain::Grounds> {
        let Some(path) = &self.grounds else {
            return Ok(crate::domain::Grounds::default_grounds());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("--grounds {}: {e}", path.display()))?;
        crate::domain::Grounds::parse(&text)
            .map_err(|e| anyhow::anyhow!("--grounds {}: {e}", path.display()))
    }

    /// The retraining's files and schedule; `None` without a manifest in `--retrain-base`.
    fn retrain_config(&self) -> anyhow::Result<Option<RetrainConfig>> {
        let base = BaseFiles::in_dir(&self.retrain_base);
        if !base.manifest.is_file() {
            if self.retrain_every.is_some() || self.retrain_after_labels.is_some() {
                anyhow::bail!("--retrain-every needs {}", base.manifest.display());
            }
            return Ok(None);
        }
        if self
            .retrain_every
            .is_some_and(|d| d < std::time::Duration::from_secs(60))
        {
            anyhow::bail!("--retrain-every must be at least a minute");
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Some(RetrainConfig {
            base,
            threads: match self.retrain_threads {
                0 => cores.saturating_sub(1).max(1),
                n => n,
            },
            low_priority: !self.retrain_full_priority,
            every: self.retrain_every,
            after_labels: self.retrain_after_labels.filter(|&n| n > 0),
        }))
    }

    fn limits(&self) -> anyhow::Result<Limits> {
        Ok(Limits {
            max_text_chars: self.max_text_chars,
            max_body_bytes: self.max_body_bytes,
            max_batch: self.max_batch,
            max_coral_body_bytes: self.coral_max_body_bytes,
            request_timeout: std::time::Duration::try_from_secs_f64(self.request_timeout_secs)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    anyhow::anyhow!("--request-timeout-secs must be a positive number of seconds")
                })?,
        })
    }
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled, so a signal that arrives right after start-up is never lost
/// (nor fatal, SIGTERM's default action).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (term, int) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        )
    };
    async move {
        #[cfg(unix)]
        {
            async fn recv(s: std::io::Result<tokio::signal::unix::Signal>) {
                match s {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for a shutdown signal");
                        std::future::pending::<()>().await;
                    }
                }
            }
            tokio::select! {
                _ = recv(term) => {},
                _ = recv(int) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let state = Arc::new(args.build().await?);
    crate::service::models::start(&state).await?;
    if state
        .config
        .retrain
        .as_ref()
        .is_some_and(|r| r.every.is_some() || r.after_labels.is_some())
    {
        tokio::spawn(crate::service::retrain::follow_schedule(Arc::downgrade(
            &state,
        )));
    }
    let model_id = state.model.load().card.model_id.clone();
    // Each signal stream gets every signal: both listeners stop on the same SIGTERM.
    let (signal, metrics_signal) = (shutdown_signal(), shutdown_signal());
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let metrics = match args.metrics_addr {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
        None => None,
    };
    tracing::info!(addr = %listener.local_addr()?, model = %model_id, "listening");
    let timeouts = Timeouts {
        header_read: positive_secs(args.header_read_timeout_secs, "--header-read-timeout-secs")?,
        grace: std::time::Duration::from_secs(args.shutdown_grace_secs),
    };
    let main = serve(listener, app(state.clone()), signal, timeouts);
    match metrics {
        None => main.await,
        Some(metrics) => {
            tracing::info!(metrics_addr = %metrics.local_addr()?, "metrics listening");
            let internal = super::metrics::internal_app(state);
            tokio::join!(main, serve(metrics, internal, metrics_signal, timeouts));
        }
    }
    Ok(())
}

/// The connection-level limits of [`serve`].
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// How long a client may take to send a request's line and headers (each request of a
    /// kept-alive connection anew): a client that sends a header line every few seconds
    /// (slowloris) is cut off instead of holding a connection, and the shutdown, forever.
    pub header_read: std::time::Duration,
    /// After a shutdown signal, how long requests in flight may take to finish.
    pub grace: std::time::Duration,
}

fn positive_secs(secs: f64, flag: &str) -> anyhow::Result<std::time::Duration> {
    std::time::Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| anyhow::anyhow!("{flag} must be a positive number of seconds"))
}

/// Serves `router` on `listener` (HTTP/1.1 and HTTP/2) until `shutdown` completes; then stops
/// accepting, closes idle connections, lets requests in flight finish, and after the grace
/// period returns whatever is still open.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()>,
    timeouts: Timeouts,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt;

    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // The client's address goes with each request, to throttle failed key guesses.
        let service =
            router
                .clone()
                .map_request(move |req: axum::http::Request<hyper::body::Incoming>| {
                    let mut req = req.map(axum::body::Body::new);
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    req
                });
        let conn = builder
            .serve_connection_with_upgrades(
                TokioIo::new(stream),
                hyper_util::service::TowerToHyperService::new(service),
            )
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!(
        grace_secs = timeouts.grace.as_secs(),
        "shutting down: no new connections, finishing in-flight requests"
    );
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(timeouts.grace) => {
            tracing::warn!("grace period over: closing the connections still open");
        }
    }
}
