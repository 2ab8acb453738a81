//! SQLite: one file, WAL journal, `synchronous = FULL` (a 2xx means the commit reached the
//! disk), a busy timeout so concurrent writers wait their turn, and write transactions that
//! take the write lock up front (`BEGIN IMMEDIATE`), so a read-then-write never deadlocks.
//!
//! Submissions go through one writer task that commits whatever has queued up as one
//! transaction (group commit): one disk flush and one lock for many comments, where one
//! transaction each had the pool's connections queue on SQLite's single write lock, with
//! its sleeping retries. Each submitter is answered only after the commit.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use sqlx::{Pool, Sqlite, SqlitePool, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::backend::{Backend, Db, Written};
use super::shim::impl_store;
use super::statements::{self, Statements};
use super::{NewComment, StoreError, StoredComment};

/// At most this many submissions a transaction.
const MAX_GROUP: usize = 256;

type Reply = oneshot::Sender<Result<(StoredComment, bool), StoreError>>;

pub struct SqliteStore {
    db: Db<Sqlite>,
    submissions: mpsc::Sender<(NewComment, Reply)>,
}

impl Backend for Sqlite {
    fn statements() -> &'static Statements {
        statements::sqlite()
    }

    /// Takes the write lock up front, so a read-then-write never deadlocks.
    async fn begin_write(pool: &Pool<Self>) -> Result<Transaction<'static, Self>, sqlx::Error> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    fn rows_affected(r: &SqliteQueryResult) -> u64 {
        r.rows_affected()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies the migrations.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        sqlx::migrate!("src/store/migrations/sqlite")
            .run(&pool)
            .await?;
        Ok(Self::with_writer(pool))
    }

    /// A private in-memory database (one connection), for tests and trials.
    pub async fn in_memory() -> anyhow::Result<Self> {
        let opts = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("src/store/migrations/sqlite")
            .run(&pool)
            .await?;
        Ok(Self::with_writer(pool))
    }

    /// Starts the group-commit writer; it stops when the store is dropped.
    fn with_writer(pool: SqlitePool) -> Self {
        let db = Db { pool };
        let (submissions, queue) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(group_commit(db.clone(), queue));
        Self { db, submissions }
    }

    async fn submit_one(&self, c: NewComment) -> Result<(StoredComment, bool), StoreError> {
        let stopped = || StoreError::Unavailable("the database writer has stopped".into());
        let (reply, answer) = oneshot::channel();
        self.submissions
            .send((c, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

impl_store!(SqliteStore);

/// The writer: takes the first waiting submission and every one queued behind it (up to
/// [`MAX_GROUP`]), writes them in one transaction, then answers each. If the transaction
/// fails, the group is written again one comment a transaction, so one bad comment fails
/// alone.
async fn group_commit(db: Db<Sqlite>, mut queue: mpsc::Receiver<(NewComment, Reply)>) {
    let mut group: Vec<(NewComment, Reply)> = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = queue.recv().await {
        group.push(first);
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let comments: Vec<&NewComment> = group.iter().map(|(c, _)| c).collect();
        match write_group(&db, &comments).await {
            Ok(outs) => {
                for ((_, reply), out) in group.drain(..).zip(outs) {
                    let _ = reply.send(out);
                }
            }
            Err(e) if group.len() == 1 => {
                let (_, reply) = group.pop().expect("one submission");
                let _ = reply.send(Err(e));
            }
            Err(_) => {
                for (c, reply) in group.drain(..) {
                    let out = match write_group(&db, &[&c]).await {
                        Ok(mut outs) => outs.pop().expect("one answer"),
                        Err(e) => Err(e),
                    };
                    let _ = reply.send(out);
                }
            }
        }
    }
}

async fn write_group(
    db: &Db<Sqlite>,
    comments: &[&NewComment],
) -> Result<Vec<Written>, StoreError> {
    let mut tx = Sqlite::begin_write(&db.pool).await?;
    let mut outs = Vec::with_capacity(comments.len());
    for c in comments {
        outs.push(Db::submit_in(&mut tx, c).await?);
    }
    tx.commit().await?;
    Ok(outs)
}
