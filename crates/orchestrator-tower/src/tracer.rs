//! The tracer: the sampler, the metrics, and where finished spans go (the assembly buffer,
//! the embedded store, the OTLP queue).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use opentelemetry_sdk::Resource;
use orchestrator_metrics::{CounterHandle, Metrics, catalogue};

use crate::analysis::TraceAnalysis;
use crate::bridge::TracingBridge;
use crate::export::{Drops, ExportConfigError, Exporter, OtlpConfig};
use crate::forced::{DEFAULT_MAX_FORCED_PER_SECOND, ForcedLimit};
use crate::hint::{LevelHint, ServerHint};
use crate::sampling::{Sampler, SamplerError};
use crate::span::{Operation, SpanRecord};
use crate::store::{DEFAULT_STORE_CAPACITY, Trace, TraceStore};

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

/// Configures a [`Tracer`].
#[derive(Debug, Clone)]
pub struct TracerBuilder {
    metrics: Metrics,
    sampler: Sampler,
    keep: Option<KeepErrorsAndSlow>,
    limits: BufferLimits,
    store_capacity: usize,
    otlp: Option<OtlpConfig>,
    service_name: Option<String>,
    instance_id: Option<String>,
    max_forced: u32,
    server_hint: bool,
    /// Content consent: `.0` from code, `.1` from the environment.
    content: (Option<bool>, Option<bool>),
}

impl TracerBuilder {
    /// Never warns that client calls are recorded without any server request (see
    /// below): for a process that serves no requests, a batch job or a worker. By default,
    /// after 100 client calls (or 60 s after the first) with no request through
    /// [`TelemetryLayer::server`](crate::TelemetryLayer::server), one `WARN` asks whether
    /// the layer is on the router.
    pub fn without_server_layer_hint(mut self) -> Self {
        self.server_hint = false;
        self
    }

    /// How many traces per second callers may force: sampled because their `traceparent`
    /// says so where this sampler's own ratio would not sample them (default
    /// [`DEFAULT_MAX_FORCED_PER_SECOND`](crate::DEFAULT_MAX_FORCED_PER_SECOND)). Past it
    /// such requests are not sampled (their trace id is kept), and each is counted in
    /// `orchestrator_telemetry_dropped_total{queue="forced_traces"}`. `u32::MAX` lifts the
    /// cap; see also [`Sampler::untrusted_remote_parents`].
    pub fn max_forced_traces_per_second(mut self, traces: u32) -> Self {
        self.max_forced = traces;
        self
    }

    /// The head sampler (default: parent-based, 10 %).
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = sampler;
        self
    }

    /// Keeps every failed or slow trace too (see [`KeepErrorsAndSlow`]).
    pub fn keep_errors_and_slow(mut self, slow: Duration) -> Self {
        self.keep = Some(KeepErrorsAndSlow { slow });
        self
    }

    /// The bounds of the assembly buffer.
    pub fn buffer_limits(mut self, limits: BufferLimits) -> Self {
        self.limits = limits;
        self
    }

    /// How many recent traces the embedded store keeps (default 100).
    pub fn store_capacity(mut self, traces: usize) -> Self {
        self.store_capacity = traces;
        self
    }

    /// Exports over OTLP.
    pub fn otlp(mut self, config: OtlpConfig) -> Self {
        self.otlp = Some(config);
        self
    }

    /// The `service.name` resource attribute (default: `OTEL_SERVICE_NAME`, else the
    /// SDK's `unknown_service`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The `service.instance.id` resource attribute: which replica exported the spans
    /// (default: none, or what `OTEL_RESOURCE_ATTRIBUTES` sets).
    pub fn instance_id(mut self, id: impl Into<String>) -> Self {
        self.instance_id = Some(id.into());
        self
    }

    /// Applies the standard variables: `OTEL_TRACES_SAMPLER`/`_ARG` when set, and the OTLP
    /// exporter when an endpoint is set (see [`OtlpConfig::from_env`]).
    pub fn from_env(self) -> Result<Self, TracerError> {
        self.from_vars(&crate::env_lookup)
    }

    /// As [`TracerBuilder::from_env`], reading variables through `lookup`.
    ///
    /// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` gives the content consent where
    /// code did not ([`TracerBuilder::record_content`]).
    pub fn from_vars(mut self, lookup: crate::Lookup<'_>) -> Result<Self, TracerError> {
        self.content.1 = crate::kind::consent_from_vars(lookup).or(self.content.1);
        if let Some(sampler) = Sampler::from_vars(lookup)? {
            self.sampler = sampler;
        }
        if let Some(otlp) = OtlpConfig::from_vars(lookup)? {
            self.otlp = Some(otlp);
        }
        Ok(self)
    }

    /// Whether prompts and completions are recorded on the GenAI spans of this tracer's
    /// calls where the code did not decide per layer (`Llm::record_content`): the manual
    /// guard's `record_prompt`/`record_completion`, and layers and middlewares built
    /// without a setting. Code wins over `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`
    /// (read by [`from_env`](Self::from_env)); neither set, nothing is recorded.
    pub fn record_content(mut self, record: bool) -> Self {
        self.content.0 = Some(record);
        self
    }

    /// Builds the tracer, starting the export thread when exporting.
    pub fn build(self) -> Result<Tracer, TracerError> {
        // Calls are timed with the TSC through `quanta`, cheaper to read than
        // `std::time::Instant` (the `clock` group of `benches/middleware.rs`). Its clock
        // calibrates on first use, which takes up to a few milliseconds: do it now, not in
        // the first request.
        let _ = quanta::Instant::now();
        let registry = self.metrics.registry();
        let dropped = |queue: &str| {
            registry
                .counter(&catalogue::TELEMETRY_DROPPED_TOTAL, &[queue])
                .map_err(TracerError::Registry)
        };
        let counter = dropped("spans")?;
        let forced_drops = dropped("forced_traces")?;
        let attribute_drops = dropped("span_attributes")?;
        let drops = Drops {
            count: Arc::new(AtomicU64::new(0)),
            counter,
        };
        let exporter = match self.otlp {
            None => None,
            Some(config) => {
                let mut resource = Resource::builder();
                if let Some(name) = self.service_name {
                    resource = resource.with_service_name(name);
                }
                if let Some(id) = self.instance_id {
                    resource = resource
                        .with_attribute(opentelemetry::KeyValue::new("service.instance.id", id));
                }
                Some(Exporter::start(config, resource.build(), drops.clone())?)
            }
        };
        Ok(Tracer {
            inner: Arc::new(Inner {
                sampler: self.sampler,
                keep: self.keep,
                limits: self.limits,
                metrics: self.metrics,
                assembling: Mutex::new(HashMap::new()),
                store: TraceStore::new(self.store_capacity),
                exporter,
                drops,
                attribute_drops,
                forced: ForcedLimit::new(self.max_forced),
                forced_drops,
                server_hint: ServerHint::new(self.server_hint),
                level_hint: LevelHint::default(),
                records_content: self.content.0.or(self.content.1).unwrap_or(false),
            }),
        })
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
    records_content: bool,
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

    /// A call of `operation` ended (the server-layer hint counts them; the first one after
    /// a bridge was registered checks the global filter).
    #[inline]
    pub(crate) fn call_ended(&self, operation: Operation) {
        self.inner.server_hint.ended(operation);
        self.inner.level_hint.check();
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
                .is_some_and(|k| span.failed || span.duration() >= k.slow);
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
}
