//! Retraining inside the service: `POST /v1/admin/model/retrain` and the schedule start one
//! in the background. It reads the base training data (`train`'s own files), adds every
//! label the site has ([`super::labels::site_labels`]), fits a challenger and judges it
//! against the serving champion on held-out site labels (`learning::retrain`), registers
//! it ([`super::models::register`]) and activates it only when the verdict promotes it.
//! One retraining runs at a time, on a thread pool of its own whose threads run at the
//! batch policy and nice 19 ([`retrain_pool`]), so scoring keeps its cores whenever it
//! wants them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::labels::site_labels;
use super::models::{activate, register, RegistryError, Switched};
use super::targets::min_examples;
use super::App;
use crate::domain::{ActivationReason, Target};
use crate::learning::retrain::{retrain, Comparison, RetrainParams, Retrained};
use crate::model::Model;
use crate::store::now_ms;
use crate::train::sources::{load_base, BaseFiles};
use crate::train::TrainParams;

/// How the service retrains: `serve`'s flags.
#[derive(Debug, Clone)]
pub struct RetrainConfig {
    /// The base training data: the files `train` reads.
    pub base: BaseFiles,
    /// Threads of the retraining's pool (scoring keeps the others).
    pub threads: usize,
    /// Lower the pool's threads below scoring's ([`retrain_pool`]).
    pub low_priority: bool,
    /// Retrain this often (`None`: only when asked).
    pub every: Option<Duration>,
    /// Retrain once this many site labels were added since the last one (`None`: never).
    pub after_labels: Option<usize>,
}

/// What the last retraining did, or that one is running.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RetrainStatus {
    /// None has run since the service started.
    Idle,
    Running {
        by: String,
        started_at_ms: i64,
    },
    Finished(Box<Finished>),
    Failed {
        by: String,
        started_at_ms: i64,
        error: String,
    },
}

/// A finished retraining: the challenger kept, the comparison, and whether it serves now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Finished {
    pub by: String,
    pub started_at_ms: i64,
    pub seconds: f64,
    pub challenger: String,
    pub promoted: bool,
    pub comparison: Comparison,
    /// The switch, when promoted.
    pub switched: Option<Switched>,
}

#[derive(Debug, thiserror::Error)]
pub enum RetrainRefused {
    #[error("this server does not retrain (it was started without base training data)")]
    Off,
    #[error("a retraining started by {0} is running")]
    Running(String),
}

/// Starts a retraining for `actor` in the background; what it did is [`status`].
pub fn start(app: &Arc<App>, actor: &str) -> Result<RetrainStatus, RetrainRefused> {
    if app.config.retrain.is_none() {
        return Err(RetrainRefused::Off);
    }
    let running = RetrainStatus::Running {
        by: actor.to_owned(),
        started_at_ms: now_ms(),
    };
    {
        let mut status = app.retrain.lock().expect("retrain status lock");
        if let RetrainStatus::Running { by, .. } = &*status {
            return Err(RetrainRefused::Running(by.clone()));
        }
        *status = running.clone();
    }
    let (app, actor) = (app.clone(), actor.to_owned());
    tokio::spawn(async move {
        let started_at_ms = now_ms();
        let done = match run(&app, &actor).await {
            Ok(f) => RetrainStatus::Finished(Box::new(f)),
            Err(e) => {
                tracing::error!(error = %e, by = %actor, "retraining failed");
                let error = e.to_string();
                RetrainStatus::Failed {
                    by: actor,
                    started_at_ms,
                    error,
                }
            }
        };
        *app.retrain.lock().expect("retrain status lock") = done;
    });
    Ok(running)
}

/// The running or last retraining.
pub fn status(app: &App) -> RetrainStatus {
    app.retrain.lock().expect("retrain status lock").clone()
}

#[derive(Debug, thiserror::Error)]
enum RetrainFailed {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{0}")]
    Training(String),
}

/// One retraining: site labels, the fit and judgement, registration, maybe activation.
async fn run(app: &Arc<App>, actor: &str) -> Result<Finished, RetrainFailed> {
    let t0 = Instant::now();
    let started_at_ms = now_ms();
    let records = (site_labels(app.store.as_ref()).await)
        .map_err(RegistryError::from)?
        .into_iter()
        .map(|l| l.record)
        .collect();
    let champion = app.model.load_full();
    let config = app.config.retrain.clone().ok_or(RegistryError::Off)?;
    let targets = min_examples(app).await.map_err(RegistryError::from)?;
    let retrained = tokio::task::spawn_blocking(move || fit(&config, records, &champion, targets))
        .await
        .map_err(|e| RetrainFailed::Training(e.to_string()))??;
    let Retrained {
        challenger,
        comparison,
        ..
    } = retrained;
    let report = serde_json::to_value(&comparison).ok();
    let kept = register(app, Arc::new(challenger), report, actor).await?;
    let promoted = comparison.verdict.promotes();
    let switched = if promoted {
        Some(activate(app, &kept.model_id, actor, ActivationReason::Retrain).await?)
    } else {
        tracing::info!(challenger = %kept.model_id, verdict = ?comparison.verdict, "champion kept");
        None
    };
    Ok(Finished {
        by: actor.to_owned(),
        started_at_ms,
        seconds: t0.elapsed().as_secs_f64(),
        challenger: kept.model_id,
        promoted,
        comparison,
        switched,
    })
}

