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
    /// The KPIs, or the first setting `.kpis(..)` refused (reported by `build`).
    pub(crate) kpis: Result<KpiConfig, orchestrator_kpi::KpiConfigError>,
    pub(crate) activity: Option<Arc<dyn ActivityBackend>>,
    /// Distinct users in Redis, built with the guard's registry (its drop counter).
    #[cfg(feature = "redis")]
    pub(crate) redis: Option<orchestrator_kpi::RedisActivityConfig>,
    #[cfg(feature = "alerts")]
    pub(crate) alerts: orchestrator_alerts::AlertingConfig,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            enabled: true,
            interval: Duration::from_secs(15),
            kpis: Ok(KpiConfig::default()),
            activity: None,
            #[cfg(feature = "redis")]
            redis: None,
            #[cfg(feature = "alerts")]
            alerts: orchestrator_alerts::AlertingConfig::default(),
        }
    }
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
    let engine = KpiEngine::new(config.kpis?, registry)?;
    let kpis = engine.handle();
    #[cfg(feature = "alerts")]
    let evaluator = config.alerts.evaluator(config.interval, registry)?;
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
