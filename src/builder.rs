//! `Telemetry::builder() ... .install()`.

#[cfg(feature = "kpi")]
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(feature = "kpi")]
use std::time::Duration;

#[cfg(feature = "prometheus")]
use orchestrator_exporters::ProcessCollectorConfig;
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
#[derive(Debug, Default)]
pub struct TelemetryBuilder {
    metrics: MetricsBuilder,
    #[cfg(feature = "prometheus")]
    serve: crate::serve::ServeConfig,
    #[cfg(feature = "kpi")]
    monitor: crate::monitor::MonitorConfig,
    #[cfg(feature = "traces")]
    tracing: crate::tracer_config::TracingConfig,
    #[cfg(feature = "prometheus")]
    push: crate::metrics_push::PushConfig,
    #[cfg(feature = "redis")]
    budget_store: Option<(
        orchestrator_kpi::RedisBudgetConfig,
        orchestrator_metrics::FailMode,
    )>,
    instance: Option<String>,
}

impl TelemetryBuilder {
    /// Keeps the budgets' spend, and the holds of enforcing budgets, in Redis: every replica
    /// reads and holds the fleet's spend, and a restarted process resumes it. `fail` says
    /// what a reservation does when Redis cannot be reached: `FailMode::Open` checks this
    /// process's own figure, `FailMode::Closed` refuses (both counted in
    /// `orchestrator_telemetry_dropped_total{queue="budget_store"}`).
    #[cfg(feature = "redis")]
    pub fn redis_budgets(
        mut self,
        config: orchestrator_kpi::RedisBudgetConfig,
        fail: orchestrator_metrics::FailMode,
    ) -> Self {
        self.budget_store = Some((config, fail));
        self
    }

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
        self.serve.listen = Some(addr.into());
        self
    }

    /// Starts no listener: mount [`MetricsEndpoint::router`](orchestrator_exporters::MetricsEndpoint::router) on your own router instead.
    #[cfg(feature = "prometheus")]
    pub fn without_listener(mut self) -> Self {
        self.serve.listen = None;
        self
    }

    /// Configures the process collector (interval, memory limit).
    #[cfg(feature = "prometheus")]
    pub fn process_collector(mut self, config: ProcessCollectorConfig) -> Self {
        self.serve.process = Some(config);
        self
    }

    /// Starts no process collector.
    #[cfg(feature = "prometheus")]
    pub fn without_process_collector(mut self) -> Self {
        self.serve.process = None;
        self
    }

    /// Configures the KPIs with `orchestrator-kpi`'s own [`KpiConfig`] (default: the
    /// spec's five): their targets and windows. A refused setting (an unknown KPI id, a
    /// target that is not finite) fails `build` with [`InstallError::Kpis`].
    ///
    /// ```
    /// use orchestrator_telemetry::Telemetry;
    ///
    /// let telemetry = Telemetry::builder()
    ///     .without_listener()
    ///     .kpis(|k| k.target("response_time_p95", 0.2))
    ///     .build()?;
    /// # telemetry.shutdown();
    /// # Ok::<(), orchestrator_telemetry::InstallError>(())
    /// ```
    #[cfg(feature = "kpi")]
    pub fn kpis(
        mut self,
        configure: impl FnOnce(KpiConfig) -> Result<KpiConfig, orchestrator_kpi::KpiConfigError>,
    ) -> Self {
        if let Ok(kpis) = &mut self.monitor.kpis {
            let current = std::mem::take(kpis);
            self.monitor.kpis = configure(current);
        }
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

    /// Configures alerting with `orchestrator-alerts`' own [`AlertingConfig`]: the rules
    /// evaluated in-process (default: the spec's four), SLOs, sinks, direct channels and
    /// their routing, retries, or `without_evaluator()` to leave evaluation to Prometheus.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use orchestrator_telemetry::Telemetry;
    /// use orchestrator_telemetry::orchestrator_alerts::{AlertTuning, LogSink};
    ///
    /// let telemetry = Telemetry::builder()
    ///     .without_listener()
    ///     .alerts(|a| a.tuning(AlertTuning::production()).sink(Arc::new(LogSink)))
    ///     .build()?;
    /// # telemetry.shutdown();
    /// # Ok::<(), orchestrator_telemetry::InstallError>(())
    /// ```
    ///
    /// [`AlertingConfig`]: orchestrator_alerts::AlertingConfig
    #[cfg(feature = "alerts")]
    pub fn alerts(
        mut self,
        configure: impl FnOnce(
            orchestrator_alerts::AlertingConfig,
        ) -> orchestrator_alerts::AlertingConfig,
    ) -> Self {
        self.monitor.alerts = configure(self.monitor.alerts);
        self
    }

    /// Configures tracing with `orchestrator-tower`'s own [`TracerBuilder`]: the head
    /// sampler (default parent-based 10 %), keeping every failed or slow trace, OTLP
    /// export, the trace store's capacity, the `service.name`. What is set here takes
    /// precedence over the `OTEL_*` variables, which are read first (unless
    /// [`ignore_otel_env`](Self::ignore_otel_env)). Several calls apply in order.
    ///
    /// ```
    /// use std::time::Duration;
    /// use orchestrator_telemetry::Telemetry;
    /// use orchestrator_telemetry::orchestrator_tower::Sampler;
    ///
    /// let sampler = Sampler::parent_based_ratio(0.25)?;
    /// let telemetry = Telemetry::builder()
    ///     .without_listener()
    ///     .ignore_otel_env()
    ///     .tracing(move |t| {
    ///         t.sampler(sampler)
    ///             .keep_errors_and_slow(Duration::from_secs(2))
    ///             .service_name("chat-orchestrator")
    ///     })
    ///     .build()?;
    /// assert_eq!(telemetry.tracer().sampler().to_string(), "parentbased_traceidratio(0.25)");
    /// # telemetry.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [`TracerBuilder`]: orchestrator_tower::TracerBuilder
    #[cfg(feature = "traces")]
    pub fn tracing(
        mut self,
        configure: impl FnOnce(orchestrator_tower::TracerBuilder) -> orchestrator_tower::TracerBuilder
        + Send
        + 'static,
    ) -> Self {
        self.tracing.configure.push(Box::new(configure));
        self
    }

    /// Ignores the `OTEL_*` variables (tests, or processes whose environment is not
    /// theirs to read).
    #[cfg(any(feature = "traces", feature = "prometheus"))]
    pub fn ignore_otel_env(mut self) -> Self {
        #[cfg(feature = "traces")]
        {
            self.tracing.read_env = false;
        }
        #[cfg(feature = "prometheus")]
        {
            self.push.read_env = false;
        }
        self
    }

    /// Pushes the registry over OTLP as `config` says, whatever `OTEL_METRICS_EXPORTER`
    /// says (`/metrics` stays as the variable, or its default, has it). Without this, the
    /// push runs when `OTEL_METRICS_EXPORTER` lists `otlp`, configured by the
    /// `OTEL_EXPORTER_OTLP_METRICS_*` variables.
    #[cfg(feature = "prometheus")]
    pub fn otlp_metrics(mut self, config: orchestrator_exporters::otlp::OtlpMetricsConfig) -> Self {
        self.push.otlp = Some(config);
        self
    }

    /// Also shows the GenAI semantic conventions' LLM metrics on `/metrics`, under the names
    /// the OpenTelemetry Prometheus exporter gives them (`gen_ai_client_token_usage_bucket`,
    /// `gen_ai_client_operation_duration_seconds_bucket`, ...), for boards written against
    /// those. The OTLP push always carries them.
    #[cfg(feature = "prometheus")]
    pub fn expose_gen_ai_names(mut self) -> Self {
        self.push.expose_gen_ai_names = true;
        self
    }

    /// The `service.name` of the pushed metrics and of the exported spans (default:
    /// `OTEL_SERVICE_NAME`, else `unknown_service`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        #[cfg(feature = "prometheus")]
        {
            self.push.service_name = Some(name.clone());
        }
        #[cfg(feature = "traces")]
        {
            self.tracing
                .configure
                .push(Box::new(move |t| t.service_name(name)));
        }
        #[cfg(not(any(feature = "traces", feature = "prometheus")))]
        let _ = name;
        self
    }

    /// Serves no live page (`/dashboard` and `/api/v1/...`) beside `/metrics`.
    #[cfg(feature = "prometheus")]
    pub fn without_live_page(mut self) -> Self {
        self.serve.live_page = false;
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
        self.serve.bearer_token = Some(token.into());
        self
    }

    /// Serves the live page (`/dashboard`, `/api/v1/...`) on a listener bound to a public
    /// address without a bearer token. Without it (or a token), such a listener serves
    /// `/metrics` only, answers 404 with a hint on the page's paths, and logs one warning:
    /// the page shows the service's traffic and, when content is recorded, its prompts and
    /// completions. Loopback addresses serve the page either way.
    #[cfg(feature = "prometheus")]
    pub fn public_live_page(mut self) -> Self {
        self.serve.public_live_page = true;
        self
    }

    /// Marks the login cookie `Secure`, for a live page served behind https (a
    /// TLS-terminating proxy). Off by default: the listener itself speaks plain HTTP.
    #[cfg(feature = "prometheus")]
    pub fn secure_cookie(mut self, secure: bool) -> Self {
        self.serve.secure_cookie = secure;
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
        #[cfg(feature = "redis")]
        let metrics = match &self.budget_store {
            Some((config, fail)) => {
                let store = orchestrator_kpi::RedisBudgetStore::start(config.clone(), &registry)?;
                self.metrics.budget_store(std::sync::Arc::new(store), *fail)
            }
            None => self.metrics,
        }
        .build(&registry);
        #[cfg(not(feature = "redis"))]
        let metrics = self.metrics.build(&registry);
        // A refused KPI setting fails the monitor's start just below.
        #[cfg(all(feature = "kpi", feature = "prometheus"))]
        let kpi_config = self.monitor.kpis.as_ref().cloned().unwrap_or_default();
        #[cfg(feature = "kpi")]
        let monitor = crate::monitor::start(self.monitor, &registry, &metrics)?;
        #[cfg(feature = "traces")]
        let tracer = self.tracing.build(&metrics)?;
        #[cfg(feature = "prometheus")]
        let exporting = crate::metrics_push::start(self.push, &registry, self.instance.as_deref())?;
        #[cfg(feature = "prometheus")]
        let serving = crate::serve::start(
            crate::serve::ServeConfig {
                serve_metrics: exporting.serve_metrics,
                ..self.serve
            },
            &registry,
            crate::live::Source {
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
            },
        )?;
        Ok(TelemetryGuard {
            #[cfg(feature = "prometheus")]
            serving,
            #[cfg(feature = "prometheus")]
            metrics_push: exporting.push,
            #[cfg(feature = "traces")]
            tracer,
            #[cfg(feature = "kpi")]
            monitor,
            registry,
            metrics,
            instance: self.instance,
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
