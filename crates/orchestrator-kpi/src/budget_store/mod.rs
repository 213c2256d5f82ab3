//! Budgets shared by a fleet through Redis: every replica charges the same slots and
//! reserves against the same holds, and a restarted process resumes from what Redis holds.
//!
//! Charges and releases only go on a bounded queue, sent by a background thread (the request
//! path never waits on them); a charge Redis could not take is owed and added to the current
//! slot once Redis answers again (nothing is lost, but it lands in the slot of the recovery,
//! not of the call). A release that fails is dropped: the hold lapses by itself after the
//! hold lifetime. A reservation is one script run on the caller's thread, bounded by the
//! timeout; when it fails, the budget's `FailMode` decides. The fleet's spend is read every
//! second by the same thread, for the ratio gauges.

mod scripts;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use orchestrator_metrics::{
    BudgetKey, BudgetStore, CounterHandle, Registry, StoreAdmit, StoreError, catalogue,
};

use crate::activity::redact;
use crate::murmur::murmur_hash_64a;

/// Why the budget store could not start.
#[derive(Debug, thiserror::Error)]
pub enum BudgetStoreError {
    /// The URL is not a Redis URL (the password, if any, is not shown).
    #[error("invalid Redis URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, its password hidden.
        url: String,
        /// Why.
        reason: String,
    },
    /// The drop counter could not be registered.
    #[error(transparent)]
    Registry(#[from] orchestrator_metrics::RegistryError),
    /// The background thread could not start.
    #[error("the budget store's thread could not start: {0}")]
    Thread(#[from] std::io::Error),
}

/// Configures [`RedisBudgetStore`]. Its `Debug` hides the URL's password.
#[derive(Clone)]
pub struct RedisBudgetConfig {
    url: String,
    key_prefix: String,
    timeout: Duration,
    hold_lifetime: Duration,
    queue: usize,
    refresh: Duration,
}

impl std::fmt::Debug for RedisBudgetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBudgetConfig")
            .field("url", &redact(&self.url))
            .field("key_prefix", &self.key_prefix)
            .field("timeout", &self.timeout)
            .field("hold_lifetime", &self.hold_lifetime)
            .finish_non_exhaustive()
    }
}

impl RedisBudgetConfig {
    /// Redis at `url`; keys `orchestrator:budget:<hash of the tenant>:<period>:…`; a 250 ms
    /// timeout for a reservation; holds that lapse after 10 minutes if their process never
    /// releases them (a call that runs longer loses its hold then); a queue of 10,000.
    pub fn new(url: impl Into<String>) -> Self {
        RedisBudgetConfig {
            url: url.into(),
            key_prefix: "orchestrator:budget".into(),
            timeout: Duration::from_millis(250),
            hold_lifetime: Duration::from_secs(600),
            queue: 10_000,
            refresh: Duration::from_secs(1),
        }
    }

    /// The key prefix.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// How long a reservation (and any Redis call) may take before it fails.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a hold lasts if its process never releases it.
    pub fn hold_lifetime(mut self, lifetime: Duration) -> Self {
        self.hold_lifetime = lifetime.max(Duration::from_secs(1));
        self
    }
}

enum Op {
    Charge(BudgetKey, u64),
    Release(BudgetKey, u64, u64),
}

/// What the caller's thread and the background thread share.
struct Shared {
    config: RedisBudgetConfig,
    client: redis::Client,
    /// The connection reservations use (the background thread has its own).
    reserving: Mutex<Option<redis::Connection>>,
    next_hold: AtomicU64,
    /// The fleet's spend of each budget asked about, as last read.
    spent: Mutex<HashMap<BudgetKey, Option<u64>>>,
    /// `orchestrator_telemetry_dropped_total{queue="budget_store"}`.
    dropped: CounterHandle,
}

