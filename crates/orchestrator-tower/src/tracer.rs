//! The tracer: the sampler, the metrics, and where finished spans go (the assembly buffer,
//! the embedded store, the OTLP queue).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use orchestrator_metrics::{CounterHandle, Metrics};

use crate::analysis::TraceAnalysis;
use crate::bridge::TracingBridge;
use crate::export::{Drops, ExportConfigError, Exporter};
use crate::forced::{DEFAULT_MAX_FORCED_PER_SECOND, ForcedLimit};
use crate::hint::{LevelHint, OtelHint, ServerHint};
use crate::sampling::{Sampler, SamplerError};
use crate::span::{Operation, SpanRecord};
use crate::store::{DEFAULT_STORE_CAPACITY, Trace, TraceStore};

mod builder;
pub use builder::TracerBuilder;

/// Why a tracer could not be built or shut down cleanly.
#[derive(Debug, thiserror::Error)]
pub enum TracerError {
    /// The sampler configuration is invalid.
    #[error(transparent)]
    Sampler(#[from] SamplerError),
    /// The export configuration is invalid, or the exporter could not start.
    #[error(transparent)]
    Export(#[from] ExportConfigError),
    /// The registry refused the drop counter.
    #[error("the span drop counter could not be registered: {0}")]
    Registry(#[source] orchestrator_metrics::RegistryError),
    /// An agent limit or the `keep_expensive` threshold cannot be observed.
    #[error(transparent)]
    Agent(#[from] crate::agent::AgentConfigError),
    /// Shutdown did not finish within its timeout; queued spans may be lost.
    #[error("the OTLP exporter did not finish within its timeout")]
    ShutdownTimedOut,
}

/// The opt-in tail policy: keep every trace whose root failed or took at least `slow`, in
/// addition to the ratio.
///
/// Under it, every request is recorded, not only sampled ones, and its spans wait in the
/// assembly buffer until the root ends. Memory is bounded by
/// `max_pending_traces × max_spans_per_trace` spans (default 1024 × 64, about 65 536 spans
/// of roughly 0.5 KiB, so ~32 MiB at worst); spans beyond it are dropped and counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeepErrorsAndSlow {
    /// A root span at least this long keeps its trace.
    pub slow: Duration,
}

/// Bounds of the buffer where a trace's spans wait for its root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferLimits {
    /// Traces waiting at once.
    pub max_pending_traces: usize,
    /// Spans per trace.
    pub max_spans_per_trace: usize,
    /// A trace whose root has not ended after this long is evicted when room is needed.
    pub max_age: Duration,
}

impl Default for BufferLimits {
    fn default() -> Self {
        BufferLimits {
            max_pending_traces: 1024,
            max_spans_per_trace: 64,
            max_age: Duration::from_secs(60),
        }
    }
}

struct Partial {
    spans: Vec<SpanRecord>,
    since: Instant,
}

struct Inner {
    sampler: Sampler,
    keep: Option<KeepErrorsAndSlow>,
    limits: BufferLimits,
    metrics: Metrics,
    assembling: Mutex<HashMap<[u8; 16], Partial>>,
    store: TraceStore,
    exporter: Option<Exporter>,
    drops: Drops,
    attribute_drops: CounterHandle,
    forced: ForcedLimit,
    forced_drops: CounterHandle,
    server_hint: ServerHint,
    level_hint: LevelHint,
    otel_hint: OtelHint,
    records_content: bool,
    share_otel: bool,
    keep_expensive: Option<f64>,
    agent_limits: HashMap<Box<str>, crate::agent::Limits>,
    runs: Arc<crate::agent::RunPool>,
}

impl Inner {
    /// Spans still waiting for their root at shutdown will never be kept: count them.
    fn drop_assembling(&self) {
        let mut assembling = self
            .assembling
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let waiting: usize = assembling.drain().map(|(_, p)| p.spans.len()).sum();
        self.drops.add(waiting);
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.drop_assembling();
        if let Some(exporter) = &self.exporter {
            exporter.shutdown();
        }
    }
}

/// Records calls: metrics for every one, spans for sampled ones. Cheap to clone; the
/// last clone dropped flushes the exporter.
#[derive(Clone)]
pub struct Tracer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("sampler", &self.inner.sampler)
            .field("keep", &self.inner.keep)
            .field("exporting", &self.inner.exporter.is_some())
            .finish_non_exhaustive()
    }
}

