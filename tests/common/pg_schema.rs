//! A PostgreSQL store in a schema of its own on the server `VIGIE_TEST_DATABASE_URL` names
//! (default `postgres://postgres@127.0.0.1:5432/test`), under the rule of `postgres`.

use vigie::store::PgStore;

pub fn url() -> String {
    std::env::var("VIGIE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A schema made for one test.
pub struct Schema {
    url: String,
    name: String,
}

/// A store in the schema `vigie_t_{name}_{pid}`, emptied first (an earlier run may have
/// been killed half-way); `None` when the server cannot be reached and is not required.
pub async fn store(name: &str) -> Option<(PgStore, Schema)> {
    let url = url();
    let schema = format!("vigie_t_{name}_{}", std::process::id());
    let Ok(pool) = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(3))
        .connect(&url)
        .await
    else {
        super::postgres::unavailable(&format!(
            "cannot connect to {url}; set VIGIE_TEST_DATABASE_URL to a reachable server"
        ));
        return None;
    };
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE"
    )))
    .execute(&pool)
    .await;
    pool.close().await;
    let store = PgStore::connect_schema(&url, &schema).await.unwrap();
    Some((store, Schema { url, name: schema }))
}

impl Schema {
    /// Another store on the same schema (another replica of one database).
    pub async fn connect(&self) -> PgStore {
        PgStore::connect_schema(&self.url, &self.name)
            .await
            .unwrap()
    }

    /// Drops the schema; its stores must be gone.
    pub async fn drop(self) {
        let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA {} CASCADE",
            self.name
        )))
        .execute(&pool)
        .await
        .unwrap();
    }
}
