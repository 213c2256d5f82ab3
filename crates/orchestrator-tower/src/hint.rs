//! Misconfigurations that lose data silently, said once, loudly:
//! - client calls (or bridged spans outside any request) are recorded but no server request
//!   ever is ([`ServerHint`]): the server layer is most likely missing from the router, and
//!   without it there are no request metrics, every span below a handler starts a trace of
//!   its own, and log lines carry no trace ids. Batch jobs, which serve no requests, turn it
//!   off
//!   ([`TracerBuilder::without_server_layer_hint`](crate::TracerBuilder::without_server_layer_hint));
//! - the bridge is on a subscriber whose global filter hides the spans it would bridge
//!   ([`LevelHint`]): `registry().with(EnvFilter)` or `fmt().with_env_filter(..)` at `warn`
//!   filters `INFO` spans out before any layer sees them, so `#[instrument]` spans never
//!   join traces.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use quanta::Instant;
use tracing::Level;
use tracing::level_filters::LevelFilter;

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
            Operation::Internal | Operation::AgentRun | Operation::ToolCall => {}
            _ => self.client_call(),
        }
    }

    /// The bridge opened a span outside any request: counted like a client call. Once
    /// settled, one relaxed load.
    #[inline]
    pub(crate) fn root_span(&self) {
        if !self.settled.load(Ordering::Relaxed) {
            self.client_call();
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
                "{calls} client calls (LLM, database, cache, external) or spans outside any \
                 request were recorded and no server request: is TelemetryLayer::server on \
                 the router? Without it there are no request metrics, each handler's spans \
                 start traces of their own, and log lines carry no trace ids. A process that \
                 serves no requests (a batch job) turns this off with \
                 .without_server_layer_hint()"
            );
        }
    }
}

/// Checks once, at the first call after a bridge was registered with a dispatcher, that
/// the process's global max level lets the bridge's spans through. The check waits for a
/// call because the global max level is settled only once the subscriber is the default,
/// after the bridge hears of it.
#[derive(Debug, Default)]
pub(crate) struct LevelHint {
    /// The most verbose level a registered bridge bridges, as [`code`]; 0 when there is
    /// nothing to check.
    wanted: AtomicU8,
}

fn code(level: Level) -> u8 {
    match level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

fn filter_of(code: u8) -> LevelFilter {
    match code {
        1 => LevelFilter::ERROR,
        2 => LevelFilter::WARN,
        3 => LevelFilter::INFO,
        4 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

impl LevelHint {
    /// A bridge bridging up to `level` was registered with a dispatcher.
    pub(crate) fn bridge_registered(&self, level: Level) {
        self.wanted.fetch_max(code(level), Ordering::Relaxed);
    }

    /// A call ended. Once checked, one relaxed load.
    #[inline]
    pub(crate) fn check(&self) {
        if self.wanted.load(Ordering::Relaxed) != 0 {
            self.check_now(LevelFilter::current());
        }
    }

    #[cold]
    fn check_now(&self, current: LevelFilter) {
        let wanted = match self.wanted.swap(0, Ordering::Relaxed) {
            0 => return, // checked by another thread
            code => filter_of(code),
        };
        if current >= wanted {
            return;
        }
        let message = format!(
            "the global tracing filter lets only {current} and above through, so {wanted} \
             spans (#[instrument], info_span!) are filtered out before the telemetry's bridge \
             sees them and cannot join traces. Filter the log output on its own layer instead: \
             fmt::layer().with_filter(EnvFilter::from_default_env()), and keep \
             telemetry.tracing_layer() unfiltered"
        );
        if current >= LevelFilter::WARN {
            tracing::warn!("{message}");
        } else {
            // A WARN would be filtered out too.
            eprintln!("WARN orchestrator_tower: {message}");
        }
    }
}

/// Another OpenTelemetry pipeline on the same registry (`tracing-opentelemetry` over the
/// user's provider) that makes its spans in other traces than the layer's: seen by the
/// bridge when a recorded span is entered or left while OpenTelemetry's current span is of
/// another trace, and said once (at the next call's end: an event logged inside a
/// subscriber's callback would be dropped) with the builder call that joins them.
#[derive(Debug, Default)]
pub(crate) struct OtelHint {
    seen: AtomicU8,
}

impl OtelHint {
    /// Whether OpenTelemetry's current span is of another trace than `ours`; checked until
    /// it has been seen once.
    #[inline]
    pub(crate) fn look(&self, ours: opentelemetry::trace::TraceId) {
        use opentelemetry::trace::TraceContextExt as _;
        if self.seen.load(Ordering::Relaxed) != 0 {
            return;
        }
        let theirs = opentelemetry::Context::map_current(|cx| {
            cx.has_active_span()
                .then(|| cx.span().span_context().trace_id())
        });
        if theirs.is_some_and(|t| t != opentelemetry::trace::TraceId::INVALID && t != ours) {
            self.seen.store(1, Ordering::Relaxed);
        }
    }

    /// A call ended: says it once if it was seen.
    #[inline]
    pub(crate) fn report(&self) {
        if self.seen.load(Ordering::Relaxed) == 1 {
            self.say();
        }
    }

    #[cold]
    fn say(&self) {
        if self.seen.swap(2, Ordering::Relaxed) == 1 {
            tracing::warn!(
                "an OpenTelemetry layer (tracing-opentelemetry) on the same registry makes its spans in other traces than the requests': one request becomes two traces. Make the layer's context OpenTelemetry's with Tracer::builder(..).opentelemetry_context(true) (Telemetry::builder().tracing(|t| t.opentelemetry_context(true))), or replace tracing-opentelemetry's layer with the bridge"
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
        LogBuffer::capture(f).1.lines_with("WARN")
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
    fn spans_outside_any_request_count_like_client_calls() {
        let hint = ServerHint::new(true);
        let said = warnings(|| {
            for _ in 0..HINT_AFTER_CALLS / 2 {
                hint.root_span();
                hint.ended(Operation::LlmRequest);
            }
        });
        assert_eq!(said.len(), 1, "{said:?}");
        let served = ServerHint::new(true);
        let said = warnings(|| {
            served.ended(Operation::ApiRequest);
            for _ in 0..500 {
                served.root_span();
            }
        });
        assert!(said.is_empty(), "{said:?}");
    }

    #[test]
    fn said_after_the_window_too() {
        let hint = ServerHint::with_window(true, Duration::ZERO);
        let said = warnings(|| hint.ended(Operation::ExternalApi));
        assert_eq!(said.len(), 1, "{said:?}");
    }

    #[test]
    fn a_level_hint_is_said_once_when_the_filter_hides_the_bridged_level() {
        let hint = LevelHint::default();
        hint.bridge_registered(Level::INFO);
        let said = warnings(|| {
            hint.check_now(LevelFilter::WARN);
            hint.check();
            hint.check_now(LevelFilter::WARN);
        });
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("with_filter(EnvFilter"), "{said:?}");

        let quiet = LevelHint::default();
        quiet.bridge_registered(Level::WARN);
        let never = LevelHint::default();
        let said = warnings(|| {
            quiet.check_now(LevelFilter::WARN);
            never.check_now(LevelFilter::ERROR);
            never.check();
        });
        assert!(said.is_empty(), "{said:?}");
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
