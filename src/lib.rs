//! `orchestrator-telemetry`: Prometheus metrics, business KPIs, alerting, tracing and
//! dashboards for an LLM orchestrator, from one dependency.
//!
//! ```no_run
//! use std::time::Duration;
//! use orchestrator_telemetry::{LlmCall, LlmOutcome, Telemetry, TokenUsage};
//!
//! let telemetry = Telemetry::builder().listen("127.0.0.1:9464").install()?;
//! let metrics = telemetry.metrics();
//! metrics.requests().record("/v1/chat", "POST", 200, Duration::from_millis(140));
//! metrics.llm().record(
//!     &LlmCall::new("openai", "gpt-4o-mini", LlmOutcome::Success, Duration::from_millis(900))
//!         .with_usage(TokenUsage::new(512, 128)),
//! );
//! // Prometheus scrapes http://127.0.0.1:9464/metrics; `metrics::counter!` works too.
//! telemetry.shutdown();
//! # Ok::<(), orchestrator_telemetry::InstallError>(())
//! ```
//!
//! Tests and embedded uses call [`TelemetryBuilder::build`] instead of `install`: same
//! setup, no global state, so any number can run side by side.
#![deny(missing_docs, unreachable_pub, unsafe_code)]

mod builder;
mod error;
mod guard;
#[cfg(feature = "prometheus")]
mod live;
#[cfg(all(feature = "prometheus", feature = "traces"))]
mod live_traces;
#[cfg(feature = "kpi")]
mod monitor;
#[cfg(feature = "prometheus")]
mod serve;
#[cfg(feature = "traces")]
mod tracing;

pub use builder::{Telemetry, TelemetryBuilder};
pub use error::InstallError;
pub use guard::TelemetryGuard;
pub use orchestrator_metrics::{
    Budget, BudgetPeriod, BusinessMetrics, CacheMetrics, CacheOp, CacheResult, CardinalityGuard,
    CardinalityLimits, DependencyKind, DependencyMetrics, ErrorMetrics, Exemplar, GuardedLabel,
    InvalidBudget, InvalidPrice, LlmCall, LlmMetrics, LlmOutcome, Metrics, ModelPrice, PriceTable,
    Registry, RejectReason, RequestMetrics, SERVICE_BUDGET, SessionMetrics, Status, TokenUsage,
    catalogue, exposition,
};

/// The metric catalogue, registry and typed recorders (the `orchestrator-metrics` crate).
pub use orchestrator_metrics;

/// The query language and its two interpreters (the `orchestrator-query` crate).
#[cfg(feature = "kpi")]
pub use orchestrator_query;

/// The injectable clock, RFC 3339 timestamps and the YAML writer (the
/// `orchestrator-support` crate).
#[cfg(feature = "kpi")]
pub use orchestrator_support;

/// Business KPIs and distinct users (the `orchestrator-kpi` crate).
#[cfg(feature = "kpi")]
pub use orchestrator_kpi;

/// Alert rules, their evaluator and sinks, and the Prometheus and Alertmanager generators
/// (the `orchestrator-alerts` crate).
#[cfg(feature = "alerts")]
pub use orchestrator_alerts;

/// The tower middleware, sampling, OTLP export and trace store (the `orchestrator-tower`
/// crate).
#[cfg(feature = "traces")]
pub use orchestrator_tower;

#[cfg(feature = "traces")]
pub use orchestrator_tower::{TraceFutureExt, TraceIds, in_current_trace};

/// The outgoing HTTP client (reqwest + rustls), TLS material from files and secrets that
/// never print (the `orchestrator-http` crate).
#[cfg(any(feature = "alerts", feature = "traces"))]
pub use orchestrator_http;

/// The typed documents of the live page's `/api/v1` (the `orchestrator-api` crate).
#[cfg(feature = "prometheus")]
pub use orchestrator_api;

/// The `/metrics` endpoint and process collector (the `orchestrator-exporters` crate).
#[cfg(feature = "prometheus")]
pub use orchestrator_exporters;

// The README's Rust snippets compile as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
