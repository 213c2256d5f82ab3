//! The facade's tracing settings: code first, then the `OTEL_*` variables, then defaults.

use std::time::Duration;

use orchestrator_metrics::Metrics;
use orchestrator_tower::{OtlpConfig, Sampler, Tracer, TracerError};

#[derive(Debug, Clone)]
pub(crate) struct TracingConfig {
    pub(crate) sampler: Option<Sampler>,
    pub(crate) keep_errors_and_slow: Option<Duration>,
    pub(crate) otlp: Option<OtlpConfig>,
    pub(crate) store_capacity: Option<usize>,
    pub(crate) service_name: Option<String>,
    pub(crate) instance: Option<String>,
    pub(crate) read_env: bool,
}

impl Default for TracingConfig {
    fn default() -> Self {
        TracingConfig {
            sampler: None,
            keep_errors_and_slow: None,
            otlp: None,
            store_capacity: None,
            service_name: None,
            instance: None,
            read_env: true,
        }
    }
}

impl TracingConfig {
    pub(crate) fn build(self, metrics: &Metrics) -> Result<Tracer, TracerError> {
        let mut builder = Tracer::builder(metrics.clone());
        if self.read_env {
            builder = builder.from_env()?;
        }
        if let Some(sampler) = self.sampler {
            builder = builder.sampler(sampler);
        }
        if let Some(slow) = self.keep_errors_and_slow {
            builder = builder.keep_errors_and_slow(slow);
        }
        if let Some(otlp) = self.otlp {
            builder = builder.otlp(otlp);
        }
        if let Some(capacity) = self.store_capacity {
            builder = builder.store_capacity(capacity);
        }
        if let Some(name) = self.service_name {
            builder = builder.service_name(name);
        }
        if let Some(id) = self.instance {
            builder = builder.instance_id(id);
        }
        builder.build()
    }
}
