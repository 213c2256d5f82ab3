//! Business events, recorded once: into the metrics and into distinct-user counting.

use std::sync::Arc;
use std::time::Duration;

use orchestrator_metrics::{Metrics, RejectReason};

use crate::ActivityBackend;

/// Records business events: sessions (and the user behind them, for active users and
/// churn), revenue, conversions, satisfaction and quality.
///
/// ```
/// use std::sync::Arc;
/// use orchestrator_kpi::{BusinessRecorder, LocalActivity};
/// use orchestrator_metrics::{Metrics, Registry};
///
/// let registry = Registry::new();
/// let business = BusinessRecorder::new(Metrics::new(&registry), Arc::new(LocalActivity::new()));
/// business.session_started("user-42");
/// business.revenue(19.99)?;
/// business.conversion();
/// business.satisfaction(9.0)?;
/// business.session_ended(std::time::Duration::from_secs(300));
/// # Ok::<(), orchestrator_metrics::RejectReason>(())
/// ```
#[derive(Debug, Clone)]
pub struct BusinessRecorder {
    metrics: Metrics,
    activity: Arc<dyn ActivityBackend>,
}

impl BusinessRecorder {
    /// A recorder over these metrics and distinct-user backend.
    pub fn new(metrics: Metrics, activity: Arc<dyn ActivityBackend>) -> Self {
        BusinessRecorder { metrics, activity }
    }

    /// A session of `user` started; the user counts as active today.
    pub fn session_started(&self, user: &str) {
        self.metrics.sessions().started();
        self.activity.record(user);
    }

    /// A session ended after `duration`.
    pub fn session_ended(&self, duration: Duration) {
        self.metrics.sessions().ended(duration);
    }

    /// `user` was active (without starting a session).
    pub fn user_active(&self, user: &str) {
        self.activity.record(user);
    }

    /// Revenue in US dollars.
    pub fn revenue(&self, usd: f64) -> Result<(), RejectReason> {
        self.metrics.business().record_revenue(usd)
    }

    /// A conversion.
    pub fn conversion(&self) {
        self.metrics.business().record_conversion();
    }

    /// A satisfaction rating, 0 to 10.
    pub fn satisfaction(&self, score: f64) -> Result<(), RejectReason> {
        self.metrics.business().record_satisfaction(score)
    }

    /// A quality score, 0 to 100.
    pub fn quality(&self, score: f64) -> Result<(), RejectReason> {
        self.metrics.business().record_quality(score)
    }

    /// The distinct-user backend.
    pub fn activity(&self) -> &Arc<dyn ActivityBackend> {
        &self.activity
    }
}
