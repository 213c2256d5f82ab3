//! Metrics over OTLP: the registry pushed to any OpenTelemetry backend (an OpenTelemetry
//! Collector, Grafana Cloud's OTLP gateway, Honeycomb, Datadog, ...), cumulative or delta,
//! with exemplars, the LLM series under the GenAI semantic conventions' names.
//!
//! Why the request is built here and not by `opentelemetry_sdk`'s metrics pipeline with
//! `opentelemetry-otlp`'s `MetricExporter`: the SDK's data types
//! (`ResourceMetrics`, `Sum`, `Histogram`...) cannot be made outside the SDK (their fields
//! are private to it), so the exporter can only be fed by SDK instruments, which would
//! record every observation a second time; and the SDK has no observable histogram to read
//! our histograms through. The registry already holds every value the request needs, so
//! the push reads it directly, like a scrape does, and sends the `opentelemetry-proto`
//! request over the transports the trace export uses (tonic, reqwest, rustls).
//!
//! ```no_run
//! use std::time::Duration;
//! use orchestrator_exporters::otlp::{MetricsPush, OtlpMetricsConfig, OtlpProtocol};
//! use orchestrator_metrics::Registry;
//!
//! let registry = Registry::new();
//! let mut config = OtlpMetricsConfig::new("http://collector:4318", OtlpProtocol::HttpProtobuf);
//! config.interval = Duration::from_secs(15);
//! let push = MetricsPush::start(config, &registry, &[("service.name".into(), "orchestrator".into())])?;
//! // ... serve; at exit, one more push:
//! push.shutdown();
//! # Ok::<(), orchestrator_exporters::otlp::MetricsConfigError>(())
//! ```

mod config;
mod convert;
mod push;
mod resource;
mod transport;

pub use config::{
    MetricsConfigError, MetricsExporters, OtlpMetricsConfig, OtlpProtocol, Temporality,
};
pub use convert::{Built, Converter};
pub use push::{MetricsPush, PushOutcome};
pub use resource::resource_from_vars;
