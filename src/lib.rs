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
#[cfg(feature = "prometheus")]
mod metrics_push;
#[cfg(feature = "kpi")]
mod monitor;
#[cfg(feature = "prometheus")]
mod serve;
#[cfg(feature = "traces")]
mod tracer_config;

pub use builder::{Telemetry, TelemetryBuilder};
pub use error::InstallError;
pub use guard::TelemetryGuard;
pub use orchestrator_metrics::{
    Budget, BudgetExceeded, BudgetPeriod, BusinessMetrics, CacheMetrics, CacheOp, CacheResult,
    CallBound, CardinalityGuard, CardinalityLimits, DependencyKind, DependencyMetrics,
    ErrorMetrics, Exemplar, FailMode, GuardedLabel, InvalidBudget, InvalidPrice, LlmCall,
    LlmMetrics, LlmOutcome, Metrics, ModelPrice, Policy, PriceTable, Registry, RejectReason,
    RequestMetrics, Reservation, SERVICE_BUDGET, SessionMetrics, Status, TokenUsage, catalogue,
    exposition,
};

/// The metric catalogue, registry and typed recorders (the `orchestrator-metrics` crate).
pub use orchestrator_metrics;

/// The `metrics` crate (0.24) whose recorder the registry is: `orchestrator_telemetry::metrics::counter!`
/// lands in `/metrics`. A service that names `metrics` itself must use the same major
/// version: a `metrics` 0.23 has a recorder of its own, and its series never appear.
///
/// ```
/// let registry = orchestrator_telemetry::Registry::new();
/// orchestrator_telemetry::metrics::with_local_recorder(&registry, || {
///     orchestrator_telemetry::metrics::counter!("app_documents_indexed_total").increment(1);
/// });
/// assert!(registry.render().contains("app_documents_indexed_total 1"));
/// ```
pub use metrics;

/// `reqwest` (0.13, rustls), the client [`TelemetryMiddleware`] and [`ReqwestService`] wrap.
/// A service's own `reqwest` must be this major version for the middleware to fit its
/// client (`E0277: TelemetryMiddleware<..>: reqwest_middleware::Middleware is not satisfied`
/// is a version mismatch); or use this path.
#[cfg(feature = "reqwest")]
pub use reqwest;

/// `reqwest-middleware` (0.5), whose `ClientBuilder::with` takes [`TelemetryMiddleware`].
#[cfg(feature = "reqwest")]
pub use reqwest_middleware;

/// `tracing-subscriber` (0.3), whose registry takes the bridge ([`TracingBridge`]) as a
/// layer, with its per-layer filters.
#[cfg(feature = "traces")]
pub use tracing_subscriber;

/// `tracing` (0.1), whose spans the bridge joins to traces and whose `Level` its
/// `max_level` takes. Its macros (`info_span!`, `info!`) and `Instrument` work through this
/// path; `#[tracing::instrument]` names the crate `::tracing`, so it needs `tracing = "0.1"`
/// among your own dependencies (any 0.1 is the same crate as this one).
pub use tracing;

/// `axum` (0.8), whose `Router` [`MetricsEndpoint::router`] returns and the server layer wraps.
#[cfg(feature = "prometheus")]
pub use axum;

/// The types of the first hour, at the root: the layer, the adapters, the manual call
/// guards, the sampler and the bridge (their crate's paths keep working).
#[cfg(feature = "traces")]
pub use orchestrator_tower::{
    AgentLimits, AgentRunGuard, AnthropicMessages, BudgetLayer, CacheCallGuard, DatabaseCallGuard,
    ExternalCallGuard, Gemini, GenAiRequest, Llm, LlmAnswer, LlmCallGuard, OpenAiCompatible,
    Sampler, TelemetryLayer, ToolCallGuard, Tracer, TracingBridge, bound_of_body,
};

/// The reqwest middleware and the reqwest client as a tower service.
#[cfg(feature = "reqwest")]
pub use orchestrator_tower::{ReqwestService, TelemetryMiddleware};

/// The `/metrics` endpoint, to merge into the service's own router.
#[cfg(feature = "prometheus")]
pub use orchestrator_exporters::MetricsEndpoint;
/// The OTLP metrics push's settings, for [`TelemetryBuilder::otlp_metrics`].
#[cfg(feature = "prometheus")]
pub use orchestrator_exporters::otlp::{OtlpMetricsConfig, OtlpProtocol, PushOutcome, Temporality};

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

/// Bills the LLM calls made from now on in the current request to a tenant known only once
/// the request is read; see [`orchestrator_tower::set_tenant`].
#[cfg(feature = "traces")]
pub use orchestrator_tower::{Tenant, set_tenant};

/// The outgoing HTTP client (reqwest + rustls), TLS material from files and secrets that
/// never print (the `orchestrator-http` crate).
#[cfg(any(feature = "alerts", feature = "traces", feature = "prometheus"))]
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
