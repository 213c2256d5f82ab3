//! The running telemetry: what `build()`/`install()` return.

#[cfg(feature = "prometheus")]
use orchestrator_exporters::MetricsServer;
#[cfg(feature = "prometheus")]
use orchestrator_exporters::live::LivePage;
#[cfg(feature = "kpi")]
use orchestrator_kpi::{BusinessRecorder, KpiHandle, KpiReport};
use orchestrator_metrics::{Metrics, Registry};

/// The running telemetry. Dropping it stops the listener and the collector; the registry
/// stays installed as the `metrics` recorder (the `metrics` crate cannot uninstall one).
#[derive(Debug)]
pub struct TelemetryGuard {
    #[cfg(feature = "prometheus")]
    pub(crate) serving: crate::serve::Serving,
    #[cfg(feature = "prometheus")]
    pub(crate) metrics_push: Option<orchestrator_exporters::otlp::MetricsPush>,
    #[cfg(feature = "traces")]
    pub(crate) tracer: orchestrator_tower::Tracer,
    #[cfg(feature = "kpi")]
    pub(crate) monitor: crate::monitor::Running,
    pub(crate) registry: Registry,
    pub(crate) metrics: Metrics,
    pub(crate) instance: Option<String>,
}

impl TelemetryGuard {
    /// The typed recorders.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// This replica's name, when [`instance`](crate::TelemetryBuilder::instance) set one.
    pub fn instance(&self) -> Option<&str> {
        self.instance.as_deref()
    }

    /// Pushes the metrics over OTLP now, besides the interval, and waits for the outcome;
    /// `None` when no push is configured.
    #[cfg(feature = "prometheus")]
    pub fn push_metrics_now(&self) -> Option<orchestrator_exporters::otlp::PushOutcome> {
        self.metrics_push.as_ref()?.push_now()
    }

    /// The registry `/metrics` renders.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The address `/metrics` is served on, when a listener was started.
    #[cfg(feature = "prometheus")]
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.serving.server.as_ref().map(MetricsServer::local_addr)
    }

    /// Records business events (sessions with their user, revenue, conversions, scores).
    #[cfg(feature = "kpi")]
    pub fn business(&self) -> &BusinessRecorder {
        &self.monitor.business
    }

    /// The latest KPI evaluation (after the first monitor tick).
    #[cfg(feature = "kpi")]
    pub fn kpi_report(&self) -> Option<KpiReport> {
        self.monitor.kpis.latest()
    }

    /// Whose distinct users are counted (this replica's, or the fleet's through Redis) and
    /// whether the last count succeeded.
    #[cfg(feature = "kpi")]
    pub fn activity_status(&self) -> &orchestrator_kpi::ActivityStatus {
        &self.monitor.activity
    }

    /// A handle to the latest KPI report, to share with a page or a report writer.
    #[cfg(feature = "kpi")]
    pub fn kpi_handle(&self) -> KpiHandle {
        self.monitor.kpis.clone()
    }

    /// The latest state of the alert rules (after the first monitor tick).
    #[cfg(feature = "alerts")]
    pub fn alerts_report(&self) -> Option<orchestrator_alerts::AlertsReport> {
        self.monitor.alerts.latest()
    }

    /// A handle to the latest alert report.
    #[cfg(feature = "alerts")]
    pub fn alerts_handle(&self) -> orchestrator_alerts::AlertsHandle {
        self.monitor.alerts.clone()
    }

    /// Samples and evaluates now, on the monitor thread, and returns the KPI report. User
    /// activity still queued for a shared backend (Redis) is sent first, so the distinct
    /// users counted include every session recorded before the call.
    #[cfg(feature = "kpi")]
    pub fn evaluate_now(&self) -> Option<KpiReport> {
        self.monitor.business.activity().flush();
        if let Some(monitor) = &self.monitor.monitor {
            monitor.tick_now();
        }
        self.kpi_report()
    }

    /// Runs `f` with the monitor's sample store (the series the KPIs read), to evaluate
    /// an expression in-process with `orchestrator_query::eval`. `None` without a monitor.
    #[cfg(feature = "kpi")]
    pub fn with_samples<R>(
        &self,
        f: impl FnOnce(&orchestrator_query::SampleStore) -> R,
    ) -> Option<R> {
        self.monitor.monitor.as_ref().map(|m| m.with_store(f))
    }

    /// The live page, to merge into the orchestrator's own router when it serves
    /// `/metrics` itself (built without a listener). `None` with `without_live_page`.
    #[cfg(feature = "prometheus")]
    pub fn live_page(&self) -> Option<&LivePage> {
        self.serving.live.as_ref()
    }

    /// The live page's four documents (`/api/v1/summary`, `kpis`, `alerts`, `traces`) as
    /// they would be answered now, read in process. `None` with `without_live_page`.
    #[cfg(feature = "prometheus")]
    pub fn documents(&self) -> Option<orchestrator_api::Documents> {
        self.serving.live.as_ref().map(LivePage::documents)
    }

    /// The tracer the tower layers record through (metrics for every call, spans for
    /// sampled ones).
    #[cfg(feature = "traces")]
    pub fn tracer(&self) -> &orchestrator_tower::Tracer {
        &self.tracer
    }

    /// A `tracing_subscriber` layer that makes the orchestrator's own `tracing` spans
    /// (`#[instrument]`, `info_span!`) `INTERNAL` children in the layer's traces, and their
    /// events span events. Add it to the service's own subscriber:
    ///
    /// ```no_run
    /// use orchestrator_telemetry::{Telemetry, TraceIds};
    /// use tracing_subscriber::prelude::*;
    ///
    /// let telemetry = Telemetry::builder().install()?;
    /// tracing_subscriber::registry()
    ///     .with(telemetry.tracing_layer())
    ///     .with(tracing_subscriber::fmt::layer().event_format(TraceIds::text()))
    ///     .init();
    /// # Ok::<(), orchestrator_telemetry::InstallError>(())
    /// ```
    ///
    /// See [`orchestrator_tower::bridge`] for how spans are parented and what is capped.
    #[cfg(feature = "traces")]
    pub fn tracing_layer(&self) -> orchestrator_tower::TracingBridge {
        self.tracer.tracing_layer()
    }

    /// The analysis of the traces in the embedded store.
    #[cfg(feature = "traces")]
    pub fn trace_analysis(&self) -> orchestrator_tower::TraceAnalysis {
        self.tracer.analysis()
    }

    /// Exports the queued spans and stops the exporter (within the export timeout; spans
    /// that cannot be sent are counted as dropped), then stops the listener (finishing
    /// scrapes in flight), the collector and the monitor. Queued alert notifications get
    /// the retry policy's `shutdown_deadline` (5 s by default) to be delivered; a sink still
    /// busy then (a hanging SMTP or webhook server) is abandoned and what it held is counted
    /// as dropped. Dropping the guard does the same.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        #[cfg(feature = "traces")]
        if let Err(e) = self.tracer.shutdown() {
            tracing::warn!(error = %e, "spans may have been lost at shutdown");
        }
        #[cfg(feature = "prometheus")]
        {
            // After the spans: the last push carries the metrics of the last requests.
            if let Some(push) = self.metrics_push.take() {
                push.shutdown();
            }
            if let Some(server) = self.serving.server.take() {
                server.shutdown();
            }
            if let Some(collector) = self.serving.collector.take() {
                collector.stop();
            }
        }
    }
}
