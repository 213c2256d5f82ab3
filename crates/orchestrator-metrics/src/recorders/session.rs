//! Sessions: `orchestrator_active_sessions`, `orchestrator_sessions_total` and
//! `orchestrator_session_duration_seconds`.

use std::time::{Duration, Instant};

use super::{counter, gauge, histogram};
use crate::catalogue;
use crate::{CounterHandle, GaugeHandle, HistogramHandle, Registry};

/// Records user sessions. Cheap to clone.
///
/// ```
/// use orchestrator_metrics::{Metrics, Registry};
///
/// let registry = Registry::new();
/// let sessions = Metrics::new(&registry).sessions().clone();
/// let timer = sessions.start();
/// assert_eq!(sessions.active(), 1.0);
/// timer.end();
/// assert_eq!(sessions.active(), 0.0);
/// ```
#[derive(Debug, Clone)]
pub struct SessionMetrics {
    active: GaugeHandle,
    started: CounterHandle,
    duration: HistogramHandle,
}

impl SessionMetrics {
    pub(crate) fn new(registry: &Registry) -> Self {
        let active = gauge(registry, &catalogue::ACTIVE_SESSIONS, &[]);
        SessionMetrics {
            active,
            started: counter(registry, &catalogue::SESSIONS_TOTAL, &[]),
            duration: histogram(registry, &catalogue::SESSION_DURATION_SECONDS, &[]),
        }
    }

    /// Starts a session and returns a timer that ends it (explicitly or when dropped).
    pub fn start(&self) -> SessionTimer {
        self.started();
        SessionTimer {
            metrics: self.clone(),
            start: Instant::now(),
            ended: false,
        }
    }

    /// Counts a session start, for sessions whose lifetime is tracked elsewhere (in a
    /// database, across requests). Pair it with [`SessionMetrics::ended`].
    pub fn started(&self) {
        self.started.increment(1);
        let _ = self.active.increment(1.0);
    }

    /// Counts a session end and records its duration.
    pub fn ended(&self, duration: Duration) {
        let _ = self.active.decrement(1.0);
        let _ = self.duration.observe(duration.as_secs_f64());
    }

    /// The number of sessions currently open.
    pub fn active(&self) -> f64 {
        self.active.get()
    }
}

/// A running session; ends it when [`SessionTimer::end`] is called or when dropped.
#[derive(Debug)]
pub struct SessionTimer {
    metrics: SessionMetrics,
    start: Instant,
    ended: bool,
}

impl SessionTimer {
    /// Ends the session and returns its duration.
    pub fn end(mut self) -> Duration {
        self.finish()
    }

    fn finish(&mut self) -> Duration {
        let elapsed = self.start.elapsed();
        if !self.ended {
            self.ended = true;
            self.metrics.ended(elapsed);
        }
        elapsed
    }
}

impl Drop for SessionTimer {
    fn drop(&mut self) {
        self.finish();
    }
}