/// The Redis store of budgets (see the module's documentation).
pub struct RedisBudgetStore {
    shared: Arc<Shared>,
    ops: Option<SyncSender<Op>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RedisBudgetStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBudgetStore")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl RedisBudgetStore {
    /// Starts the store (no connection yet: an unreachable Redis is not an error here; its
    /// failures are counted as they happen). A malformed URL is an error.
    pub fn start(config: RedisBudgetConfig, registry: &Registry) -> Result<Self, BudgetStoreError> {
        let client =
            redis::Client::open(config.url.as_str()).map_err(|e| BudgetStoreError::InvalidUrl {
                url: redact(&config.url),
                reason: e.to_string(),
            })?;
        let dropped = registry.counter(&catalogue::TELEMETRY_DROPPED_TOTAL, &["budget_store"])?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()) << 32;
        let (ops, queue) = mpsc::sync_channel(config.queue);
        let shared = Arc::new(Shared {
            client,
            reserving: Mutex::new(None),
            next_hold: AtomicU64::new(seed),
            spent: Mutex::new(HashMap::new()),
            dropped,
            config,
        });
        let background = shared.clone();
        let thread = std::thread::Builder::new()
            .name("budget-store".into())
            .spawn(move || Background::new(background).run(&queue))?;
        Ok(RedisBudgetStore {
            shared,
            ops: Some(ops),
            thread: Some(thread),
        })
    }

    fn queue(&self, op: Op) {
        let Some(ops) = &self.ops else { return };
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = ops.try_send(op) {
            self.shared.dropped.increment(1);
        }
    }
}

