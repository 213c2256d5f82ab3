//! Outcome classification: how a call ended, and whether that is a failure.

use std::time::Duration;

use orchestrator_metrics::LlmOutcome;

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The call completed; for HTTP, with this status code.
    Completed(Option<u16>),
    /// The call failed, for this reason.
    Failed(ErrorKind),
    /// The caller dropped the call (or the response body) before it finished.
    Cancelled,
}

/// Why a call failed; [`as_str`](Self::as_str) is its `error.type` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The callee refused the call for rate limiting (HTTP 429, a provider's rate-limit
    /// error): `rate_limited`.
    RateLimited,
    /// The call outlived its deadline: `timeout`.
    Timeout,
    /// The callee answered a 4xx other than 429: `client_error`.
    ClientError,
    /// The callee answered this 5xx status: its code (`503`), `_OTHER` past 511.
    Status(u16),
    /// A stream ended before its last event: `incomplete_stream`.
    IncompleteStream,
    /// An error the callee named itself (an error event in a 200 stream: `provider_error`,
    /// Anthropic's `overloaded_error`...), or one named by the caller of
    /// [`CallGuard::fail`](crate::CallGuard::fail).
    Named(&'static str),
    /// None of the above: `_OTHER`, the semantic conventions' fallback.
    Other,
}

impl ErrorKind {
    /// The `error.type` attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Timeout => "timeout",
            ErrorKind::ClientError => "client_error",
            ErrorKind::Status(code) => status_str(code),
            ErrorKind::IncompleteStream => "incomplete_stream",
            ErrorKind::Named(name) => name,
            ErrorKind::Other => OTHER_ERROR,
        }
    }
}

impl Outcome {
    /// The outcome of an HTTP response: 5xx answers are failures of the callee.
    pub fn from_status(status: u16) -> Self {
        if (500..=599).contains(&status) {
            Outcome::Failed(ErrorKind::Status(status))
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
            Outcome::Failed(kind) => Some(kind.as_str()),
            Outcome::Cancelled => Some("cancelled"),
        }
    }
}

/// How an LLM call ended, for its metrics: a rate limit and a timeout keep their meaning,
/// every other failure is an error.
impl From<&Outcome> for LlmOutcome {
    fn from(outcome: &Outcome) -> Self {
        match outcome {
            Outcome::Completed(_) => LlmOutcome::Success,
            Outcome::Failed(ErrorKind::RateLimited) => LlmOutcome::RateLimited,
            Outcome::Failed(ErrorKind::Timeout) => LlmOutcome::Timeout,
            Outcome::Failed(_) => LlmOutcome::Error,
            Outcome::Cancelled => LlmOutcome::Cancelled,
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
        assert_eq!(
            Outcome::from_status(503),
            Outcome::Failed(ErrorKind::Status(503))
        );
        assert_eq!(Outcome::from_status(503).error_type(), Some("503"));
        assert_eq!(Outcome::from_status(404), Outcome::Completed(Some(404)));
        assert_eq!(Outcome::from_status(599).error_type(), Some(OTHER_ERROR));
        assert_eq!(
            LlmOutcome::from(&Outcome::Failed(ErrorKind::RateLimited)),
            LlmOutcome::RateLimited
        );
        assert_eq!(
            LlmOutcome::from(&Outcome::Failed(ErrorKind::Named("rate_limited"))),
            LlmOutcome::Error,
            "a name is only a name"
        );
        assert!(!Outcome::Cancelled.is_failure());
    }
}
