//! Says once, loudly, when client calls are recorded but no server request ever is: the
//! server layer is most likely missing from the router, and without it there are no request
//! metrics, every span below a handler starts a trace of its own, and log lines carry no
//! trace ids. Batch jobs, which serve no requests, turn it off
//! ([`TracerBuilder::without_server_layer_hint`](crate::TracerBuilder::without_server_layer_hint)).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use quanta::Instant;

use crate::span::Operation;

/// Client calls without a server request before the hint is given.
pub(crate) const HINT_AFTER_CALLS: u64 = 100;
/// Or this long after the first such call.
pub(crate) const HINT_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub(crate) struct ServerHint {
    /// Settled: a server request was seen, the hint was given, or it is off.
    settled: AtomicBool,
    calls: AtomicU64,
    first: OnceLock<Instant>,
    after: Duration,
}

impl ServerHint {
    pub(crate) fn new(enabled: bool) -> Self {
        Self::with_window(enabled, HINT_AFTER)
    }

    /// As [`new`](Self::new), with the time after which the hint is given (a test seam).
    pub(crate) fn with_window(enabled: bool, after: Duration) -> Self {
        ServerHint {
            settled: AtomicBool::new(!enabled),
            calls: AtomicU64::new(0),
            first: OnceLock::new(),
            after,
        }
    }

    /// A call of `operation` ended. Once settled, one relaxed load.
    #[inline]
    pub(crate) fn ended(&self, operation: Operation) {
        if self.settled.load(Ordering::Relaxed) {
            return;
        }
        match operation {
            Operation::ApiRequest => self.settled.store(true, Ordering::Relaxed),
            Operation::Internal => {}
            _ => self.client_call(),
        }
    }

    #[cold]
    fn client_call(&self) {
        let calls = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let first = *self.first.get_or_init(Instant::now);
        if (calls >= HINT_AFTER_CALLS || first.elapsed() >= self.after)
            && !self.settled.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                client_calls = calls,
                "{calls} client calls (LLM, database, cache, external) were recorded and no \
                 server request: is TelemetryLayer::server on the router? Without it there are \
                 no request metrics, each handler's spans start traces of their own, and log \
                 lines carry no trace ids. A process that serves no requests (a batch job) \
                 turns this off with .without_server_layer_hint()"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use orchestrator_testkit::logs::LogBuffer;

    use super::*;

    /// The warnings `f` logs.
    fn warnings(f: impl FnOnce()) -> Vec<String> {
        let logs = LogBuffer::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        logs.lines_with("WARN")
    }

    #[test]
    fn said_once_after_a_hundred_client_calls_without_a_server() {
        let hint = ServerHint::new(true);
        let said = warnings(|| {
            for _ in 0..HINT_AFTER_CALLS - 1 {
                hint.ended(Operation::LlmRequest);
            }
        });
        assert!(said.is_empty(), "{said:?}");
        let said = warnings(|| {
            for _ in 0..500 {
                hint.ended(Operation::DatabaseQuery);
            }
        });
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("TelemetryLayer::server"), "{said:?}");
    }

    #[test]
    fn said_after_the_window_too() {
        let hint = ServerHint::with_window(true, Duration::ZERO);
        let said = warnings(|| hint.ended(Operation::ExternalApi));
        assert_eq!(said.len(), 1, "{said:?}");
    }

    #[test]
    fn quiet_with_a_server_or_when_off() {
        let served = ServerHint::new(true);
        let off = ServerHint::new(false);
        let said = warnings(|| {
            served.ended(Operation::ApiRequest);
            for _ in 0..500 {
                served.ended(Operation::LlmRequest);
                off.ended(Operation::LlmRequest);
                served.ended(Operation::Internal);
            }
        });
        assert!(said.is_empty(), "{said:?}");
    }
}
