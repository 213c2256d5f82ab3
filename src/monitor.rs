//! The monitor thread behind `Telemetry`: distinct users, sampling, KPI evaluation.

use std::sync::Arc;
use std::time::Duration;

use orchestrator_kpi::{
    ActivityBackend, BusinessRecorder, KpiConfig, KpiEngine, KpiHandle, LocalActivity,
    activity_hook,
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
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            enabled: true,
            interval: Duration::from_secs(15),
            kpis: KpiConfig::default(),
            activity: None,
        }
    }
}

/// What the monitor hands to the guard.
#[derive(Debug)]
pub(crate) struct Running {
    pub(crate) monitor: Option<Monitor>,
    pub(crate) kpis: KpiHandle,
    pub(crate) business: BusinessRecorder,
}

pub(crate) fn start(
    config: MonitorConfig,
    registry: &Registry,
    metrics: &Metrics,
) -> Result<Running, InstallError> {
    let activity = config
        .activity
        .unwrap_or_else(|| Arc::new(LocalActivity::new()));
    let business = BusinessRecorder::new(metrics.clone(), activity.clone());
    let engine = KpiEngine::new(config.kpis, registry)?;
    let kpis = engine.handle();
    let monitor = if config.enabled {
        let monitor = MonitorBuilder::new(Sampler::local(registry))
            .interval(config.interval)
            .hook(activity_hook(activity, registry)?)
            .evaluator(Box::new(engine))
            .start()
            .map_err(InstallError::Monitor)?;
        Some(monitor)
    } else {
        None
    };
    Ok(Running {
        monitor,
        kpis,
        business,
    })
}
