//! `Telemetry::builder() ... .install()`.

#[cfg(any(feature = "kpi", feature = "prometheus"))]
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(any(feature = "kpi", feature = "traces"))]
use std::time::Duration;

#[cfg(feature = "prometheus")]
use orchestrator_exporters::auth::BearerAuth;
#[cfg(feature = "prometheus")]
use orchestrator_exporters::live::{DEFAULT_HISTORY_INTERVAL, LivePage};
#[cfg(feature = "prometheus")]
use orchestrator_exporters::{
    DEFAULT_ADDR, MetricsEndpoint, MetricsServer, ProcessCollector, ProcessCollectorConfig,
};
#[cfg(feature = "kpi")]
use orchestrator_kpi::{ActivityBackend, KpiConfig};
use orchestrator_metrics::{Budget, CardinalityLimits, MetricsBuilder, PriceTable, Registry};

use crate::error::InstallError;
use crate::guard::TelemetryGuard;

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The entry point: `Telemetry::builder()`.
#[derive(Debug)]
pub struct Telemetry;

impl Telemetry {
    /// A builder with the defaults: `/metrics` on `127.0.0.1:9464`, the process collector
    /// every 5 s, default cardinality limits, an empty price table.
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder::default()
    }
}

/// Configures telemetry; ends in [`install`](TelemetryBuilder::install) or
/// [`build`](TelemetryBuilder::build).
#[derive(Debug)]
pub struct TelemetryBuilder {
    metrics: MetricsBuilder,
    #[cfg(feature = "prometheus")]
    listen: Option<String>,
    #[cfg(feature = "prometheus")]
    process: Option<ProcessCollectorConfig>,
    #[cfg(feature = "prometheus")]
    live_page: bool,
    #[cfg(feature = "prometheus")]
    bearer_token: Option<String>,
    #[cfg(feature = "prometheus")]
    secure_cookie: bool,
    #[cfg(feature = "kpi")]
    monitor: crate::monitor::MonitorConfig,
    #[cfg(feature = "traces")]
    tracing: crate::tracing::TracingConfig,
    instance: Option<String>,
}

impl Default for TelemetryBuilder {
    fn default() -> Self {
        TelemetryBuilder {
            metrics: MetricsBuilder::default(),
            #[cfg(feature = "prometheus")]
            listen: Some(DEFAULT_ADDR.to_owned()),
            #[cfg(feature = "prometheus")]
            process: Some(ProcessCollectorConfig::default()),
            #[cfg(feature = "prometheus")]
            live_page: true,
            #[cfg(feature = "prometheus")]
            bearer_token: None,
            #[cfg(feature = "prometheus")]
            secure_cookie: false,
            #[cfg(feature = "kpi")]
            monitor: crate::monitor::MonitorConfig::default(),
            #[cfg(feature = "traces")]
            tracing: crate::tracing::TracingConfig::default(),
            instance: None,
        }
    }
}

impl TelemetryBuilder {
    /// Sets the cardinality limits of the guarded labels.
    pub fn cardinality(mut self, limits: CardinalityLimits) -> Self {
        self.metrics = self.metrics.cardinality(limits);
        self
    }

    /// Sets the price table LLM costs are computed from.
    pub fn prices(mut self, prices: PriceTable) -> Self {
        self.metrics = self.metrics.prices(prices);
        self
    }

    /// Adds an LLM budget for a tenant, or for the whole service (`*`): its spend is
    /// exported against it and the `BudgetWarning`, `BudgetExceeded` and `SpendRateAnomaly`
    /// rules watch it. See [`MetricsBuilder::budget`].
    pub fn budget(mut self, budget: Budget) -> Self {
        self.metrics = self.metrics.budget(budget);
        self
    }

    /// Serves `/metrics` on this address (`ip:port`; port 0 picks a free one). The address
    /// is checked and bound by `install`/`build`, which fail with an error naming it.
    #[cfg(feature = "prometheus")]
    pub fn listen(mut self, addr: impl Into<String>) -> Self {
        self.listen = Some(addr.into());
        self
    }

    /// Starts no listener: mount [`MetricsEndpoint::router`] on your own router instead.
    #[cfg(feature = "prometheus")]
    pub fn without_listener(mut self) -> Self {
        self.listen = None;
        self
    }

