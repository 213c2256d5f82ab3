//! The monitor thread behind `Telemetry`: distinct users, sampling, KPI evaluation, and
//! (with the `alerts` feature) alert evaluation.

use std::sync::Arc;
use std::time::Duration;

use orchestrator_kpi::{
    ActivityBackend, ActivityStatus, BusinessRecorder, KpiConfig, KpiEngine, KpiHandle,
    LocalActivity, activity_hook,
};
use orchestrator_metrics::{Metrics, Registry};
use orchestrator_query::{Monitor, MonitorBuilder, Sampler};

use crate::InstallError;

/// How the monitor is configured.
#[derive(Debug, Clone)]
pub(crate) struct MonitorConfig {
    pub(crate) enabled: bool,
    pub(crate) interval: Duration,
    pub(crate) kpis: KpiConfig,
    pub(crate) activity: Option<Arc<dyn ActivityBackend>>,
    /// Distinct users in Redis, built with the guard's registry (its drop counter).
    #[cfg(feature = "redis")]
    pub(crate) redis: Option<orchestrator_kpi::RedisActivityConfig>,
    #[cfg(feature = "alerts")]
    pub(crate) alerts: AlertConfig,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            enabled: true,
            interval: Duration::from_secs(15),
            kpis: KpiConfig::default(),
            activity: None,
            #[cfg(feature = "redis")]
            redis: None,
            #[cfg(feature = "alerts")]
            alerts: AlertConfig::default(),
        }
    }
}

/// Why alerting could not be set up ([`InstallError::Alerts`]).
#[cfg(feature = "alerts")]
#[derive(Debug, thiserror::Error)]
pub enum AlertSetupError {
    /// A default rule could not be built (a bug: they are tested).
    #[error(transparent)]
    Rule(#[from] orchestrator_alerts::RuleError),
    /// An SLO could not be turned into rules.
    #[error(transparent)]
    Slo(#[from] orchestrator_alerts::SloError),
    /// The evaluator refused the rules or could not start.
    #[error(transparent)]
    Evaluator(#[from] orchestrator_alerts::EvaluatorError),
}

/// The alert rules and where their notifications go.
#[cfg(feature = "alerts")]
#[derive(Debug, Clone)]
pub(crate) struct AlertConfig {
    /// `None`: the four default rules with `tuning`.
    pub(crate) rules: Option<Vec<orchestrator_alerts::AlertRule>>,
    pub(crate) tuning: orchestrator_alerts::AlertTuning,
    pub(crate) slos: Vec<orchestrator_alerts::Slo>,
    pub(crate) sinks: Vec<Arc<dyn orchestrator_alerts::Sink>>,
    /// Direct channels, given only the severities `routing` sends them.
    pub(crate) channels: Vec<(
        orchestrator_alerts::generate::Channel,
        Arc<dyn orchestrator_alerts::Sink>,
    )>,
    pub(crate) routing: orchestrator_alerts::generate::Routing,
    pub(crate) retry: orchestrator_alerts::RetryPolicy,
    pub(crate) resend_delay: Duration,
    /// `false`: no rule is evaluated in-process (Prometheus evaluates the generated ones).
    pub(crate) evaluate: bool,
}

#[cfg(feature = "alerts")]
impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            rules: None,
            tuning: orchestrator_alerts::AlertTuning::production(),
            slos: Vec::new(),
            sinks: vec![Arc::new(orchestrator_alerts::LogSink)],
            channels: Vec::new(),
            routing: orchestrator_alerts::generate::Routing::default(),
            retry: orchestrator_alerts::RetryPolicy::default(),
            resend_delay: Duration::from_secs(60),
            evaluate: true,
        }
    }
}

#[cfg(feature = "alerts")]
fn alert_evaluator(
    config: AlertConfig,
    interval: Duration,
    registry: &Registry,
) -> Result<orchestrator_alerts::AlertEvaluator, InstallError> {
    use orchestrator_alerts::{AlertEvaluator, EvaluatorConfig, default_rules};
    let mut rules = match config.rules {
        _ if !config.evaluate => Vec::new(),
        Some(rules) => rules,
        None => default_rules(&config.tuning).map_err(AlertSetupError::from)?,
    };
    for slo in config.slos.iter().filter(|_| config.evaluate) {
        rules.extend(
            slo.rules(&config.tuning.service)
                .map_err(AlertSetupError::from)?
                .alerts,
        );
    }
    let evaluator_config = EvaluatorConfig {
        resend_delay: config.resend_delay,
        interval,
        retry: config.retry,
        ..EvaluatorConfig::default()
    };
    let mut sinks = config.sinks;
    for (channel, sink) in config.channels {
        sinks.push(config.routing.sink(channel, sink));
    }
    AlertEvaluator::new(rules, registry, sinks, evaluator_config)
        .map_err(|e| InstallError::Alerts(e.into()))
}

/// What the monitor hands to the guard.
#[derive(Debug)]
pub(crate) struct Running {
    pub(crate) monitor: Option<Monitor>,
    pub(crate) kpis: KpiHandle,
    pub(crate) business: BusinessRecorder,
    pub(crate) activity: ActivityStatus,
    #[cfg(feature = "alerts")]
    pub(crate) alerts: orchestrator_alerts::AlertsHandle,
}

pub(crate) fn start(
    config: MonitorConfig,
    registry: &Registry,
    metrics: &Metrics,
) -> Result<Running, InstallError> {
    #[cfg(feature = "redis")]
    let activity = match config.redis {
        Some(redis) => Some(Arc::new(
            orchestrator_kpi::RedisActivity::new(redis, registry)
                .map_err(InstallError::Activity)?,
        ) as Arc<dyn ActivityBackend>),
        None => config.activity,
    };
    #[cfg(not(feature = "redis"))]
    let activity = config.activity;
    let activity = activity.unwrap_or_else(|| Arc::new(LocalActivity::new()));
    let status = ActivityStatus::new(activity.scope());
    let business = BusinessRecorder::new(metrics.clone(), activity.clone());
    let engine = KpiEngine::new(config.kpis, registry)?;
    let kpis = engine.handle();
    #[cfg(feature = "alerts")]
    let evaluator = alert_evaluator(config.alerts, config.interval, registry)?;
    #[cfg(feature = "alerts")]
    let alerts = evaluator.handle();
    let monitor = if config.enabled {
        let builder = MonitorBuilder::new(Sampler::local(registry))
            .interval(config.interval)
            .hook(activity_hook(activity, registry, status.clone())?)
            .evaluator(Box::new(engine));
        #[cfg(feature = "alerts")]
        let builder = builder.evaluator(Box::new(evaluator));
        Some(builder.start().map_err(InstallError::Monitor)?)
    } else {
        None
    };
    Ok(Running {
        monitor,
        kpis,
        business,
        activity: status,
        #[cfg(feature = "alerts")]
        alerts,
    })
}
