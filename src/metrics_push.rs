//! The facade's metric exporters: `/metrics` (Prometheus scrapes) and the OTLP push, from
//! `OTEL_METRICS_EXPORTER` and the `OTEL_EXPORTER_OTLP_METRICS_*` variables unless the code
//! set them (code wins), and the GenAI conventions' names on `/metrics` when asked.

use orchestrator_exporters::otlp::{
    MetricsExporters, MetricsPush, OtlpMetricsConfig, resource_from_vars,
};
use orchestrator_http::otel_env;
use orchestrator_metrics::Registry;

use crate::error::InstallError;

/// What the builder's metric-export setters configure.
#[derive(Debug)]
pub(crate) struct PushConfig {
    /// The push set in code (wins over the variables).
    pub(crate) otlp: Option<OtlpMetricsConfig>,
    /// `/metrics` also shows the conventions' families.
    pub(crate) expose_gen_ai_names: bool,
    /// Read the `OTEL_*` variables.
    pub(crate) read_env: bool,
    /// `service.name`, set in code.
    pub(crate) service_name: Option<String>,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            otlp: None,
            expose_gen_ai_names: false,
            read_env: true,
            service_name: None,
        }
    }
}

/// What runs: the push, and whether `/metrics` is served.
pub(crate) struct Exporting {
    pub(crate) push: Option<MetricsPush>,
    pub(crate) serve_metrics: bool,
}

/// Reads the settings and starts the push.
pub(crate) fn start(
    config: PushConfig,
    registry: &Registry,
    instance: Option<&str>,
) -> Result<Exporting, InstallError> {
    registry.expose_gen_ai_names(config.expose_gen_ai_names);
    let lookup: otel_env::Lookup<'_> = if config.read_env {
        &otel_env::env_lookup
    } else {
        &|_: &str| None
    };
    let from_env = MetricsExporters::from_vars(lookup)?;
    let (otlp, serve_metrics) = match config.otlp {
        // Pushing set in code leaves `/metrics` as the variables (or the default) say.
        Some(code) => (Some(code), from_env.prometheus),
        None => (from_env.otlp, from_env.prometheus),
    };
    let push = match otlp {
        None => None,
        Some(otlp) => {
            let resource = resource_from_vars(lookup, config.service_name.as_deref(), instance)?;
            Some(MetricsPush::start(otlp, registry, &resource)?)
        }
    };
    Ok(Exporting {
        push,
        serve_metrics,
    })
}