impl Tracer {
    /// A builder recording metrics through `metrics`.
    pub fn builder(metrics: Metrics) -> TracerBuilder {
        TracerBuilder {
            metrics,
            sampler: Sampler::default(),
            keep: None,
            limits: BufferLimits::default(),
            store_capacity: DEFAULT_STORE_CAPACITY,
            otlp: None,
            service_name: None,
            instance_id: None,
            max_forced: DEFAULT_MAX_FORCED_PER_SECOND,
            server_hint: true,
            content: (None, None),
            share_otel: false,
            keep_expensive: None,
            agent_limits: Vec::new(),
        }
    }

    /// The head sampler.
    pub fn sampler(&self) -> &Sampler {
        &self.inner.sampler
    }

    /// Whether the keep-errors-and-slow policy is on.
    pub fn keeps_errors(&self) -> bool {
        self.inner.keep.is_some()
    }

    /// Whether traces wait for their root's end to be kept or not (a tail policy: errors
    /// and slow ones, expensive ones): every request is then recorded.
    pub(crate) fn defers_decision(&self) -> bool {
        self.inner.keep.is_some() || self.inner.keep_expensive.is_some()
    }

    /// The limits configured for agent `name` (none by default).
    pub(crate) fn agent_limits_of(&self, name: &str) -> crate::agent::Limits {
        let limits = &self.inner.agent_limits;
        // No configured limit, no hashing of the name.
        if limits.is_empty() {
            return crate::agent::Limits::default();
        }
        limits.get(name).copied().unwrap_or_default()
    }

    /// Whether an agent's spend limit is enforced (`AgentLimits::enforce_cost`).
    pub(crate) fn enforces_agent_cost(&self) -> bool {
        self.inner.agent_limits.values().any(|l| l.enforce_cost)
    }

    /// The pool of agent runs' states.
    pub(crate) fn run_pool(&self) -> &Arc<crate::agent::RunPool> {
        &self.inner.runs
    }

    /// A call of `operation` ended (the server-layer hint counts them; the first one after
    /// a bridge was registered checks the global filter).
    #[inline]
    pub(crate) fn call_ended(&self, operation: Operation) {
        self.inner.server_hint.ended(operation);
        self.inner.level_hint.check();
        self.inner.otel_hint.report();
    }

    /// The bridge entered or left a recorded span of trace `ours`: is another OpenTelemetry
    /// pipeline making spans in other traces? Nothing to check when the layer's context is
    /// OpenTelemetry's.
    #[inline]
    pub(crate) fn look_for_other_pipelines(&self, ours: opentelemetry::trace::TraceId) {
        if !self.inner.share_otel {
            self.inner.otel_hint.look(ours);
        }
    }

    /// The bridge opened a root span, outside any traced call (the server-layer hint counts
    /// them).
    #[inline]
    pub(crate) fn root_span_opened(&self) {
        self.inner.server_hint.root_span();
    }

    /// A bridge of this tracer, bridging up to `level`, was registered with a dispatcher.
    pub(crate) fn bridge_registered(&self, level: tracing::Level) {
        self.inner.level_hint.bridge_registered(level);
    }

    /// The metrics recorders.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The embedded store of recent traces.
    pub fn store(&self) -> &TraceStore {
        &self.inner.store
    }

    /// The analysis of the stored traces.
    pub fn analysis(&self) -> TraceAnalysis {
        self.inner.store.analysis()
    }

    /// Whether spans are exported over OTLP.
    pub fn is_exporting(&self) -> bool {
        self.inner.exporter.is_some()
    }

    /// Spans lost so far: queue full, buffer full, or export failed.
    pub fn dropped_spans(&self) -> u64 {
        self.inner.drops.count.load(Ordering::Relaxed)
    }

    /// Spans exported successfully so far.
    pub fn exported_spans(&self) -> u64 {
        self.inner.exporter.as_ref().map_or(0, Exporter::exported)
    }

    /// The last OTLP export that failed (its time and error), if any did: with
    /// [`exported_spans`](Self::exported_spans) and [`dropped_spans`](Self::dropped_spans),
    /// the export health the live page's `/api/v1/traces` shows.
    pub fn last_export_error(&self) -> Option<crate::export::ExportFailure> {
        self.inner.exporter.as_ref().and_then(Exporter::last_error)
    }

    /// A span processor for an OpenTelemetry SDK provider of the user's
    /// (`SdkTracerProvider::builder().with_span_processor(..)`): the spans that
    /// `tracing-opentelemetry` or the OpenTelemetry API finish are exported through this
    /// tracer's queue when it exports, with its OTLP settings, counted and dropped like its
    /// own, and shown in their trace in the embedded store (the live page) when the trace
    /// is there.
    pub fn span_processor(&self) -> crate::export::QueueProcessor {
        crate::export::QueueProcessor::new(self.clone())
    }

