//! The push thread: every interval, read the registry, build the request, send it. It owns
//! a current-thread Tokio runtime (tonic needs one), so it works whether the orchestrator
//! runs Tokio or not, and it never touches the request path.
//!
//! Pushes run at a fixed rate (a slow push does not delay the next one past its time). A
//! push that fails or times out counts its data points in
//! `orchestrator_telemetry_dropped_total{queue="metrics"}` and logs one warning until a push
//! succeeds again, which is logged too; nothing is queued, so a backend that stays down
//! costs no memory. Points a backend rejects (`partial_success`) are counted the same way,
//! their message logged once.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use orchestrator_metrics::catalogue::TELEMETRY_DROPPED_TOTAL;
use orchestrator_metrics::{CounterHandle, Registry};

use super::config::{MetricsConfigError, OtlpMetricsConfig};
use super::convert::Converter;
use super::transport::Transport;

/// How one push ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// The backend took every point.
    Sent {
        /// Data points sent.
        points: usize,
    },
    /// The backend took the request but rejected some points (counted as dropped).
    Partial {
        /// Data points sent.
        points: usize,
        /// Of which rejected.
        rejected: u64,
    },
    /// The push failed or timed out; its points were counted as dropped.
    Failed {
        /// Data points dropped.
        points: usize,
        /// Why.
        reason: String,
    },
}

enum Command {
    Now(Sender<PushOutcome>),
    Stop,
}

/// The running push. Dropping it (or [`shutdown`](Self::shutdown)) pushes once more, within
/// the push deadline, and stops the thread.
#[derive(Debug)]
pub struct MetricsPush {
    commands: Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

/// The state the thread keeps between pushes.
struct Pusher {
    registry: Registry,
    converter: Converter,
    transport: Transport,
    deadline: Duration,
    dropped: CounterHandle,
    failing: bool,
    last_rejection: Option<String>,
}

impl MetricsPush {
    /// Starts pushing `registry` as `config` says, describing the process with `resource`
    /// (`service.name`, `service.instance.id`, the `OTEL_RESOURCE_ATTRIBUTES` pairs). A
    /// malformed endpoint or unusable TLS material is an error here; an unreachable backend
    /// is not (it is counted when pushes fail).
    pub fn start(
        config: OtlpMetricsConfig,
        registry: &Registry,
        resource: &[(String, String)],
    ) -> Result<Self, MetricsConfigError> {
        // The conventions' families are recorded from now on: the push is what reads them.
        registry.record_gen_ai();
        let (commands, receive) = mpsc::channel();
        let (ready, started) = mpsc::channel();
        let registry = registry.clone();
        let converter =
            Converter::new(config.temporality, resource).conventions_only(config.conventions_only);
        // The thread logs where the starting thread does (a scoped subscriber included).
        let dispatch = tracing::dispatcher::get_default(|d| d.clone());
        let thread = std::thread::Builder::new()
            .name("otlp-metrics".to_owned())
            .spawn(move || {
                let _logs = tracing::dispatcher::set_default(&dispatch);
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready.send(Err(MetricsConfigError::Thread(e)));
                        return;
                    }
                };
                let transport = match runtime.block_on(async { Transport::new(&config) }) {
                    Ok(transport) => transport,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                let dropped = registry
                    .counter(&TELEMETRY_DROPPED_TOTAL, &["metrics"])
                    .unwrap_or_else(|_| unreachable_counter());
                let mut pusher = Pusher {
                    registry,
                    converter,
                    transport,
                    deadline: config.timeout.min(config.export_timeout),
                    dropped,
                    failing: false,
                    last_rejection: None,
                };
                pusher.run(&runtime, &receive, config.interval);
            })
            .map_err(MetricsConfigError::Thread)?;
        match started.recv() {
            Ok(Ok(())) => Ok(MetricsPush {
                commands,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(MetricsConfigError::Thread(std::io::Error::other(
                "the push thread exited before starting",
            ))),
        }
    }

    /// Pushes now (besides the schedule) and waits for the outcome; `None` if the thread
    /// has stopped.
    pub fn push_now(&self) -> Option<PushOutcome> {
        let (reply, outcome) = mpsc::channel();
        self.commands.send(Command::Now(reply)).ok()?;
        outcome.recv().ok()
    }

    /// Pushes once more and stops, waiting at most the push deadline for the last push.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = self.commands.send(Command::Stop);
            let _ = thread.join();
        }
    }
}

impl Drop for MetricsPush {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A counter of no registry, if registering the catalogue's own counter ever failed.
fn unreachable_counter() -> CounterHandle {
    Registry::new()
        .counter(&TELEMETRY_DROPPED_TOTAL, &["metrics"])
        .expect("the catalogue's dropped counter registers in a new registry")
}

impl Pusher {
    fn run(
        &mut self,
        runtime: &tokio::runtime::Runtime,
        commands: &Receiver<Command>,
        every: Duration,
    ) {
        let mut next = Instant::now() + every;
        loop {
            let wait = next.saturating_duration_since(Instant::now());
            match commands.recv_timeout(wait) {
                Ok(Command::Now(reply)) => {
                    let _ = reply.send(self.push(runtime));
                }
                Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => {
                    self.push(runtime);
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.push(runtime);
                    next += every;
                    // After a long stall (a suspended process), start again from now
                    // rather than pushing the missed ones back to back.
                    if next < Instant::now() {
                        next = Instant::now() + every;
                    }
                }
            }
        }
    }

    fn push(&mut self, runtime: &tokio::runtime::Runtime) -> PushOutcome {
        let built = self.converter.build(&self.registry);
        let points = built.points;
        let result = runtime.block_on(self.transport.send(&built.request, self.deadline));
        match result {
            Ok(accepted) => {
                self.converter.commit();
                if self.failing {
                    self.failing = false;
                    tracing::info!(points, "OTLP metrics push recovered");
                }
                if accepted.rejected > 0 {
                    let rejected = accepted.rejected as u64;
                    self.dropped.increment(rejected);
                    if self.last_rejection.as_deref() != Some(accepted.message.as_str()) {
                        tracing::warn!(
                            rejected,
                            message = %accepted.message,
                            "the OTLP metrics backend rejected data points; they are counted in orchestrator_telemetry_dropped_total{{queue=\"metrics\"}}"
                        );
                        self.last_rejection = Some(accepted.message);
                    }
                    PushOutcome::Partial { points, rejected }
                } else {
                    PushOutcome::Sent { points }
                }
            }
            Err(reason) => {
                self.dropped.increment(points as u64);
                if !self.failing {
                    self.failing = true;
                    tracing::warn!(
                        points,
                        error = %reason,
                        "OTLP metrics push failed; counting dropped points until it recovers"
                    );
                }
                PushOutcome::Failed { points, reason }
            }
        }
    }
}
