//! The dispatcher: a thread per sink behind a bounded queue, retries with full jitter, and a
//! shutdown that returns within its deadline even when a sink hangs.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use orchestrator_metrics::CounterHandle;
use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};

use super::{Delivery, Notification, RetryPolicy, Sink};

/// What a worker and the dispatcher share.
#[derive(Default)]
struct Shared {
    state: Mutex<WorkerState>,
    changed: Condvar,
}

#[derive(Default)]
struct WorkerState {
    /// Notifications queued or being delivered.
    pending: u64,
    /// The worker thread ended.
    done: bool,
    /// Shutdown gave up on the worker; it counts nothing more.
    abandoned: bool,
    /// Shutdown started: no retry waits past this instant.
    stop_at: Option<Instant>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, WorkerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Worker {
    sink: Arc<dyn Sink>,
    sender: Option<SyncSender<Vec<Notification>>>,
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

/// Hands batches to every sink's thread without waiting.
pub struct Dispatcher {
    workers: Vec<Worker>,
    dropped: CounterHandle,
    deadline: Duration,
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
            let shared = Arc::new(Shared::default());
            let (worker_sink, worker_dropped, worker_shared) =
                (sink.clone(), dropped.clone(), shared.clone());
            let thread = std::thread::Builder::new()
                .name(format!("orchestrator-telemetry-alerts-{}", sink.name()))
                .spawn(move || {
                    deliver_loop(
                        worker_sink.as_ref(),
                        &receiver,
                        policy,
                        &worker_dropped,
                        &worker_shared,
                    );
                    worker_shared.lock().done = true;
                    worker_shared.changed.notify_all();
                })?;
            workers.push(Worker {
                sink,
                sender: Some(sender),
                thread: Some(thread),
                shared,
            });
        }
        Ok(Dispatcher {
            workers,
            dropped,
            deadline: policy.shutdown_deadline,
        })
    }

    /// Queues `changes` for the sinks that want changes and `resends` for the others, each
    /// sink getting only the notifications it [accepts](Sink::accepts).
    pub fn dispatch(&self, changes: &[Notification], resends: &[Notification]) {
        for worker in &self.workers {
            let batch = match worker.sink.delivery() {
                Delivery::OnChange => changes,
                Delivery::PrometheusResend => resends,
            };
            let batch: Vec<Notification> = batch
                .iter()
                .filter(|n| worker.sink.accepts(n))
                .cloned()
                .collect();
            if batch.is_empty() {
                continue;
            }
            let Some(sender) = &worker.sender else {
                continue;
            };
            let n = batch.len() as u64;
            worker.shared.lock().pending += n;
            if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
                sender.try_send(batch)
            {
                let mut state = worker.shared.lock();
                state.pending = state.pending.saturating_sub(n);
                drop(state);
                self.dropped.increment(n);
                tracing::warn!(sink = %worker.sink.name(), alerts = n, "alert sink queue full; notifications dropped");
            }
        }
    }

    /// Waits until every queued batch was delivered or dropped, or until the policy's
    /// `shutdown_deadline` (5 s by default), then stops the threads. A sink still busy at
    /// the deadline is abandoned (its thread ends on its own) and what it held is counted as
    /// dropped. Returns how many notifications were abandoned. Idempotent.
    pub fn shutdown(&mut self) -> u64 {
        let stop_at = Instant::now() + self.deadline;
        for worker in &mut self.workers {
            worker.sender = None;
            worker.shared.lock().stop_at = Some(stop_at);
            worker.shared.changed.notify_all();
        }
        let mut abandoned = 0;
        for worker in &mut self.workers {
            let Some(thread) = worker.thread.take() else {
                continue;
            };
            let mut state = worker.shared.lock();
            while !state.done {
                let left = stop_at.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                state = worker
                    .shared
                    .changed
                    .wait_timeout(state, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            if state.done {
                drop(state);
                let _ = thread.join();
            } else {
                state.abandoned = true;
                let lost = std::mem::take(&mut state.pending);
                drop(state);
                abandoned += lost;
                self.dropped.increment(lost);
                tracing::warn!(sink = %worker.sink.name(), alerts = lost, deadline = ?self.deadline, "alert sink still busy at shutdown; its notifications are dropped");
            }
        }
        abandoned
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
    shared: &Shared,
) {
    let mut rng = SmallRng::from_os_rng();
    let attempts = policy.attempts.max(1);
    // Failures are logged at `warn` once until a delivery succeeds (then at `debug`), so a
    // sink that is down or untrusted is one log line, not one per batch; drops are counted.
    let mut failing = false;
    while let Ok(batch) = receiver.recv() {
        let n = batch.len() as u64;
        let mut delivered = false;
        for attempt in 1..=attempts {
            match sink.deliver(&batch) {
                Ok(()) => {
                    delivered = true;
                    break;
                }
                Err(err) if !err.retryable || attempt == attempts => {
                    if failing {
                        tracing::debug!(sink = %sink.name(), error = %err, code = ?err.code, alerts = n, attempts = attempt, "alert notifications dropped");
                    } else {
                        tracing::warn!(sink = %sink.name(), error = %err, code = ?err.code, alerts = n, attempts = attempt, "alert notifications dropped (logged once until a delivery succeeds; counted in orchestrator_telemetry_dropped_total)");
                    }
                    failing = true;
                    break;
                }
                Err(err) => {
                    let ceiling = policy.ceiling(attempt);
                    let wait = ceiling.mul_f64(rng.random::<f64>());
                    tracing::debug!(sink = %sink.name(), error = %err, attempt, ?wait, "alert delivery failed; retrying");
                    if !pause(shared, wait) {
                        tracing::warn!(sink = %sink.name(), error = %err, alerts = n, "shutting down: no more retries; notifications dropped");
                        break;
                    }
                }
            }
        }
        if delivered && std::mem::take(&mut failing) {
            tracing::info!(sink = %sink.name(), "alert deliveries recovered");
        }
        let mut state = shared.lock();
        if state.abandoned {
            return; // shutdown already counted what this thread held
        }
        state.pending = state.pending.saturating_sub(n);
        drop(state);
        if !delivered {
            dropped.increment(n);
        }
    }
}

/// Waits `wait`, unless shutdown's deadline comes first: then returns `false` (no time for
/// another attempt).
fn pause(shared: &Shared, wait: Duration) -> bool {
    let until = Instant::now() + wait;
    let mut state = shared.lock();
    loop {
        if let Some(stop_at) = state.stop_at
            && until > stop_at
        {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        state = shared
            .changed
            .wait_timeout(state, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_up_to_the_cap() {
        let policy = RetryPolicy {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
            ..RetryPolicy::default()
        };
        let ceilings: Vec<u128> = (1..=6).map(|a| policy.ceiling(a).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 500, 500, 500]);
        assert_eq!(
            policy.ceiling(200),
            Duration::from_millis(500),
            "no overflow"
        );
    }
}
