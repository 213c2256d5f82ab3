//! Delivering alerts: sinks, each behind a bounded queue on a thread of its own with
//! retries (exponential backoff, full jitter, a cap), so a sink that is down or slow never
//! blocks evaluation (or anything on the request path). What cannot be delivered is dropped
//! and counted in `orchestrator_telemetry_dropped_total{queue="alert_notifications"}`.
//!
//! Sinks: [`LogSink`], [`WebhookSink`], [`AlertmanagerSink`], and the direct channels
//! [`SlackSink`], [`PagerDutySink`] and [`EmailSink`] (routed by severity with
//! [`crate::generate::Routing`]). Every HTTP sink uses `orchestrator-http`'s client: an
//! overall deadline per attempt, a 1 MiB cap on the answer, no redirects, rustls.

mod alertmanager;
mod dispatch;
mod email;
mod facts;

pub(crate) use facts::format_value;
mod log;
mod pagerduty;
mod slack;
mod webhook;

use std::time::Duration;

pub use alertmanager::AlertmanagerSink;
pub use dispatch::Dispatcher;
pub use email::{EmailSink, EmailSinkBuilder, SmtpError};
pub use log::LogSink;
use orchestrator_http::HttpError;
use orchestrator_support::Millis;
pub use pagerduty::{PAGERDUTY_EVENTS_URL, PagerDutySink};
pub use slack::SlackSink;
pub use webhook::WebhookSink;

use crate::Unit;
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
    /// The condition's value: while firing, at the last evaluation; once resolved, at the
    /// resolution, or the last firing value when `value_is_last_firing` says so.
    pub value: f64,
    /// For a resolved alert, whether `value` is the last firing value because the rule's
    /// value had no series at the resolution (no traffic, say, or a rule without a
    /// separate comparison).
    pub value_is_last_firing: bool,
    /// The unit of `value`, which the messages print it in.
    pub unit: Unit,
    /// The rule's condition, as PromQL.
    pub condition: String,
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

    /// An annotation's value.
    pub fn annotation(&self, name: &str) -> Option<&str> {
        self.annotations
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

    /// Whether it wants this notification (a routed sink takes only its severities).
    fn accepts(&self, _notification: &Notification) -> bool {
        true
    }

    /// Delivers a batch; a retryable error is retried by the dispatcher.
    fn deliver(&self, batch: &[Notification]) -> Result<(), DeliveryError>;
}

/// Why a delivery failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    /// What happened (never a secret: no webhook path, key or password).
    pub message: String,
    /// Whether a later attempt may succeed (a connection refused, a deadline, HTTP 429 or
    /// 5xx, an SMTP 4xx reply).
    pub retryable: bool,
    /// The server's reply code, when it gave one (an HTTP status, an SMTP reply code).
    pub code: Option<u16>,
}

impl DeliveryError {
    /// A failure worth retrying.
    pub fn retryable(message: impl Into<String>) -> Self {
        DeliveryError {
            message: message.into(),
            retryable: true,
            code: None,
        }
    }

    /// A failure that will happen again (a refused recipient, a bad key, a TLS error).
    pub fn permanent(message: impl Into<String>) -> Self {
        DeliveryError {
            message: message.into(),
            retryable: false,
            code: None,
        }
    }
}

impl From<HttpError> for DeliveryError {
    fn from(err: HttpError) -> Self {
        DeliveryError {
            retryable: err.is_retryable(),
            code: err.status(),
            message: err.to_string(),
        }
    }
}

/// Retries of a failed delivery: exponential backoff with full jitter (each wait is drawn
/// uniformly between zero and `min(max_backoff, backoff × 2^attempt)`), and how long a
/// dispatcher's shutdown waits for what is queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per batch, the first included.
    pub attempts: u32,
    /// The ceiling of the first wait; it doubles after each further failure.
    pub backoff: Duration,
    /// The largest ceiling of a wait.
    pub max_backoff: Duration,
    /// Batches waiting per sink; further ones are dropped and counted.
    pub queue: usize,
    /// How long [`Dispatcher::shutdown`] waits for queued notifications. A sink still busy
    /// then is abandoned: what it holds is counted as dropped.
    pub shutdown_deadline: Duration,
}

impl Default for RetryPolicy {
    /// Four attempts, waits drawn under 0.5 s, 1 s, 2 s (30 s at most); 64 batches queued
    /// per sink; shutdown waits 5 s.
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            queue: 64,
            shutdown_deadline: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The ceiling of the wait after failed attempt `attempt` (1-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}
