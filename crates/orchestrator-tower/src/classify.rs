//! Outcome classification: how a call ended, and whether that is a failure.

use std::time::Duration;

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The call completed; for HTTP, with this status code.
    Completed(Option<u16>),
    /// The call failed; the `error.type` value (`timeout`, `rate_limited`, `500`, `_OTHER`...).
    Failed(&'static str),
    /// The caller dropped the call (or the response body) before it finished.
    Cancelled,
}

impl Outcome {
    /// The outcome of an HTTP response: 5xx answers are failures of the callee.
    pub fn from_status(status: u16) -> Self {
        if (500..=599).contains(&status) {
            Outcome::Failed(status_str(status))
        } else {
            Outcome::Completed(Some(status))
        }
    }

    /// Whether the call failed (not counting cancellations).
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failed(_))
    }

    /// The `error.type` attribute value, for failed and cancelled calls.
    pub fn error_type(&self) -> Option<&'static str> {
        match self {
            Outcome::Completed(_) => None,
            Outcome::Failed(kind) => Some(kind),
            Outcome::Cancelled => Some("cancelled"),
        }
    }
}

/// The fallback `error.type` of the OpenTelemetry semantic conventions.
pub const OTHER_ERROR: &str = "_OTHER";

/// The status code as a static string, for `error.type` (5xx codes only; others `_OTHER`).
pub fn status_str(status: u16) -> &'static str {
    const CODES: [&str; 12] = [
        "500", "501", "502", "503", "504", "505", "506", "507", "508", "509", "510", "511",
    ];
    match status {
        500..=511 => CODES[usize::from(status - 500)],
        _ => OTHER_ERROR,
    }
}

/// How a call ended, and how long it took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ended {
    /// The outcome.
    pub outcome: Outcome,
    /// From the call to the end of the response (for streamed bodies, the last chunk).
    pub duration: Duration,
    /// The trace and span of a sampled call, for the exemplars of its latency histograms
    /// (`None` when the call is not sampled).
    pub exemplar: Option<orchestrator_metrics::Exemplar>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_fail_others_complete() {
        assert_eq!(Outcome::from_status(503), Outcome::Failed("503"));
        assert_eq!(Outcome::from_status(404), Outcome::Completed(Some(404)));
        assert_eq!(Outcome::from_status(599).error_type(), Some(OTHER_ERROR));
        assert!(!Outcome::Cancelled.is_failure());
    }
}
