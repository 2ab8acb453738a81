//! The service's counters, encoded by `prometheus-client` in Prometheus' text exposition
//! format (0.0.4): requests and their latency per route template (never the raw path, so
//! ids do not multiply the series) and status, decisions per decision and per head that
//! fired, database failures (reported by [`crate::store::Observed`]); at scrape time the
//! stored comments per status (the queue's depth is `pending`), the serving model's id and
//! its age. `http::metrics` serves them and counts the requests.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use axum::http::{Method, StatusCode};
use prometheus_client::encoding::{prometheus_text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::domain::Decision;
use crate::store::FailureKind;

/// The `route` of a request that matched no route (404s of unknown paths).
pub const UNMATCHED: &str = "unmatched";

/// Latency buckets, in seconds: scoring takes milliseconds, a batch or a slow database more.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    decision: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HeadLabels {
    head: String,
    decision: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model_id: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The counters of one service (each `App` has its own, so tests in one process do not mix).
#[derive(Debug)]
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    decisions: Family<DecisionLabels, Counter>,
    heads: Family<HeadLabels, Counter>,
    db_failures: Family<KindLabels, Counter>,
    /// When the serving model's file was written, as read when it was loaded.
    model_written: Mutex<Option<SystemTime>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let m = Metrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            decisions: Family::default(),
            heads: Family::default(),
            db_failures: Family::default(),
            model_written: Mutex::new(None),
        };
        // Series that exist from the start, at 0, so that rates work from the first scrape.
        for d in [Decision::Allow, Decision::Flag, Decision::Reject] {
            let _ = m.decisions.get_or_create_owned(&DecisionLabels {
                decision: d.as_str(),
            });
        }
        for kind in [FailureKind::Unavailable, FailureKind::Error] {
            let _ = m.db_failures.get_or_create_owned(&KindLabels {
                kind: kind.as_str(),
            });
        }
        m
    }
}

impl Metrics {
    /// One request answered.
    pub fn request(&self, method: &Method, route: &str, status: StatusCode, took: Duration) {
        let method = method_label(method);
        let route = route.to_owned();
        self.latency
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status: status.as_u16(),
            })
            .inc();
    }

    /// One decision made, with the heads that fired (at or over their flag threshold).
    pub fn decided(&self, decision: Decision, fired: &[String]) {
        let decision = decision.as_str();
        self.decisions
            .get_or_create(&DecisionLabels { decision })
            .inc();
        for head in fired {
            self.heads
                .get_or_create(&HeadLabels {
                    head: head.clone(),
                    decision,
                })
                .inc();
        }
    }

    /// One database failure.
    pub fn database_failed(&self, kind: FailureKind) {
        self.db_failures
            .get_or_create(&KindLabels {
                kind: kind.as_str(),
            })
            .inc();
    }

    /// A model was loaded from a file written at `written` (its modification time).
    pub fn model_loaded(&self, written: Option<SystemTime>) {
        *self.model_written.lock().unwrap_or_else(|e| e.into_inner()) = written;
    }

    /// The text exposition of everything, with the values read at scrape time.
    pub fn render(&self, now: &Snapshot) -> String {
        let mut r = Registry::with_prefix("vigie");
        r.register(
            "http_requests",
            "HTTP requests answered, per method, route template and status",
            self.requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, per method and route template",
            self.latency.clone(),
        );
        r.register(
            "decisions",
            "Decisions made on scored comments (score, batch, submissions, Coral)",
            self.decisions.clone(),
        );
        r.register(
            "decision_heads",
            "Heads that fired (at or over their flag threshold), per head and decision",
            self.heads.clone(),
        );
        r.register(
            "database_failures",
            "Database failures: unavailable, or an error from the database",
            self.db_failures.clone(),
        );
        self.register_snapshot(&mut r, now);
        let mut out = String::new();
        prometheus_text::encode(&mut out, &r).expect("writing to a String cannot fail");
        out
    }

    fn register_snapshot(&self, r: &mut Registry, now: &Snapshot) {
        let model = Family::<ModelLabels, Gauge>::default();
        model
            .get_or_create(&ModelLabels {
                model_id: now.model_id.clone(),
            })
            .set(1);
        r.register("model_info", "The serving model, as a label", model);
        let written = *self.model_written.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(age) = written.and_then(|w| now.at.duration_since(w).ok()) {
            let gauge = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
            gauge.set(age.as_secs_f64());
            r.register(
                "model_age_seconds",
                "Seconds since the serving model's file was written (the model card holds no training time)",
                gauge,
            );
        }
        if let Some(counts) = &now.comments {
            let queue = Family::<StatusLabels, Gauge>::default();
            for s in crate::domain::CommentStatus::ALL {
                let n = counts.get(s.as_str()).copied().unwrap_or(0);
                queue
                    .get_or_create(&StatusLabels { status: s.as_str() })
                    .set(n);
            }
            r.register(
                "comments",
                "Stored comments per status; pending is the review queue's depth",
                queue,
            );
        }
    }
}

/// What a scrape reads at its time.
pub struct Snapshot {
    pub at: SystemTime,
    pub model_id: String,
    /// Stored comments per status; `None` when the database did not answer.
    pub comments: Option<std::collections::BTreeMap<String, i64>>,
}

/// A bounded set of method labels: a client's invented method is `other`.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The modification time of a model file, for its age.
pub fn file_written(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        Snapshot {
            at: SystemTime::now(),
            model_id: "m-1".into(),
            comments: None,
        }
    }

    #[test]
    fn counts_are_rendered_under_their_labels() {
        let m = Metrics::default();
        m.request(
            &Method::GET,
            "/v1/comments/{id}",
            StatusCode::OK,
            Duration::from_millis(3),
        );
        m.request(
            &Method::from_bytes(b"BREW").unwrap(),
            UNMATCHED,
            StatusCode::NOT_FOUND,
            Duration::ZERO,
        );
        m.decided(Decision::Reject, &["insult".into(), "toxicity".into()]);
        m.database_failed(FailureKind::Unavailable);
        let text = m.render(&snapshot());
        for line in [
            "vigie_http_requests_total{method=\"GET\",route=\"/v1/comments/{id}\",status=\"200\"} 1",
            "vigie_http_requests_total{method=\"other\",route=\"unmatched\",status=\"404\"} 1",
            "vigie_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/comments/{id}\",le=\"0.005\"} 1",
            "vigie_decisions_total{decision=\"reject\"} 1",
            "vigie_decisions_total{decision=\"allow\"} 0",
            "vigie_decision_heads_total{head=\"insult\",decision=\"reject\"} 1",
            "vigie_database_failures_total{kind=\"unavailable\"} 1",
            "vigie_database_failures_total{kind=\"error\"} 0",
            "vigie_model_info{model_id=\"m-1\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        // Unknown: no age, no comment counts rather than made-up ones.
        assert!(!text.contains("vigie_model_age_seconds"), "{text}");
        assert!(!text.contains("vigie_comments"), "{text}");
    }

    #[test]
    fn the_age_and_the_counts_come_from_the_snapshot() {
        let m = Metrics::default();
        let now = SystemTime::now();
        m.model_loaded(Some(now - Duration::from_secs(90)));
        let counts = [("pending".to_owned(), 4)].into_iter().collect();
        let text = m.render(&Snapshot {
            at: now,
            model_id: "m".into(),
            comments: Some(counts),
        });
        assert!(
            text.lines().any(|l| l == "vigie_model_age_seconds 90.0"),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l == "vigie_comments{status=\"pending\"} 4"),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l == "vigie_comments{status=\"approved\"} 0"),
            "{text}"
        );
    }
}
