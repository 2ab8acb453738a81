//! PostgreSQL: for several service replicas sharing one queue. Claims take the next row
//! with `FOR UPDATE SKIP LOCKED`, so concurrent moderators never get the same comment.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgQueryResult};
use sqlx::{Pool, Postgres, Transaction};

use super::backend::{Backend, Db};
use super::shim::impl_store;
use super::statements::{self, Statements};
use super::{NewComment, StoreError, StoredComment};

pub struct PgStore {
    db: Db<Postgres>,
}

impl Backend for Postgres {
    fn statements() -> &'static Statements {
        statements::postgres()
    }

    async fn begin_write(pool: &Pool<Self>) -> Result<Transaction<'static, Self>, sqlx::Error> {
        pool.begin().await
    }

    fn rows_affected(r: &PgQueryResult) -> u64 {
        r.rows_affected()
    }
}

impl PgStore {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url.parse()?).await
    }

    /// Connects with `search_path` set to `schema` (created if missing): each test suite
    /// gets its own schema in a shared database.
    pub async fn connect_schema(url: &str, schema: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(
            schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "schema names are lowercase letters, digits and '_'"
        );
        let opts: PgConnectOptions = url.parse()?;
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}"
        )))
        .execute(&admin)
        .await?;
        admin.close().await;
        Self::connect_with(opts.options([("search_path", schema)])).await
    }

    async fn connect_with(opts: PgConnectOptions) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(opts)
            .await?;
        sqlx::migrate!("src/store/migrations/postgres")
            .run(&pool)
            .await?;
        Ok(Self { db: Db { pool } })
    }

    /// One transaction a submission: PostgreSQL runs concurrent ones side by side (and
    /// groups their WAL flushes itself).
    async fn submit_one(&self, c: NewComment) -> Result<(StoredComment, bool), StoreError> {
        let mut tx = Postgres::begin_write(&self.db.pool).await?;
        let out = Db::submit_in(&mut tx, &c).await?;
        tx.commit().await?;
        out
    }
}

impl_store!(PgStore);