    /// Configures the process collector (interval, memory limit).
    #[cfg(feature = "prometheus")]
    pub fn process_collector(mut self, config: ProcessCollectorConfig) -> Self {
        self.process = Some(config);
        self
    }

    /// Starts no process collector.
    #[cfg(feature = "prometheus")]
    pub fn without_process_collector(mut self) -> Self {
        self.process = None;
        self
    }

    /// Sets the KPIs, their targets and windows (default: the spec's five).
    #[cfg(feature = "kpi")]
    pub fn kpis(mut self, kpis: KpiConfig) -> Self {
        self.monitor.kpis = kpis;
        self
    }

    /// How often the registry is sampled and the KPIs evaluated (default 15 s).
    #[cfg(feature = "kpi")]
    pub fn monitor_interval(mut self, interval: Duration) -> Self {
        self.monitor.interval = interval;
        self
    }

    /// Where distinct users are counted (default: in this process; `RedisActivity` shares
    /// them across replicas).
    #[cfg(feature = "kpi")]
    pub fn activity(mut self, activity: Arc<dyn ActivityBackend>) -> Self {
        self.monitor.activity = Some(activity);
        self
    }

    /// Names this replica: the `service.instance.id` of its exported spans, and the name
    /// the live page shows. Prometheus tells replicas apart by their scrape target (the
    /// `instance` label), so the metrics carry no such label.
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        #[cfg(feature = "traces")]
        {
            self.tracing.instance = Some(name.clone());
        }
        self.instance = Some(name);
        self
    }

    /// Counts distinct users in Redis, shared by every replica (`PFADD`/`PFCOUNT`), instead
    /// of in this process: the `monthly_active_users` KPI is then the fleet's. Redis is
    /// reached lazily; while it is unreachable, user activity is dropped and counted
    /// (`orchestrator_telemetry_dropped_total{queue="user_activity"}`) and the
    /// `orchestrator_active_users` series are absent. An invalid URL fails `build`.
    #[cfg(feature = "redis")]
    pub fn redis_activity(mut self, config: orchestrator_kpi::RedisActivityConfig) -> Self {
        self.monitor.redis = Some(config);
        self
    }

    /// Evaluates no alert rule in this process (no evaluator work, no notification): for
    /// a fleet where Prometheus evaluates the rules `orchestrator-obs generate` writes, over
    /// every replica's series, and sends them to Alertmanager. The KPIs are still evaluated.
    #[cfg(feature = "alerts")]
    pub fn without_alert_evaluator(mut self) -> Self {
        self.monitor.alerts.evaluate = false;
        self
    }

    /// Replaces the alert rules evaluated in-process (default: the spec's four, with
    /// [`alert_tuning`](Self::alert_tuning)).
    #[cfg(feature = "alerts")]
    pub fn alert_rules(mut self, rules: Vec<orchestrator_alerts::AlertRule>) -> Self {
        self.monitor.alerts.rules = Some(rules);
        self
    }

    /// Windows, `for` durations and the `service` label of the default rules (default:
    /// production).
    #[cfg(feature = "alerts")]
    pub fn alert_tuning(mut self, tuning: orchestrator_alerts::AlertTuning) -> Self {
        self.monitor.alerts.tuning = tuning;
        self
    }

    /// Adds the burn-rate alerts of service-level objectives to the in-process rules.
    #[cfg(feature = "alerts")]
    pub fn slos(mut self, slos: Vec<orchestrator_alerts::Slo>) -> Self {
        self.monitor.alerts.slos = slos;
        self
    }

    /// Adds a sink for alert notifications (a log sink is always there).
    #[cfg(feature = "alerts")]
    pub fn alert_sink(mut self, sink: Arc<dyn orchestrator_alerts::Sink>) -> Self {
        self.monitor.alerts.sinks.push(sink);
        self
    }

    /// Adds a direct channel (a [`SlackSink`](orchestrator_alerts::SlackSink),
    /// [`PagerDutySink`](orchestrator_alerts::PagerDutySink) or
    /// [`EmailSink`](orchestrator_alerts::EmailSink)) that receives only the severities the
    /// [routing](Self::alert_routing) sends to `channel`: by default critical to PagerDuty and
    /// Slack, high to Slack and email, medium and low to email, as the generated
    /// Alertmanager configuration.
    #[cfg(feature = "alerts")]
    pub fn alert_channel(
        mut self,
        channel: orchestrator_alerts::generate::Channel,
        sink: Arc<dyn orchestrator_alerts::Sink>,
    ) -> Self {
        self.monitor.alerts.channels.push((channel, sink));
        self
    }

    /// Which severities go to which [channel](Self::alert_channel); the same type (and
    /// `--route` syntax) as `orchestrator-obs generate`.
    #[cfg(feature = "alerts")]
    pub fn alert_routing(mut self, routing: orchestrator_alerts::generate::Routing) -> Self {
        self.monitor.alerts.routing = routing;
        self
    }

    /// Retries of failed notifications (default: 4 attempts, full-jitter backoff from
    /// 0.5 s capped at 30 s, 64 batches queued per sink) and how long shutdown waits for
    /// them (default 5 s; then what is left is counted as dropped).
    #[cfg(feature = "alerts")]
    pub fn alert_retry(mut self, retry: orchestrator_alerts::RetryPolicy) -> Self {
        self.monitor.alerts.retry = retry;
        self
    }

    /// How often firing alerts are re-sent to Alertmanager (default 1 minute, as
    /// Prometheus).
    #[cfg(feature = "alerts")]
    pub fn alert_resend_delay(mut self, delay: Duration) -> Self {
        self.monitor.alerts.resend_delay = delay;
        self
    }

    /// The head sampler of traces (default: parent-based, 10 %). Set in code, it takes
    /// precedence over `OTEL_TRACES_SAMPLER`.
    #[cfg(feature = "traces")]
    pub fn sampler(mut self, sampler: orchestrator_tower::Sampler) -> Self {
        self.tracing.sampler = Some(sampler);
        self
    }

    /// Also keeps every trace whose root failed or took at least `slow`.
    #[cfg(feature = "traces")]
    pub fn keep_errors_and_slow(mut self, slow: Duration) -> Self {
        self.tracing.keep_errors_and_slow = Some(slow);
        self
    }

    /// Exports spans over OTLP (set in code, it takes precedence over
    /// `OTEL_EXPORTER_OTLP_*`). Without it, and without an endpoint in the environment,
    /// traces stay in the embedded store.
    #[cfg(feature = "traces")]
    pub fn otlp(mut self, config: orchestrator_tower::OtlpConfig) -> Self {
        self.tracing.otlp = Some(config);
        self
    }

    /// How many recent traces the embedded store keeps (default 100).
    #[cfg(feature = "traces")]
    pub fn trace_store_capacity(mut self, traces: usize) -> Self {
        self.tracing.store_capacity = Some(traces);
        self
    }

    /// The `service.name` of exported spans (default `OTEL_SERVICE_NAME`).
    #[cfg(feature = "traces")]
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.tracing.service_name = Some(name.into());
        self
    }

    /// Ignores the `OTEL_*` variables (tests, or processes whose environment is not
    /// theirs to read).
    #[cfg(feature = "traces")]
    pub fn ignore_otel_env(mut self) -> Self {
        self.tracing.read_env = false;
        self
    }

    /// Serves no live page (`/dashboard` and `/api/v1/...`) beside `/metrics`.
    #[cfg(feature = "prometheus")]
    pub fn without_live_page(mut self) -> Self {
        self.live_page = false;
        self
    }

    /// Requires `Authorization: Bearer <token>` on everything the listener serves
    /// (`/metrics`, `/dashboard`, `/api`), and on the live page's router wherever it is
    /// merged ([`TelemetryGuard::live_page`], with or without a listener). A browser logs in
    /// once with `/dashboard?token=<token>` (percent-encoded), which sets an `HttpOnly`,
    /// `SameSite=Strict` cookie holding a random per-process session secret, never the
    /// token. An empty token is refused at build.
    #[cfg(feature = "prometheus")]
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// Marks the login cookie `Secure`, for a live page served behind https (a
    /// TLS-terminating proxy). Off by default: the listener itself speaks plain HTTP.
    #[cfg(feature = "prometheus")]
    pub fn secure_cookie(mut self, secure: bool) -> Self {
        self.secure_cookie = secure;
        self
    }

    /// Starts no monitor thread: KPIs are not evaluated (the recorders still work).
    #[cfg(feature = "kpi")]
    pub fn without_monitor(mut self) -> Self {
        self.monitor.enabled = false;
        self
    }

    /// Sets everything up with its own registry and no global state, for tests and for
    /// embedding several instances in one process. `metrics::counter!` does not reach it
    /// unless you pass [`TelemetryGuard::registry`] to `metrics::with_local_recorder`.
    pub fn build(self) -> Result<TelemetryGuard, InstallError> {
        let registry = Registry::new();
        let metrics = self.metrics.build(&registry);
        #[cfg(feature = "prometheus")]
        let collector = self
            .process
            .map(|config| ProcessCollector::start(&registry, config))
            .transpose()
            .map_err(InstallError::ProcessCollector)?;
        #[cfg(all(feature = "kpi", feature = "prometheus"))]
        let kpi_config = self.monitor.kpis.clone();
        #[cfg(feature = "kpi")]
        let monitor = crate::monitor::start(self.monitor, &registry, &metrics)?;
        #[cfg(feature = "traces")]
        let tracer = self.tracing.build(&metrics)?;
        #[cfg(feature = "prometheus")]
        let auth = self
            .bearer_token
            .as_deref()
            .map(|token| BearerAuth::new(token).map(|a| a.secure_cookie(self.secure_cookie)))
            .transpose()?;
        #[cfg(feature = "prometheus")]
        let live = if self.live_page {
            let source = crate::live::Source {
                #[cfg(feature = "kpi")]
                kpis: monitor.kpis.clone(),
                #[cfg(feature = "kpi")]
                kpi_config,
                #[cfg(feature = "kpi")]
                activity: monitor.activity.clone(),
                #[cfg(feature = "kpi")]
                instance: self.instance.clone(),
                #[cfg(feature = "alerts")]
                alerts: monitor.alerts.clone(),
                #[cfg(feature = "traces")]
                tracer: tracer.clone(),
            };
            let page =
                LivePage::start(registry.clone(), Arc::new(source), DEFAULT_HISTORY_INTERVAL)
                    .map_err(InstallError::LivePage)?;
            // The token protects the page wherever its router goes, the orchestrator's own
            // public router included (built without a listener).
            Some(match &auth {
                Some(auth) => page.with_auth(auth.clone()),
                None => page,
            })
        } else {
            None
        };
        #[cfg(feature = "prometheus")]
        let server = match self.listen {
            None => None,
            Some(addr) => {
                let mut app = MetricsEndpoint::new(registry.clone()).router();
                if let Some(live) = &live {
                    app = app.merge(live.clone().router());
                }
                if let Some(auth) = &auth {
                    app = auth.protect(app);
                }
                Some(MetricsServer::bind(&addr, app)?)
            }
        };
        Ok(TelemetryGuard {
            #[cfg(feature = "prometheus")]
            live,
            #[cfg(feature = "traces")]
            tracer,
            #[cfg(feature = "kpi")]
            monitor,
            registry,
            metrics,
            instance: self.instance,
            #[cfg(feature = "prometheus")]
            server,
            #[cfg(feature = "prometheus")]
            collector,
        })
    }

    /// Sets everything up and installs the registry as the process-wide `metrics`
    /// recorder, so `metrics::counter!` anywhere in the orchestrator lands in it. A second
    /// call is [`InstallError::AlreadyInstalled`].
    pub fn install(self) -> Result<TelemetryGuard, InstallError> {
        if INSTALLED
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(InstallError::AlreadyInstalled);
        }
        let result = self.build().and_then(|guard| {
            metrics::set_global_recorder(guard.registry.clone())
                .map(|()| guard)
                .map_err(|_| InstallError::GlobalRecorderTaken)
        });
        if result.is_err() {
            INSTALLED.store(false, Ordering::Release);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_gives_independent_instances() {
        let a = Telemetry::builder().without_listener().build().unwrap();
        let b = Telemetry::builder().listen("127.0.0.1:0").build().unwrap();
        a.metrics().business().record_conversion();
        let text = |t: &TelemetryGuard| t.registry().render();
        assert!(text(&a).contains("orchestrator_conversions_total 1"));
        assert!(text(&b).contains("orchestrator_conversions_total 0"));
        assert_eq!(a.metrics_addr(), None);
        assert!(b.metrics_addr().is_some_and(|addr| addr.port() != 0));
        a.shutdown();
        b.shutdown();
    }

    #[test]
    fn a_bad_address_is_an_error_naming_it() {
        let err = Telemetry::builder()
            .listen("127.0.0.1:http")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("127.0.0.1:http"), "{err}");
    }
}
