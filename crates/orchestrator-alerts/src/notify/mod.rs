//! Delivering alerts: sinks, each behind a bounded queue on a thread of its own with
//! bounded retries, so a sink that is down or slow never blocks evaluation (or anything on
//! the request path). What cannot be delivered is dropped and counted in
//! `orchestrator_telemetry_dropped_total{queue="alert_notifications"}`.

mod alertmanager;
mod log;
mod webhook;

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

pub use alertmanager::AlertmanagerSink;
pub use log::LogSink;
use orchestrator_metrics::CounterHandle;
use orchestrator_query::Millis;
pub use webhook::WebhookSink;

use crate::state::Labels;

/// What a notification says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyState {
    /// The alert fires.
    Firing,
    /// The alert resolved.
    Resolved,
}

impl NotifyState {
    /// `firing` or `resolved`.
    pub const fn as_str(self) -> &'static str {
        match self {
            NotifyState::Firing => "firing",
            NotifyState::Resolved => "resolved",
        }
    }
}

/// One alert as sent to a sink.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The alert name.
    pub alertname: String,
    /// Firing or resolved.
    pub state: NotifyState,
    /// All labels (`alertname` and `severity` included).
    pub labels: Labels,
    /// Annotations.
    pub annotations: Labels,
    /// The condition's value.
    pub value: f64,
    /// When it started firing.
    pub starts_at: Millis,
    /// When it ended, or (while firing) until when it is valid without a resend, as
    /// Prometheus sets `endsAt`.
    pub ends_at: Millis,
}

impl Notification {
    /// A label's value.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// When a sink wants to hear about alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// When an alert starts firing and when it resolves.
    OnChange,
    /// As Prometheus sends to Alertmanager: firing alerts again every resend interval
    /// (with `endsAt` pushed forward), resolved ones until their retention ends.
    PrometheusResend,
}

/// Where alerts go.
pub trait Sink: Send + Sync + std::fmt::Debug {
    /// A short name for logs.
    fn name(&self) -> String;

    /// When it wants notifications.
    fn delivery(&self) -> Delivery;

    /// Delivers a batch; an error is retried by the dispatcher.
    fn deliver(&self, batch: &[Notification]) -> Result<(), String>;
}

/// Retries of a failed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per batch, the first included.
    pub attempts: u32,
    /// The wait before the second attempt; it doubles after each further failure.
    pub backoff: Duration,
    /// Batches waiting per sink; further ones are dropped and counted.
    pub queue: usize,
}

impl Default for RetryPolicy {
    /// Three attempts, waiting 0.5 s then 1 s; 64 batches queued per sink.
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            backoff: Duration::from_millis(500),
            queue: 64,
        }
    }
}

struct Worker {
    sink: Arc<dyn Sink>,
    sender: Option<SyncSender<Vec<Notification>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Hands batches to every sink's thread without waiting.
pub struct Dispatcher {
    workers: Vec<Worker>,
    dropped: CounterHandle,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.workers.iter().map(|w| w.sink.name()))
            .finish()
    }
}

impl Dispatcher {
    /// A thread per sink with `policy`, counting drops in `dropped`.
    pub fn new(
        sinks: Vec<Arc<dyn Sink>>,
        policy: RetryPolicy,
        dropped: CounterHandle,
    ) -> std::io::Result<Self> {
        let mut workers = Vec::new();
        for sink in sinks {
            let (sender, receiver) = mpsc::sync_channel(policy.queue.max(1));
            let (worker_sink, worker_dropped) = (sink.clone(), dropped.clone());
            let thread = std::thread::Builder::new()
                .name(format!("orchestrator-telemetry-alerts-{}", sink.name()))
                .spawn(move || {
                    deliver_loop(worker_sink.as_ref(), &receiver, policy, &worker_dropped)
                })?;
            workers.push(Worker {
                sink,
                sender: Some(sender),
                thread: Mutex::new(Some(thread)),
            });
        }
        Ok(Dispatcher { workers, dropped })
    }

    /// Queues `changes` for the sinks that want changes and `resends` for the others.
    pub fn dispatch(&self, changes: &[Notification], resends: &[Notification]) {
        for worker in &self.workers {
            let batch = match worker.sink.delivery() {
                Delivery::OnChange => changes,
                Delivery::PrometheusResend => resends,
            };
            if batch.is_empty() {
                continue;
            }
            let Some(sender) = &worker.sender else {
                continue;
            };
            match sender.try_send(batch.to_vec()) {
                Ok(()) => {}
                Err(TrySendError::Full(b) | TrySendError::Disconnected(b)) => {
                    self.dropped.increment(b.len() as u64);
                    tracing::warn!(sink = %worker.sink.name(), alerts = b.len(), "alert sink queue full; notifications dropped");
                }
            }
        }
    }

    /// Waits until every queued batch was delivered or dropped, then stops the threads.
    pub fn shutdown(&mut self) {
        for worker in &mut self.workers {
            worker.sender = None;
            if let Some(thread) = worker
                .thread
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
            {
                let _ = thread.join();
            }
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn deliver_loop(
    sink: &dyn Sink,
    receiver: &Receiver<Vec<Notification>>,
    policy: RetryPolicy,
    dropped: &CounterHandle,
) {
    while let Ok(batch) = receiver.recv() {
        let mut wait = policy.backoff;
        for attempt in 1..=policy.attempts.max(1) {
            match sink.deliver(&batch) {
                Ok(()) => break,
                Err(err) if attempt == policy.attempts.max(1) => {
                    dropped.increment(batch.len() as u64);
                    tracing::warn!(sink = %sink.name(), error = %err, alerts = batch.len(), attempts = attempt, "alert notifications dropped");
                }
                Err(err) => {
                    tracing::debug!(sink = %sink.name(), error = %err, attempt, "alert delivery failed; retrying");
                    std::thread::sleep(wait);
                    wait = wait.saturating_mul(2);
                }
            }
        }
    }
}
