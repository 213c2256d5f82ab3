//! Distinct users counted in Redis, shared by every replica: `PFADD` into one key per UTC
//! day, `PFCOUNT` over the window's keys.
//!
//! `record` only puts the user on a bounded queue; a background thread sends the queue to
//! Redis in pipelined batches. A full queue or an unreachable Redis drops users and counts
//! them in `orchestrator_telemetry_dropped_total{queue="user_activity"}`; the request path
//! never waits on Redis.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use orchestrator_metrics::{CounterHandle, Registry, catalogue};
use orchestrator_support::{Clock, Millis, SystemClock};

use super::{ActivityBackend, ActivityCounts, ActivityError, ActivityScope, WINDOWS, churn};
use crate::days::{date, day_of};

/// Configures [`RedisActivity`]. Its `Debug` hides the URL's password.
#[derive(Clone)]
pub struct RedisActivityConfig {
    url: String,
    key_prefix: String,
    queue: usize,
    batch: usize,
    timeout: Duration,
}

impl RedisActivityConfig {
    /// Redis at `url` (`redis://host:port/db`), keys `orchestrator:users:YYYY-MM-DD`, a
    /// queue of 10,000 users, batches of 500, a 2 s timeout.
    pub fn new(url: impl Into<String>) -> Self {
        RedisActivityConfig {
            url: url.into(),
            key_prefix: "orchestrator:users".into(),
            queue: 10_000,
            batch: 500,
            timeout: Duration::from_secs(2),
        }
    }

    /// The key prefix (the day is appended after a colon).
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// How many users may wait to be sent before new ones are dropped.
    pub fn queue(mut self, capacity: usize) -> Self {
        self.queue = capacity.max(1);
        self
    }

    /// The connect, read and write timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl std::fmt::Debug for RedisActivityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisActivityConfig")
            .field("url", &redact(&self.url))
            .field("key_prefix", &self.key_prefix)
            .field("queue", &self.queue)
            .field("batch", &self.batch)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// `redis://user:password@host` as `redis://user:***@host`: the URL as errors and logs may
/// show it.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let user = userinfo.split_once(':').map_or("", |(u, _)| u);
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                "***".to_owned()
            };
            format!("{scheme}://{masked}{}", &rest[at..])
        }
        None => url.to_owned(),
    }
}

/// The longest user id sent to Redis as it is; longer ones are sent as a 128-bit hash
/// (`sha:` and 32 hex digits), the same on every replica, so that a client sending
/// megabyte ids cannot fill the queue's memory.
pub const MAX_USER_ID_BYTES: usize = 128;

/// The id to count: `user` itself, or its hash when it is longer than
/// [`MAX_USER_ID_BYTES`].
pub(crate) fn bounded_id(user: &str) -> String {
    if user.len() <= MAX_USER_ID_BYTES {
        return user.to_owned();
    }
    use std::hash::{Hash as _, Hasher as _};
    // SipHash with fixed keys (`DefaultHasher::new`): the same value in every process of
    // one build, which is what replicas sharing Redis need.
    let half = |seed: u8| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        seed.hash(&mut h);
        user.hash(&mut h);
        h.finish()
    };
    format!("sha:{:016x}{:016x}", half(0), half(1))
}

enum Message {
    User(i64, String),
    Flush(mpsc::Sender<()>),
}

/// Distinct users counted in Redis.
pub struct RedisActivity {
    client: redis::Client,
    prefix: String,
    timeout: Duration,
    sender: Option<SyncSender<Message>>,
    dropped: CounterHandle,
    clock: Arc<dyn Clock>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for RedisActivity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisActivity")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisActivity {
    /// Connects lazily to Redis (an unreachable Redis is not an error here: users are
    /// dropped and counted until it answers). An invalid URL is an error.
    pub fn new(config: RedisActivityConfig, registry: &Registry) -> Result<Self, ActivityError> {
        Self::with_clock(config, registry, Arc::new(SystemClock))
    }

