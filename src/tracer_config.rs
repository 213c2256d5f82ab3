//! The facade's tracing settings: the `OTEL_*` variables first (unless ignored), then what
//! the code set with `.tracing(|t| ..)` on the tower crate's own [`TracerBuilder`], then the
//! replica's name.

use orchestrator_metrics::Metrics;
use orchestrator_tower::{Tracer, TracerBuilder, TracerError};

type Configure = Box<dyn FnOnce(TracerBuilder) -> TracerBuilder + Send>;

pub(crate) struct TracingConfig {
    pub(crate) configure: Vec<Configure>,
    pub(crate) instance: Option<String>,
    pub(crate) read_env: bool,
}

impl std::fmt::Debug for TracingConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracingConfig")
            .field("configure", &self.configure.len())
            .field("instance", &self.instance)
            .field("read_env", &self.read_env)
            .finish()
    }
}

impl Default for TracingConfig {
    fn default() -> Self {
        TracingConfig {
            configure: Vec::new(),
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
        for configure in self.configure {
            builder = configure(builder);
        }
        if let Some(id) = self.instance {
            builder = builder.instance_id(id);
        }
        builder.build()
    }
}
