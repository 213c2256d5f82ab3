//! The orchestrator's database: SQLite in memory, behind a mutex, used from the blocking
//! pool, as a `tower::Service` of queries wrapped by the telemetry layer: every query is a
//! `dependency="database"` call with a `{operation} sqlite` span.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use orchestrator_telemetry::orchestrator_tower::{
    Database, DbOperation, TelemetryLayer, TelemetryService, Tracer,
};
use rusqlite::{Connection, OptionalExtension, params};
use tower::{Layer as _, Service, ServiceExt as _};

/// The `db.system.name` and target label.
pub const TARGET: &str = "sqlite";

type Work<T> = Box<dyn FnOnce(&Connection) -> rusqlite::Result<T> + Send>;

/// One query: its operation name and the work to run on the connection.
pub struct Query<T> {
    operation: &'static str,
    work: Work<T>,
}

impl<T> DbOperation for Query<T> {
    fn operation(&self) -> &'static str {
        self.operation
    }
}

/// Runs queries on the blocking pool.
#[derive(Clone)]
pub struct Executor {
    conn: Arc<Mutex<Connection>>,
}

impl<T: Send + 'static> Service<Query<T>> for Executor {
    type Response = T;
    type Error = DbError;
    type Future = Pin<Box<dyn Future<Output = Result<T, DbError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), DbError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, query: Query<T>) -> Self::Future {
        let conn = self.conn.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
                (query.work)(&conn)
            })
            .await
            .map_err(|e| DbError::Task(e.to_string()))?
            .map_err(DbError::from)
        })
    }
}

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
    service: TelemetryService<Executor, Database>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db")
    }
}

impl Db {
    /// Opens an in-memory database with the schema.
    pub fn open(tracer: &Tracer) -> Result<Self, DbError> {
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
        let executor = Executor {
            conn: Arc::new(Mutex::new(conn)),
        };
        Ok(Db {
            service: TelemetryLayer::database(tracer, TARGET).layer(executor),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, DbError> {
        let query = Query {
            operation,
            work: Box::new(work),
        };
        self.service.clone().oneshot(query).await
    }

    /// Creates a session and returns its id.
    pub async fn create_session(&self, user_id: String, now: f64) -> Result<i64, DbError> {
        self.run("INSERT", move |c| {
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
        self.run("SELECT", move |c| {
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
        self.run("UPDATE", move |c| {
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
        self.run("INSERT", move |c| {
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
        self.run("SELECT", |c| {
            c.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
        })
        .await
    }
}
