//! Why `install` or `build` failed.

#[cfg(feature = "prometheus")]
use orchestrator_exporters::ServeError;
#[cfg(feature = "prometheus")]
use orchestrator_exporters::auth::AuthError;
use orchestrator_metrics::RegistryError;

/// Why telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// `install` was already called in this process (it sets process-wide state). Use
    /// [`TelemetryBuilder::build`](crate::TelemetryBuilder::build) for more instances without global state.
    #[error(
        "telemetry is already installed in this process; keep the first guard, or use build() for a local instance"
    )]
    AlreadyInstalled,
    /// Another `metrics` recorder was installed first.
    #[error(
        "another `metrics` recorder is already installed globally; install orchestrator-telemetry first or use build()"
    )]
    GlobalRecorderTaken,
    /// The `/metrics` listener could not start; the message names the address.
    #[cfg(feature = "prometheus")]
    #[error(transparent)]
    Listen(#[from] ServeError),
    /// The live page's sampling thread could not start.
    #[cfg(feature = "prometheus")]
    #[error("cannot start the live page: {0}")]
    LivePage(#[source] std::io::Error),
    /// `bearer_token("")` (an empty token would let anyone in), or no randomness for the
    /// login session secret.
    #[cfg(feature = "prometheus")]
    #[error("bearer token: {0}")]
    Auth(#[from] AuthError),
    /// The metric exporters' settings are malformed (`OTEL_METRICS_EXPORTER`, an
    /// `OTEL_EXPORTER_OTLP_METRICS_*` or `OTEL_METRIC_EXPORT_*` variable, the endpoint or TLS
    /// files), or the push thread could not start. The message names the setting.
    #[cfg(feature = "prometheus")]
    #[error("metrics export: {0}")]
    MetricsExport(#[from] orchestrator_exporters::otlp::MetricsConfigError),
    /// The process collector thread could not start.
    #[error("cannot start the process collector: {0}")]
    ProcessCollector(#[source] std::io::Error),
    /// The monitor thread (sampling, KPIs) could not start.
    #[error("cannot start the monitor thread: {0}")]
    Monitor(#[source] std::io::Error),
    /// An alert rule, SLO or the evaluator could not be set up; the error names it.
    #[cfg(feature = "alerts")]
    #[error("alerting: {0}")]
    Alerts(#[from] orchestrator_alerts::AlertSetupError),
    /// The tracer could not be configured: a malformed `OTEL_*` variable, an invalid
    /// sampler ratio, or an exporter that cannot start. The message names the setting.
    #[cfg(feature = "traces")]
    #[error("tracing: {0}")]
    Tracing(#[from] orchestrator_tower::TracerError),
    /// The distinct-user backend could not be set up (an invalid Redis URL, no thread).
    #[cfg(feature = "kpi")]
    #[error(transparent)]
    Activity(#[from] orchestrator_kpi::ActivityError),
    /// A KPI setting given to `.kpis(..)` was refused; the error names the KPI.
    #[cfg(feature = "kpi")]
    #[error("KPIs: {0}")]
    Kpis(#[from] orchestrator_kpi::KpiConfigError),
    /// The Redis budget store could not be set up (a malformed URL, no thread).
    #[cfg(feature = "redis")]
    #[error("budget store: {0}")]
    BudgetStore(#[from] orchestrator_kpi::BudgetStoreError),
    /// A series of the catalogue could not be registered (a bug: the catalogue is tested).
    #[error(transparent)]
    Registry(#[from] RegistryError),
}