impl Drop for RedisBudgetStore {
    fn drop(&mut self) {
        // The thread sends what is queued, then ends when the queue closes.
        drop(self.ops.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Shared {
    fn keys(&self, budget: &BudgetKey) -> [String; 2] {
        let hash = murmur_hash_64a(budget.tenant.as_bytes(), 0x6275_6467);
        let base = format!(
            "{}:{hash:016x}:{}",
            self.config.key_prefix,
            budget.period.as_str()
        );
        [format!("{base}:spend"), format!("{base}:holds")]
    }

    fn connect(&self) -> Result<redis::Connection, String> {
        let con = self
            .client
            .get_connection_with_timeout(self.config.timeout)
            .map_err(|e| e.to_string())?;
        let _ = con.set_read_timeout(Some(self.config.timeout));
        let _ = con.set_write_timeout(Some(self.config.timeout));
        Ok(con)
    }
}

/// The slot length and slots per period of a budget, as the scripts take them.
fn slots(budget: &BudgetKey) -> (u64, u64) {
    let slot = budget.period.slot().as_millis() as u64;
    (slot, budget.period.duration().as_millis() as u64 / slot)
}

fn nanos_of(value: &redis::Value) -> Option<u64> {
    match value {
        redis::Value::BulkString(b) => std::str::from_utf8(b)
            .ok()?
            .parse::<f64>()
            .ok()
            .map(|v| v as u64),
        redis::Value::Int(i) => u64::try_from(*i).ok(),
        _ => None,
    }
}

impl BudgetStore for RedisBudgetStore {
    fn charge(&self, budget: &BudgetKey, nanos: u64) {
        self.queue(Op::Charge(budget.clone(), nanos));
    }

    fn reserve(
        &self,
        budget: &BudgetKey,
        nanos: u64,
        limit_nanos: u64,
    ) -> Result<StoreAdmit, StoreError> {
        let shared = &self.shared;
        let hold = shared.next_hold.fetch_add(1, Ordering::Relaxed);
        let [spend, holds] = shared.keys(budget);
        let (slot_ms, n) = slots(budget);
        let mut con = shared
            .reserving
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if con.is_none() {
            *con = Some(shared.connect().map_err(StoreError)?);
        }
        let Some(connection) = con.as_mut() else {
            return Err(StoreError("no connection".into()));
        };
        let answer = redis::cmd("EVAL")
            .arg(scripts::RESERVE)
            .arg(2)
            .arg(&spend)
            .arg(&holds)
            .arg(slot_ms)
            .arg(n)
            .arg(limit_nanos)
            .arg(nanos)
            .arg(hold)
            .arg(shared.config.hold_lifetime.as_millis() as u64)
            .query::<Vec<redis::Value>>(connection);
        let values = match answer {
            Ok(values) => values,
            Err(e) => {
                // A broken connection is made again on the next reservation.
                *con = None;
                return Err(StoreError(e.to_string()));
            }
        };
        drop(con);
        let total = values.get(1).and_then(nanos_of).unwrap_or(0);
        match values.first() {
            Some(redis::Value::Int(1)) => Ok(StoreAdmit::Admitted { hold }),
            Some(redis::Value::Int(0)) => Ok(StoreAdmit::Refused {
                spent_and_held_nanos: total,
                retry_after: match values.get(2) {
                    Some(redis::Value::Int(ms)) if *ms >= 0 => {
                        Some(Duration::from_millis(*ms as u64))
                    }
                    _ => None,
                },
            }),
            other => Err(StoreError(format!("unexpected answer {other:?}"))),
        }
    }

    fn release(&self, budget: &BudgetKey, hold: u64, nanos: u64) {
        self.queue(Op::Release(budget.clone(), hold, nanos));
    }

    fn spent(&self, budget: &BudgetKey) -> Option<u64> {
        let mut spent = self
            .shared
            .spent
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // A budget asked about for the first time is read by the next refresh.
        *spent.entry(budget.clone()).or_insert(None)
    }
}

/// The background thread: sends charges and releases, reads the fleet's spend.
struct Background {
    shared: Arc<Shared>,
    connection: Option<redis::Connection>,
    /// Charges Redis did not take, added again once it answers.
    owed: HashMap<BudgetKey, u64>,
}

impl Background {
    fn new(shared: Arc<Shared>) -> Self {
        Background {
            shared,
            connection: None,
            owed: HashMap::new(),
        }
    }

    fn run(mut self, queue: &Receiver<Op>) {
        loop {
            match queue.recv_timeout(self.shared.config.refresh) {
                Ok(op) => self.apply(op),
                Err(RecvTimeoutError::Timeout) => self.refresh(),
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn query<T: redis::FromRedisValue>(&mut self, cmd: &redis::Cmd) -> Result<T, String> {
        if self.connection.is_none() {
            self.connection = Some(self.shared.connect()?);
        }
        let con = self.connection.as_mut().ok_or("no connection")?;
        cmd.query::<T>(con).map_err(|e| {
            self.connection = None;
            e.to_string()
        })
    }

    fn charge(&mut self, budget: &BudgetKey, nanos: u64) -> Result<(), String> {
        let [spend, _] = self.shared.keys(budget);
        let (slot_ms, n) = slots(budget);
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(scripts::CHARGE)
            .arg(1)
            .arg(&spend)
            .arg(slot_ms)
            .arg(n)
            .arg(nanos);
        self.query::<i64>(&cmd).map(|_| ())
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Charge(budget, nanos) => {
                if self.charge(&budget, nanos).is_err() {
                    self.shared.dropped.increment(1);
                    *self.owed.entry(budget).or_insert(0) += nanos;
                }
            }
            Op::Release(budget, hold, nanos) => {
                let [_, holds] = self.shared.keys(&budget);
                let mut cmd = redis::cmd("ZREM");
                cmd.arg(&holds).arg(format!("{hold}:{nanos}"));
                if self.query::<i64>(&cmd).is_err() {
                    // The hold lapses by itself after its lifetime.
                    self.shared.dropped.increment(1);
                }
            }
        }
    }

    /// Pays what is owed, then reads the spend of every budget asked about.
    fn refresh(&mut self) {
        let owed: Vec<(BudgetKey, u64)> = self.owed.drain().collect();
        for (budget, nanos) in owed {
            if self.charge(&budget, nanos).is_err() {
                *self.owed.entry(budget).or_insert(0) += nanos;
            }
        }
        let budgets: Vec<BudgetKey> = self
            .shared
            .spent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        for budget in budgets {
            let [spend, _] = self.shared.keys(&budget);
            let (slot_ms, n) = slots(&budget);
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(scripts::SPENT)
                .arg(1)
                .arg(&spend)
                .arg(slot_ms)
                .arg(n);
            let read = self
                .query::<String>(&cmd)
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .map(|v| v as u64);
            self.shared
                .spent
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(budget, read);
        }
    }
}
