//! [`TracerBuilder`]: what a [`Tracer`] samples, keeps, exports and shares.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_sdk::Resource;
use orchestrator_metrics::{Metrics, catalogue};

use super::{BufferLimits, Inner, KeepErrorsAndSlow, Tracer, TracerError};
use crate::export::{Drops, Exporter, OtlpConfig};
use crate::forced::ForcedLimit;
use crate::hint::{LevelHint, ServerHint};
use crate::sampling::Sampler;
use crate::store::TraceStore;

/// Configures a [`Tracer`].
#[derive(Debug, Clone)]
pub struct TracerBuilder {
    pub(super) metrics: Metrics,
    pub(super) sampler: Sampler,
    pub(super) keep: Option<KeepErrorsAndSlow>,
    pub(super) limits: BufferLimits,
    pub(super) store_capacity: usize,
    pub(super) otlp: Option<OtlpConfig>,
    pub(super) service_name: Option<String>,
    pub(super) instance_id: Option<String>,
    pub(super) max_forced: u32,
    pub(super) server_hint: bool,
    /// Content consent: `.0` from code, `.1` from the environment.
    pub(super) content: (Option<bool>, Option<bool>),
    pub(super) share_otel: bool,
    pub(super) keep_expensive: Option<f64>,
    pub(super) agent_limits: Vec<(String, crate::agent::AgentLimits)>,
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

    /// Keeps every trace whose LLM spend (in this process) reaches `usd`, whatever the
    /// sampling ratio: decided at the end of the local root like
    /// [`keep_errors_and_slow`](Self::keep_errors_and_slow), under the same buffer bounds
    /// (every request is then recorded until its root ends). `0.0` keeps every trace that
    /// spent anything priced. A negative, NaN or infinite threshold is an error at
    /// [`build`](Self::build).
    pub fn keep_expensive(mut self, usd: f64) -> Self {
        self.keep_expensive = Some(usd);
        self
    }

    /// Observes limits on the runs of agent `name`: a run that crosses one is marked on its
    /// span and counted (see [`AgentLimits`](crate::AgentLimits)). A limit that cannot be
    /// observed (`max_steps(0)`, a cost that is not a positive number) is an error at
    /// [`build`](Self::build). Given twice for one agent, the later wins.
    pub fn agent_limits(
        mut self,
        name: impl Into<String>,
        limits: crate::agent::AgentLimits,
    ) -> Self {
        let name = name.into();
        self.agent_limits.retain(|(n, _)| *n != name);
        self.agent_limits.push((name, limits));
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

    /// Makes each traced call's context OpenTelemetry's current context while the call runs
    /// (around every poll of its future): spans that `tracing-opentelemetry` or the
    /// OpenTelemetry API open inside a request become children of the layer's span in the
    /// same trace, and a `ParentBased` sampler in the user's SDK follows this tracer's
    /// decision. Off by default: it costs an allocation per call and a context attach per
    /// poll, sampled or not (BENCHMARKS.md). The other way round needs nothing: a call
    /// that starts inside an OpenTelemetry span this tracer did not make continues its
    /// trace.
    pub fn opentelemetry_context(mut self, share: bool) -> Self {
        self.share_otel = share;
        self
    }

    /// Builds the tracer, starting the export thread when exporting.
    pub fn build(self) -> Result<Tracer, TracerError> {
        if let Some(usd) = self.keep_expensive
            && !(usd.is_finite() && usd >= 0.0)
        {
            return Err(crate::agent::AgentConfigError::InvalidThreshold(usd).into());
        }
        let agent_limits = self
            .agent_limits
            .iter()
            .map(|(name, limits)| Ok((name.as_str().into(), limits.check(name)?)))
            .collect::<Result<HashMap<Box<str>, _>, crate::agent::AgentConfigError>>()?;
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
                otel_hint: crate::hint::OtelHint::default(),
                records_content: self.content.0.or(self.content.1).unwrap_or(false),
                share_otel: self.share_otel,
                keep_expensive: self.keep_expensive,
                agent_limits,
                runs: Arc::new(crate::agent::RunPool::new()),
            }),
        })
    }
}