/// The fit, on the retraining's own pool: base data read afresh, `train`'s settings, the
/// site's stance targets at their own minimum of labels per class.
fn fit(
    config: &RetrainConfig,
    site: Vec<crate::corpus::Record>,
    champion: &Model,
    target_min_examples: BTreeMap<Target, usize>,
) -> Result<Retrained, RetrainFailed> {
    let failed = |e: String| RetrainFailed::Training(e);
    let pool =
        retrain_pool(config.threads, config.low_priority).map_err(|e| failed(e.to_string()))?;
    pool.install(|| {
        let base = load_base(&config.base).map_err(|e| failed(format!("{e:#}")))?;
        let params = RetrainParams {
            train: TrainParams {
                target_min_examples,
                ..base.default_params()
            },
            ..RetrainParams::default()
        }
        .check()
        .map_err(|e| failed(e.to_string()))?;
        retrain(&base, &site, champion, &params, &()).map_err(|e| failed(e.to_string()))
    })
}

/// The retraining's thread pool: `threads` threads (at least one), each lowered to
/// [`background_priority`] as it starts when `low_priority`.
pub fn retrain_pool(
    threads: usize,
    low_priority: bool,
) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("retrain-{i}"));
    if low_priority {
        pool.start_handler(|_| background_priority()).build()
    } else {
        pool.build()
    }
}

/// Lowers the calling thread to Linux's batch policy at nice 19, the lowest priority an
/// unprivileged process can give itself short of `SCHED_IDLE` (which a loaded machine could
/// starve outright): the scheduler then runs scoring's threads first and never preempts
/// them for a retraining. Where the OS refuses, the thread keeps its priority and says so.
fn background_priority() {
    #[cfg(unix)]
    {
        use thread_priority::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
            ThreadPriority, ThreadSchedulePolicy,
        };
        let batch = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch);
        if let Err(e) =
            set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, batch)
        {
            tracing::warn!(error = ?e, "retraining thread keeps its priority");
        }
    }
}

/// How often the schedule looks whether a retraining is due.
const TICK: Duration = Duration::from_secs(60);

/// The schedule (`serve --retrain-every`, `--retrain-after-labels`): starts a retraining
/// when the period has passed since the last one, or when that many site labels were added
/// since (counted from the service's start by the store's `label_marks`: each moderator
/// decision, a re-decision too, and each suggestion). Ends with the `App`.
pub async fn follow_schedule(app: std::sync::Weak<App>) {
    let mut last = Instant::now();
    let mut labels_then: Option<i64> = None;
    loop {
        tokio::time::sleep(TICK).await;
        let Some(app) = app.upgrade() else { return };
        let Some(config) = app.config.retrain.clone() else {
            return;
        };
        let by_time = config.every.is_some_and(|every| last.elapsed() >= every);
        let mut labels_now = None;
        if config.after_labels.is_some() {
            match app.store.label_marks().await {
                Ok(m) => labels_now = Some(m.total()),
                Err(e) => tracing::warn!(error = %e, "retrain schedule: cannot count site labels"),
            }
        }
        let by_labels = match (config.after_labels, labels_now) {
            (Some(k), Some(n)) => n.saturating_sub(*labels_then.get_or_insert(n)) >= k as i64,
            _ => false,
        };
        if (by_time || by_labels) && start(&app, "schedule").is_ok() {
            last = Instant::now();
            labels_then = labels_now;
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn the_retraining_pool_runs_below_scoring() {
        use thread_priority::{
            thread_schedule_policy, NormalThreadSchedulePolicy, ThreadSchedulePolicy,
        };
        let policies = |low| {
            let pool = super::retrain_pool(2, low).unwrap();
            pool.broadcast(|_| (thread_schedule_policy().unwrap(), nice()))
        };
        let batch = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch);
        assert_eq!(policies(true), vec![(batch, 19); 2]);
        // At full priority, and on the test's own thread, the policy is the process's.
        let own = (thread_schedule_policy().unwrap(), nice());
        assert_ne!(own.0, batch);
        assert_eq!(policies(false), vec![own; 2]);
    }

    /// The calling thread's nice value, field 19 of `/proc/thread-self/stat`.
    #[cfg(target_os = "linux")]
    fn nice() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        after_name.split(' ').nth(16).unwrap().parse().unwrap()
    }
}