    /// A span another pipeline finished (see [`Tracer::span_processor`]).
    pub(crate) fn export_span(&self, span: opentelemetry_sdk::trace::SpanData) {
        self.inner
            .store
            .push_foreign(SpanRecord::from_span_data(&span));
        if let Some(exporter) = &self.inner.exporter {
            exporter.send_span(span);
        }
    }

    /// Exports every queued span now.
    pub fn force_flush(&self) -> Result<(), TracerError> {
        match &self.inner.exporter {
            Some(e) if !e.flush() => Err(TracerError::ShutdownTimedOut),
            _ => Ok(()),
        }
    }

    /// Exports every queued span and stops the exporter. Later spans are dropped and
    /// counted, and so are spans still waiting in the assembly buffer for a root that has
    /// not ended (keep-errors policy, or children that outlived their request). Idempotent.
    /// It blocks for at most the export timeout plus two seconds, one deadline for the
    /// whole shutdown (an export in progress included); spans that cannot be sent by then
    /// are counted as dropped. Inside an async runtime, call it from `spawn_blocking`. The
    /// last clone of the tracer dropped does the same.
    pub fn shutdown(&self) -> Result<(), TracerError> {
        self.inner.drop_assembling();
        match &self.inner.exporter {
            Some(e) if !e.shutdown() => Err(TracerError::ShutdownTimedOut),
            _ => Ok(()),
        }
    }

    /// A `tracing_subscriber` layer that makes the orchestrator's own `tracing` spans
    /// children in this tracer's traces (see [`bridge`](crate::bridge)):
    /// `tracing_subscriber::registry().with(tracer.tracing_layer())`.
    pub fn tracing_layer(&self) -> TracingBridge {
        TracingBridge::new(self.clone())
    }

    /// Whether a trace forced by its caller's `traceparent` fits under the cap (counted
    /// when it does not).
    pub(crate) fn admit_forced(&self) -> bool {
        let admitted = self.inner.forced.max_admitted() || self.inner.forced.admit();
        if !admitted {
            self.inner.forced_drops.increment(1);
        }
        admitted
    }

    pub(crate) fn count_dropped_attributes(&self, n: u64) {
        self.inner.attribute_drops.increment(n);
    }

    /// A finished span: buffered until its local root ends, then kept or dropped.
    pub(crate) fn end_span(&self, span: SpanRecord) {
        let inner = &*self.inner;
        if !span.is_local_root() {
            self.buffer(span);
            return;
        }
        let mut spans = {
            let mut assembling = inner
                .assembling
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            assembling.remove(&span.trace_id).map(|p| p.spans)
        }
        .unwrap_or_default();
        let keep = span.sampled
            || inner
                .keep
                .is_some_and(|k| span.failed || span.duration() >= k.slow)
            || inner.keep_expensive.is_some_and(|usd| {
                span.f64_attribute(crate::agent::LLM_COST_ATTRIBUTE)
                    .is_some_and(|cost| cost > 0.0 && cost >= usd)
            });
        if !keep {
            return;
        }
        spans.push(span);
        let trace = Trace { spans };
        if let Some(exporter) = &inner.exporter {
            let trace = Arc::new(trace.clone());
            exporter.send(trace);
        }
        inner.store.push(trace);
    }

    fn buffer(&self, span: SpanRecord) {
        let inner = &*self.inner;
        let limits = inner.limits;
        let mut assembling = inner
            .assembling
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !assembling.contains_key(&span.trace_id) && assembling.len() >= limits.max_pending_traces
        {
            // Room is needed: evict traces whose root never ended (it ran elsewhere, or its
            // children outlived it).
            let before: usize = assembling.values().map(|p| p.spans.len()).sum();
            assembling.retain(|_, p| p.since.elapsed() < limits.max_age);
            let after: usize = assembling.values().map(|p| p.spans.len()).sum();
            inner.drops.add(before - after);
            if assembling.len() >= limits.max_pending_traces {
                inner.drops.add(1);
                return;
            }
        }
        let partial = assembling.entry(span.trace_id).or_insert_with(|| Partial {
            spans: Vec::new(),
            since: Instant::now(),
        });
        if partial.spans.len() >= limits.max_spans_per_trace {
            inner.drops.add(1);
            return;
        }
        partial.spans.push(span);
    }

    /// Whether calls that did not decide record prompts and completions (see
    /// [`TracerBuilder::record_content`]).
    pub(crate) fn records_content(&self) -> bool {
        self.inner.records_content
    }

    /// Whether calls are made OpenTelemetry's current context while they run (see
    /// [`TracerBuilder::opentelemetry_context`]).
    pub(crate) fn shares_opentelemetry_context(&self) -> bool {
        self.inner.share_otel
    }
}
