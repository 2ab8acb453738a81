//! The service in process on a loopback port (port 0, served by `serve`'s own accept loop),
//! for tests that talk to it as a client would: `Setup { .. }.spawn()`.

use std::sync::Arc;
use std::time::Duration;

use vigie::domain::Role;
use vigie::http::serve::{serve, Timeouts};
use vigie::http::{app, App, AppConfig};
use vigie::policy::Policy;
use vigie::store::{hash_key, SqliteStore, Store};

/// What a service is set up with; the default: the committed model and thresholds, the
/// default configuration, no keys, a fresh in-memory SQLite database.
pub struct Setup {
    pub policy: Policy,
    pub config: AppConfig,
    /// (name, key, role) of each API key created before serving.
    pub keys: Vec<(&'static str, &'static str, Role)>,
    /// Instead of in-memory SQLite.
    pub store: Option<Arc<dyn Store>>,
}

/// A running service, stopped on drop.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub state: Arc<App>,
    server: tokio::task::JoinHandle<()>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            policy: Policy::load(&super::files::path("models/thresholds.toml")).unwrap(),
            config: AppConfig::default(),
            keys: Vec::new(),
            store: None,
        }
    }
}

impl Setup {
    pub async fn spawn(self) -> TestApp {
        let store = match self.store {
            Some(store) => store,
            None => Arc::new(SqliteStore::in_memory().await.unwrap()),
        };
        for (name, key, role) in self.keys {
            store
                .create_key(name, &hash_key(key), role, 0)
                .await
                .unwrap();
        }
        let model = super::model::default_model().clone();
        let state = Arc::new(App::new(model, self.policy, store, self.config));
        // As `serve` does: with a models directory, the model registry settles which model
        // serves and follows the latest activation.
        vigie::service::models::start(&state).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let timeouts = Timeouts {
            header_read: Duration::from_secs(10),
            grace: Duration::ZERO,
        };
        let router = app(state.clone());
        let server = tokio::spawn(serve(listener, router, std::future::pending(), timeouts));
        TestApp {
            address,
            state,
            server,
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}
