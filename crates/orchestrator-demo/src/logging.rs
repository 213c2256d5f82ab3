//! The demo's logs: `tracing_subscriber`'s `fmt` in text or JSON, with `trace_id` and
//! `span_id` on every line written inside a request, and the telemetry's bridge so that
//! the handlers' `#[instrument]`ed steps are spans of the request's trace.
//!
//! The filter (`RUST_LOG`, default `warn`) applies to the log output only: the bridge sees
//! every span, so traces keep their internal spans whatever is printed.

use orchestrator_telemetry::TraceIds;
use orchestrator_telemetry::orchestrator_tower::TracingBridge;
use tracing::Subscriber;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{EnvFilter, Layer, Registry, fmt};

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `fmt`'s text line, ending in ` trace_id=… span_id=…` inside a request.
    #[default]
    Text,
    /// One JSON object per line, with `"trace_id"` and `"span_id"` inside a request.
    Json,
}

/// The subscriber: logs to stderr in `format`, and the bridge when given.
pub fn subscriber(
    format: LogFormat,
    bridge: Option<TracingBridge>,
) -> impl Subscriber + Send + Sync + 'static {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    let logs: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Text => fmt::layer()
            .event_format(TraceIds::text())
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .event_format(TraceIds::json())
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
    };
    tracing_subscriber::registry().with(logs).with(bridge)
}
