//! The metric catalogue of `orchestrator-telemetry`, the registry that renders it for
//! Prometheus, and the typed recorders an LLM orchestrator calls.
//!
//! - [`catalogue`]: every metric as a documented constant (name, type, unit, help, labels,
//!   buckets). Nothing else spells a metric name.
//! - [`Registry`]: stores series in atomics, one stripe per recording thread (a plain load
//!   and store per number, no shared cache line), and renders the text exposition format. It is
//!   also a `metrics::Recorder`, so `metrics::counter!` in your own code lands beside the
//!   catalogue metrics.
//! - [`Metrics`]: typed recorders ([`RequestMetrics`], [`LlmMetrics`], [`CacheMetrics`],
//!   [`SessionMetrics`], ...). Handles are resolved once and cached; after warm-up recording
//!   neither allocates nor formats.
//! - [`CardinalityGuard`]: every label value that can come from outside is bounded.
//! - [`exposition`]: a parser for the text format, to read back what was rendered.
//!
//! ```
//! use std::time::Duration;
//! use orchestrator_metrics::{Metrics, Registry, exposition};
//!
//! let registry = Registry::new();
//! let metrics = Metrics::new(&registry);
//! metrics.requests().record("/v1/chat", "POST", 200, Duration::from_millis(95));
//!
//! let parsed = exposition::parse(&registry.render())?;
//! assert_eq!(parsed.sum("orchestrator_requests_total"), Some(1.0));
//! # Ok::<(), exposition::ParseError>(())
//! ```
#![deny(missing_docs, unreachable_pub, unsafe_code)]

mod budget;
pub mod catalogue;
mod cost;
pub mod exposition;
mod guard;
mod hashing;
mod recorders;
mod registry;
mod reject;

pub use budget::{
    Budget, BudgetExceeded, BudgetKey, BudgetPeriod, BudgetStore, CallBound,
    DEFAULT_RESERVED_OUTPUT_TOKENS, FailMode, InvalidBudget, Policy, Reservation, SERVICE_BUDGET,
    StoreAdmit, StoreError,
};
pub use cost::{InvalidPrice, MAX_TOKENS_PER_CALL, ModelPrice, PriceTable, TokenUsage};
pub use guard::{CardinalityGuard, CardinalityLimits, GuardedLabel, LabelPolicy, OTHER};
pub use recorders::{
    AgentHandles, AgentLimit, AgentMetrics, BusinessMetrics, CacheMetrics, CacheOp, CacheResult,
    DependencyKind, DependencyMetrics, ErrorMetrics, LlmCall, LlmMetrics, LlmOutcome, Metrics,
    MetricsBuilder, RequestMetrics, RunOutcome, SessionMetrics, SessionTimer, Status,
    TenantMetrics, ToolHandles, UsageSource,
};
pub use registry::{
    BucketExemplar, CONTENT_TYPE, CounterHandle, DEFAULT_BUCKETS, Exemplar, FamilyRef, GaugeHandle,
    HistogramHandle, OPENMETRICS_CONTENT_TYPE, OpenMetricsOptions, Registry, RegistryError,
    SeriesRef,
};
pub use reject::RejectReason;
