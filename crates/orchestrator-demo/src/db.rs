//! The orchestrator's database: SQLite in memory, behind a mutex, used from the blocking
//! pool. Every query is timed as a `dependency="database"` call.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use orchestrator_telemetry::{DependencyKind, Metrics};
use rusqlite::{Connection, OptionalExtension, params};

const TARGET: &str = "sqlite";

/// A database error.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The blocking task could not run.
    #[error("database task failed: {0}")]
    Task(String),
}

/// A message stored with its usage.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    /// The session.
    pub session_id: i64,
    /// The prompt.
    pub prompt: String,
    /// The reply.
    pub reply: String,
    /// The model that answered.
    pub model: String,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Priced cost in USD.
    pub cost_usd: f64,
}

/// The database.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    metrics: Metrics,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db")
    }
}

impl Db {
    /// Opens an in-memory database with the schema.
    pub fn open(metrics: Metrics) -> Result<Self, DbError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE TABLE sessions (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 user_id TEXT NOT NULL,
                 started_at REAL NOT NULL,
                 ended_at REAL
             );
             CREATE TABLE messages (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 session_id INTEGER NOT NULL REFERENCES sessions(id),
                 prompt TEXT NOT NULL,
                 reply TEXT NOT NULL,
                 model TEXT NOT NULL,
                 input_tokens INTEGER NOT NULL,
                 output_tokens INTEGER NOT NULL,
                 cost_usd REAL NOT NULL
             );",
        )?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
            metrics,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, DbError> {
        let conn = self.conn.clone();
        let start = Instant::now();
        let result = tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&conn)
        })
        .await
        .map_err(|e| DbError::Task(e.to_string()))
        .and_then(|r| r.map_err(DbError::from));
        let error = result.as_ref().err().map(|_| "query_failed");
        self.metrics.dependencies().record(
            DependencyKind::Database,
            TARGET,
            start.elapsed(),
            error,
        );
        result
    }

    /// Creates a session and returns its id.
    pub async fn create_session(&self, user_id: String, now: f64) -> Result<i64, DbError> {
        self.run(move |c| {
            c.execute(
                "INSERT INTO sessions (user_id, started_at) VALUES (?1, ?2)",
                params![user_id, now],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
    }

    /// The user of an open session, or `None` if it does not exist or has ended.
    pub async fn open_session_user(&self, id: i64) -> Result<Option<String>, DbError> {
        self.run(move |c| {
            c.query_row(
                "SELECT user_id FROM sessions WHERE id = ?1 AND ended_at IS NULL",
                params![id],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    /// Ends a session; returns its start time, or `None` if it was not open.
    pub async fn end_session(&self, id: i64, now: f64) -> Result<Option<f64>, DbError> {
        self.run(move |c| {
            let started: Option<f64> = c
                .query_row(
                    "SELECT started_at FROM sessions WHERE id = ?1 AND ended_at IS NULL",
                    params![id],
                    |r| r.get(0),
                )
                .optional()?;
            if started.is_some() {
                c.execute(
                    "UPDATE sessions SET ended_at = ?2 WHERE id = ?1",
                    params![id, now],
                )?;
            }
            Ok(started)
        })
        .await
    }

    /// Stores a message.
    pub async fn insert_message(&self, m: StoredMessage) -> Result<(), DbError> {
        self.run(move |c| {
            c.execute(
                "INSERT INTO messages (session_id, prompt, reply, model, input_tokens, output_tokens, cost_usd)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![m.session_id, m.prompt, m.reply, m.model, m.input_tokens as i64, m.output_tokens as i64, m.cost_usd],
            )?;
            Ok(())
        })
        .await
    }

    /// The number of stored messages.
    pub async fn message_count(&self) -> Result<u64, DbError> {
        self.run(|c| {
            c.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
        })
        .await
    }
}