    /// The same, on `clock`.
    pub fn with_clock(
        config: RedisActivityConfig,
        registry: &Registry,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ActivityError> {
        let client = redis::Client::open(config.url.as_str()).map_err(|e| {
            ActivityError(format!("invalid Redis URL `{}`: {e}", redact(&config.url)))
        })?;
        let dropped = registry
            .counter(&catalogue::TELEMETRY_DROPPED_TOTAL, &["user_activity"])
            .map_err(|e| ActivityError(e.to_string()))?;
        let (sender, receiver) = mpsc::sync_channel(config.queue);
        let writer = Writer {
            client: client.clone(),
            prefix: config.key_prefix.clone(),
            timeout: config.timeout,
            batch: config.batch,
            dropped: dropped.clone(),
            connection: None,
            last_error: None,
        };
        let thread = std::thread::Builder::new()
            .name("orchestrator-telemetry-redis".into())
            .spawn(move || writer.run(&receiver))
            .map_err(|e| ActivityError(format!("cannot start the Redis writer thread: {e}")))?;
        Ok(RedisActivity {
            client,
            prefix: config.key_prefix,
            timeout: config.timeout,
            sender: Some(sender),
            dropped,
            clock,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Waits until every user queued so far was sent to Redis (or dropped).
    pub fn flush(&self) {
        let (done, wait) = mpsc::channel();
        if let Some(sender) = &self.sender
            && sender.send(Message::Flush(done)).is_ok()
        {
            let _ = wait.recv();
        }
    }

    fn keys(&self, first: i64, last: i64) -> Vec<String> {
        (first..=last)
            .map(|day| format!("{}:{}", self.prefix, date(day)))
            .collect()
    }

    fn pfcount(&self, con: &mut redis::Connection, keys: &[String]) -> Result<u64, ActivityError> {
        redis::cmd("PFCOUNT")
            .arg(keys)
            .query(con)
            .map_err(|e| ActivityError(format!("PFCOUNT: {e}")))
    }
}

impl ActivityBackend for RedisActivity {
    fn record(&self, user: &str) {
        let day = day_of(self.clock.now_ms());
        let Some(sender) = &self.sender else { return };
        match sender.try_send(Message::User(day, bounded_id(user))) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => self.dropped.increment(1),
        }
    }

    fn counts(&self, now: Millis) -> Result<ActivityCounts, ActivityError> {
        let mut con = self
            .client
            .get_connection_with_timeout(self.timeout)
            .map_err(|e| ActivityError(format!("cannot connect to Redis: {e}")))?;
        let _ = con.set_read_timeout(Some(self.timeout));
        let today = day_of(now);
        let mut active = [0u64; 3];
        for (slot, (days, _)) in active.iter_mut().zip(WINDOWS) {
            *slot = self.pfcount(&mut con, &self.keys(today - i64::from(days) + 1, today))?;
        }
        let previous = self.pfcount(&mut con, &self.keys(today - 59, today - 30))?;
        let union = self.pfcount(&mut con, &self.keys(today - 59, today))?;
        Ok(ActivityCounts {
            active,
            churn: churn(previous, active[2], union),
        })
    }

    fn scope(&self) -> ActivityScope {
        ActivityScope::Fleet
    }

    fn flush(&self) {
        RedisActivity::flush(self);
    }
}

impl Drop for RedisActivity {
    fn drop(&mut self) {
        self.flush();
        self.sender = None;
        if let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = thread.join();
        }
    }
}

struct Writer {
    client: redis::Client,
    prefix: String,
    timeout: Duration,
    batch: usize,
    dropped: CounterHandle,
    connection: Option<redis::Connection>,
    last_error: Option<String>,
}

impl Writer {
    fn run(mut self, receiver: &Receiver<Message>) {
        while let Ok(first) = receiver.recv() {
            let mut users: Vec<(i64, String)> = Vec::new();
            let mut flushes = Vec::new();
            let mut message = Some(first);
            while let Some(m) = message.take() {
                match m {
                    Message::User(day, user) => users.push((day, user)),
                    Message::Flush(done) => flushes.push(done),
                }
                if users.len() < self.batch {
                    message = receiver.try_recv().ok();
                }
            }
            if !users.is_empty() {
                self.send(users);
            }
            for done in flushes {
                let _ = done.send(());
            }
        }
    }

    fn send(&mut self, mut users: Vec<(i64, String)>) {
        users.sort();
        let mut pipe = redis::pipe();
        let mut start = 0;
        while start < users.len() {
            let day = users[start].0;
            let end = users[start..]
                .iter()
                .position(|(d, _)| *d != day)
                .map_or(users.len(), |n| start + n);
            let key = format!("{}:{}", self.prefix, date(day));
            let members: Vec<&str> = users[start..end].iter().map(|(_, u)| u.as_str()).collect();
            pipe.cmd("PFADD").arg(&key).arg(members).ignore();
            // Kept for the current window and the previous one, plus a day of margin.
            pipe.cmd("EXPIRE").arg(&key).arg(61 * 86_400).ignore();
            start = end;
        }
        let result = self
            .connection()
            .and_then(|con| pipe.query::<()>(con).map_err(|e| e.to_string()));
        match result {
            Ok(()) => {
                if self.last_error.take().is_some() {
                    tracing::info!("Redis reachable again; user activity is counted there");
                }
            }
            Err(err) => {
                self.connection = None;
                self.dropped.increment(users.len() as u64);
                if self.last_error.as_deref() != Some(&err) {
                    tracing::warn!(error = %err, "Redis unreachable; user activity is dropped and counted");
                    self.last_error = Some(err);
                }
            }
        }
    }

    fn connection(&mut self) -> Result<&mut redis::Connection, String> {
        if self.connection.is_none() {
            let con = self
                .client
                .get_connection_with_timeout(self.timeout)
                .map_err(|e| e.to_string())?;
            let _ = con.set_read_timeout(Some(self.timeout));
            let _ = con.set_write_timeout(Some(self.timeout));
            self.connection = Some(con);
        }
        self.connection
            .as_mut()
            .ok_or_else(|| "no connection".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14, row 11: the Redis password never reaches an error or a `Debug`.
    #[test]
    fn the_url_password_is_redacted() {
        assert_eq!(
            redact("redis://app:hunter2@cache:6379/0"),
            "redis://app:***@cache:6379/0"
        );
        assert_eq!(redact("redis://:hunter2@cache"), "redis://:***@cache");
        assert_eq!(redact("rediss://token@cache/1"), "rediss://***@cache/1");
        assert_eq!(redact("redis://cache:6379/a@b"), "redis://cache:6379/a@b");
        let config = RedisActivityConfig::new("redis://app:hunter2@cache:6379/0");
        assert!(!format!("{config:?}").contains("hunter2"));
        let err = RedisActivity::new(
            RedisActivityConfig::new("redis://app:hunter2@cache:notaport"),
            &orchestrator_metrics::Registry::new(),
        )
        .map(|_| ())
        .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    /// Issue 14, row 11: a megabyte user id queues 36 bytes, the same on every call.
    #[test]
    fn long_user_ids_are_hashed() {
        assert_eq!(bounded_id("user-42"), "user-42");
        let huge = "x".repeat(1 << 20);
        let id = bounded_id(&huge);
        assert_eq!(id.len(), 4 + 32);
        assert_eq!(id, bounded_id(&huge));
        assert_ne!(id, bounded_id(&"y".repeat(1 << 20)));
    }
}
