//! A `tower` middleware for LLM orchestrators: metrics for every request, spans for sampled
//! ones, OTLP export, and an embedded trace store with its analysis.
//!
//! One [`TelemetryLayer`] serves as server middleware (the API request, root of the trace)
//! and around clients: LLM providers ([`Llm`], with the GenAI semantic conventions),
//! databases ([`Database`]), caches ([`Cache`]) and external APIs ([`External`]).
//!
//! - **Metrics for 100 %.** Every call is recorded through the typed recorders of
//!   `orchestrator-metrics`, sampled or not; a call dropped before it ends is recorded as
//!   cancelled.
//! - **Sampling before span work.** The parent-based trace-id ratio (10 % by default, or
//!   `OTEL_TRACES_SAMPLER`/`OTEL_TRACES_SAMPLER_ARG`) is decided first. An unsampled request
//!   builds no span and allocates nothing for tracing (client requests still carry a
//!   `traceparent`, whose header value is allocated).
//! - **Keep errors and slow requests** (opt-in): the decision is deferred to the end of the
//!   root span; see [`KeepErrorsAndSlow`] for the memory bound.
//! - **Export** over OTLP/gRPC or OTLP/HTTP-protobuf with `opentelemetry-otlp`, from a
//!   bounded queue whose drops are counted in `orchestrator_telemetry_dropped_total{queue="spans"}`,
//!   on a thread with its own runtime (see [`OtlpConfig`]).
//! - **Embedded default**: the most recent sampled traces in a [`TraceStore`], analysed by
//!   [`TraceAnalysis`].
//! - **Agents and tools**: [`Tracer::agent_run`] and [`Tracer::tool_call`] (or `tracing`
//!   spans with the GenAI fields, through the bridge) record `invoke_agent` and
//!   `execute_tool` spans and the agent metrics; every LLM call made inside a run is one of
//!   its steps and its spend is the agent's, with no allocation on the unsampled path.
//!
//! ```
//! use axum::{Router, routing::post};
//! use orchestrator_metrics::{Metrics, Registry};
//! use orchestrator_tower::{Sampler, TelemetryLayer, Tracer};
//!
//! let registry = Registry::new();
//! let tracer = Tracer::builder(Metrics::new(&registry))
//!     .sampler(Sampler::parent_based_ratio(0.1)?)
//!     .from_env()? // OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_* when set
//!     .build()?;
//! let app: Router = Router::new()
//!     .route("/v1/chat", post(|| async { "hello" }))
//!     .layer(TelemetryLayer::server(&tracer));
//! # drop(app);
//! println!("{}", tracer.analysis());
//! tracer.shutdown()?; // exports what is queued
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod agent;
mod analysis;
pub mod bridge;
mod budget;
mod call;
mod cap;
mod classify;
mod context;
mod export;
mod feedback;
mod forced;
mod future;
mod hint;
mod kind;
mod layer;
mod llm_answer;
mod pending;
pub mod propagation;
mod redact;
#[cfg(feature = "reqwest")]
mod reqwest;
mod sampling;
mod scope;
mod service;
mod span;
mod store;
mod tracer;

#[cfg(feature = "reqwest")]
pub use crate::reqwest::{ReqwestService, TelemetryMiddleware};
pub use agent::{
    AgentConfigError, AgentLimits, AgentRunCall, AgentRunGuard, LLM_COST_ATTRIBUTE, Lineage,
    MAX_NAME_BYTES, ToolCallGuard, ToolCallState,
};
pub use analysis::{OperationStats, TraceAnalysis};
pub use bridge::{SpanLimits, TraceIds, TracingBridge};
pub use budget::{BudgetLayer, BudgetService, bound_of_body};
pub use call::{CacheCallGuard, CallGuard, DatabaseCallGuard, ExternalCallGuard, LlmCallGuard};
pub use classify::{Ended, ErrorKind, OTHER_ERROR, Outcome};
pub use context::{
    InvalidSpanContext, TraceContext, current, new_span_id, new_trace_id, set_tenant,
};
pub use export::{
    BatchConfig, ExportConfigError, ExportFailure, OtlpConfig, Protocol, QueueProcessor,
};
pub use feedback::Feedback;
pub use forced::DEFAULT_MAX_FORCED_PER_SECOND;
pub use future::ResponseFuture;
pub use kind::{
    AnthropicMessages, AnthropicObserver, Cache, CacheCall, CacheRequest, CacheResponse, CallState,
    Database, DatabaseCall, DbOperation, External, ExternalCall, Gemini, GeminiObserver, GenAi,
    GenAiRequest, GenAiResponse, Kind, Llm, LlmBody, LlmCallState, MAX_BUFFERED, MAX_CONTENT_BYTES,
    MAX_MODEL_BYTES, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, OnRequest, OnResponse,
    OpenAiCompatible, OpenAiObserver, Progress, ResponseObserver, Server, ServerCall, Tenant,
    ToolCall, UNMATCHED, UsageEstimator,
};
pub use layer::TelemetryLayer;
pub use llm_answer::LlmAnswer;
pub use opentelemetry::trace::{SpanId, TraceId};
pub use orchestrator_metrics::{BudgetExceeded, CallBound};
pub use pending::Pending;
pub use redact::{Redaction, pii_redaction, redact_pii};
pub use sampling::{
    DEFAULT_RATIO, OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, Sampler, SamplerError,
};
pub use scope::{InTrace, TraceFutureExt, in_current_trace};
pub use service::TelemetryService;
pub use span::{Operation, SpanRecord};
pub use store::{DEFAULT_STORE_CAPACITY, Trace, TraceStore};
pub use tracer::{BufferLimits, KeepErrorsAndSlow, Tracer, TracerBuilder, TracerError};

/// Reads a configuration variable by name: [`std::env::var`] for the `from_env`
/// constructors, a map in tests.
pub use orchestrator_http::otel_env::Lookup;

pub(crate) use orchestrator_http::otel_env::env_lookup;
