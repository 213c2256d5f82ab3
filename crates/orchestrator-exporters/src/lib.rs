//! Exporters of `orchestrator-telemetry`: the Prometheus `/metrics` endpoint and the process
//! collector.
//!
//! - [`MetricsEndpoint::router`]: `GET /metrics` as an axum router, to merge into the
//!   orchestrator's own router. Rendering and gzip run on the blocking pool.
//! - [`MetricsServer`]: the same endpoint on a standalone listener (default
//!   [`DEFAULT_ADDR`]), on its own thread, whether or not the caller runs Tokio.
//! - [`otlp::MetricsPush`]: the same registry pushed over OTLP (gRPC or HTTP/protobuf), the
//!   LLM series under the GenAI semantic conventions' names.
//! - [`ProcessCollector`]: resident memory and the memory limit (cgroup v2, cgroup v1, or
//!   configuration), sampled on an interval.
//!
//! ```no_run
//! use orchestrator_exporters::{MetricsEndpoint, MetricsServer, ProcessCollector, ProcessCollectorConfig};
//! use orchestrator_metrics::Registry;
//!
//! let registry = Registry::new();
//! let _collector = ProcessCollector::start(&registry, ProcessCollectorConfig::default())?;
//! let server = MetricsServer::bind("127.0.0.1:9464", MetricsEndpoint::new(registry).router())?;
//! println!("http://{}/metrics", server.local_addr());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs, unreachable_pub, unsafe_code)]

pub mod auth;
mod encoding;
mod endpoint;
pub mod live;
pub mod otlp;
mod process;
mod server;

pub use endpoint::{ExpositionFormat, MetricsEndpoint, Rendered, metrics_handler};
pub use process::{
    LimitSource, MemoryLimit, ProcessCollector, ProcessCollectorConfig, resident_memory,
};
pub use server::{DEFAULT_ADDR, HEADER_READ_TIMEOUT, MetricsServer, SHUTDOWN_DEADLINE, ServeError};
