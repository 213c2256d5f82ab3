//! The monitor: on an interval, runs hooks (refresh gauges the expressions read), takes a
//! sample, and runs the evaluators (KPIs, alert rules) over the store, on a thread of its
//! own so nothing of this runs on the request path.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::{Expr, SampleStore, Sampler};
use orchestrator_support::{Clock, Millis, StoppingThread, SystemClock};

/// Something evaluated after every sample.
pub trait Evaluator: Send {
    /// The expressions it reads (the sampler keeps their series).
    fn watches(&self) -> Vec<Expr>;

    /// Evaluates at time `at` over the store.
    fn evaluate(&mut self, store: &SampleStore, at: Millis);
}

/// Something run before every sample (for example, updating gauges from a sketch).
pub type Hook = Box<dyn FnMut(Millis) + Send>;

/// Configures and starts a [`Monitor`].
pub struct MonitorBuilder {
    sampler: Sampler,
    interval: Duration,
    clock: Arc<dyn Clock>,
    hooks: Vec<Hook>,
    evaluators: Vec<Box<dyn Evaluator>>,
}

impl std::fmt::Debug for MonitorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitorBuilder")
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl MonitorBuilder {
    /// A monitor over `sampler`, ticking every 15 s on the system clock.
    pub fn new(sampler: Sampler) -> Self {
        MonitorBuilder {
            sampler,
            interval: Duration::from_secs(15),
            clock: Arc::new(SystemClock),
            hooks: Vec::new(),
            evaluators: Vec::new(),
        }
    }

    /// The sampling and evaluation interval (default 15 s).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// The clock timestamps are read from.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Runs `hook` before every sample.
    pub fn hook(mut self, hook: Hook) -> Self {
        self.hooks.push(hook);
        self
    }

    /// Runs `evaluator` after every sample, and keeps the series it reads.
    pub fn evaluator(mut self, evaluator: Box<dyn Evaluator>) -> Self {
        for expr in evaluator.watches() {
            self.sampler.watch(&expr);
        }
        self.evaluators.push(evaluator);
        self
    }

    /// Starts the monitor thread. The first tick happens after one interval; use
    /// [`Monitor::tick_now`] to force one. The store's points per series are sized from the
    /// watched windows and the interval ([`Sampler::fit_points_to`]).
    pub fn start(mut self) -> std::io::Result<Monitor> {
        self.sampler.fit_points_to(self.interval);
        let (commands, receiver) = mpsc::channel();
        let state = Arc::new(Mutex::new(Ticker {
            sampler: self.sampler,
            clock: self.clock,
            hooks: self.hooks,
            evaluators: self.evaluators,
            last_error: None,
        }));
        let ticker = state.clone();
        let interval = self.interval;
        let stop = commands.clone();
        let thread = StoppingThread::spawn(
            "orchestrator-telemetry-monitor",
            move || run(&ticker, &receiver, interval),
            move || {
                let _ = stop.send(Command::Stop);
            },
        )?;
        Ok(Monitor {
            commands,
            thread,
            state,
        })
    }
}

struct Ticker {
    sampler: Sampler,
    clock: Arc<dyn Clock>,
    hooks: Vec<Hook>,
    evaluators: Vec<Box<dyn Evaluator>>,
    last_error: Option<String>,
}

impl Ticker {
    fn tick(&mut self) {
        let at = self.clock.now_ms();
        for hook in &mut self.hooks {
            hook(at);
        }
        match self.sampler.sample(at) {
            Ok(_) => self.last_error = None,
            Err(err) => {
                // Logged when it changes, not every tick; evaluation goes on over what the
                // store holds, and the gaps show as no data.
                let text = err.to_string();
                if self.last_error.as_deref() != Some(&text) {
                    tracing::warn!(error = %text, "sampling failed");
                    self.last_error = Some(text);
                }
            }
        }
        let store = self.sampler.store();
        for evaluator in &mut self.evaluators {
            evaluator.evaluate(store, at);
        }
    }
}

enum Command {
    Tick(Sender<()>),
    Stop,
}

fn run(state: &Mutex<Ticker>, commands: &Receiver<Command>, interval: Duration) {
    loop {
        match commands.recv_timeout(interval) {
            Err(RecvTimeoutError::Timeout) => {
                state.lock().unwrap_or_else(PoisonError::into_inner).tick()
            }
            Ok(Command::Tick(done)) => {
                state.lock().unwrap_or_else(PoisonError::into_inner).tick();
                let _ = done.send(());
            }
            Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// A running monitor. Stops when dropped.
///
/// ```
/// use std::time::Duration;
/// use orchestrator_metrics::{Metrics, Registry, catalogue::SESSIONS_TOTAL};
/// use orchestrator_query::{Evaluator, Expr, MonitorBuilder, SampleStore, Sampler, Selector, eval};
/// use orchestrator_support::Millis;
///
/// struct Sessions(std::sync::Arc<std::sync::Mutex<Option<f64>>>);
/// impl Evaluator for Sessions {
///     fn watches(&self) -> Vec<Expr> {
///         vec![Expr::value(Selector::of(&SESSIONS_TOTAL)).unwrap()]
///     }
///     fn evaluate(&mut self, store: &SampleStore, at: Millis) {
///         *self.0.lock().unwrap() = eval(&self.watches()[0], store, at).scalar();
///     }
/// }
///
/// let registry = Registry::new();
/// Metrics::new(&registry).sessions().started();
/// let seen = std::sync::Arc::default();
/// let monitor = MonitorBuilder::new(Sampler::local(&registry))
///     .interval(Duration::from_secs(3600))
///     .evaluator(Box::new(Sessions(std::sync::Arc::clone(&seen))))
///     .start()?;
/// monitor.tick_now();
/// assert_eq!(*seen.lock().unwrap(), Some(1.0));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Monitor {
    commands: Sender<Command>,
    thread: StoppingThread,
    state: Arc<Mutex<Ticker>>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor").finish_non_exhaustive()
    }
}

impl Monitor {
    /// Runs one tick now on the monitor thread and waits for it.
    pub fn tick_now(&self) {
        let (done, wait) = mpsc::channel();
        if self.commands.send(Command::Tick(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    /// Runs `f` with the sample store (for example, to evaluate an ad-hoc expression).
    pub fn with_store<R>(&self, f: impl FnOnce(&SampleStore) -> R) -> R {
        f(self
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sampler
            .store())
    }

    /// Stops the thread and waits for it (dropping the monitor does the same).
    pub fn stop(self) {
        self.thread.stop();
    }
}
