//! Evaluating the KPIs in-process after every sample, and publishing them as gauges.

use std::sync::{Arc, PoisonError, RwLock};

use orchestrator_metrics::{GaugeHandle, Registry, catalogue};
use orchestrator_query::{Evaluator, Expr, Hook, SampleStore, Selector, covers, eval};
use orchestrator_support::Millis;

use crate::activity::{ActivityBackend, ActivityStatus, WINDOWS};
use crate::{KpiConfig, KpiReport, KpiResult};

/// The latest KPI report, shared with whoever shows it (the demo, the live page).
#[derive(Debug, Clone, Default)]
pub struct KpiHandle(Arc<RwLock<Option<KpiReport>>>);

impl KpiHandle {
    /// The latest report, once one was evaluated.
    pub fn latest(&self) -> Option<KpiReport> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Evaluates the configured KPIs over the sample store, exports
/// `orchestrator_kpi_value{kpi}`, `orchestrator_kpi_target{kpi}` and
/// `orchestrator_customer_lifetime_value_usd`, and keeps the latest report.
#[derive(Debug)]
pub struct KpiEngine {
    config: KpiConfig,
    /// Created at the first value: no data exports nothing rather than a made-up zero.
    values: Vec<LazyGauge>,
    lifetime_value: LazyGauge,
    lifetime_value_expr: Option<Expr>,
    /// Each KPI's trend expression, in configuration order.
    trends: Vec<Option<Expr>>,
    latest: KpiHandle,
}

/// A gauge series created when it first gets a value, so that "not computable yet" is an
/// absent series rather than a zero.
#[derive(Debug)]
struct LazyGauge {
    registry: Registry,
    def: &'static catalogue::MetricDef,
    labels: Vec<&'static str>,
    handle: Option<GaugeHandle>,
}

impl LazyGauge {
    fn new(
        registry: &Registry,
        def: &'static catalogue::MetricDef,
        labels: Vec<&'static str>,
    ) -> Self {
        LazyGauge {
            registry: registry.clone(),
            def,
            labels,
            handle: None,
        }
    }

    fn set(&mut self, value: f64) {
        if self.handle.is_none() {
            self.handle = self.registry.gauge(self.def, &self.labels).ok();
        }
        if let Some(handle) = &self.handle {
            let _ = handle.set(value);
        }
    }
}

impl KpiEngine {
    /// An engine for `config`, publishing into `registry`.
    pub fn new(
        config: KpiConfig,
        registry: &Registry,
    ) -> Result<Self, orchestrator_metrics::RegistryError> {
        let mut values = Vec::new();
        for kpi in config.kpis() {
            registry
                .gauge(&catalogue::KPI_TARGET, &[kpi.id])?
                .set(kpi.target)
                .ok();
            values.push(LazyGauge::new(
                registry,
                &catalogue::KPI_VALUE,
                vec![kpi.id],
            ));
        }
        Ok(KpiEngine {
            lifetime_value_expr: lifetime_value_expr(&config),
            trends: config.kpis().iter().map(|k| k.trend().ok()).collect(),
            config,
            values,
            lifetime_value: LazyGauge::new(
                registry,
                &catalogue::CUSTOMER_LIFETIME_VALUE_USD,
                vec![],
            ),
            latest: KpiHandle::default(),
        })
    }

    /// The handle to the latest report.
    pub fn handle(&self) -> KpiHandle {
        self.latest.clone()
    }

    /// Evaluates every KPI at `at`.
    pub fn report(&self, store: &SampleStore, at: Millis) -> KpiReport {
        let results = self
            .config
            .kpis()
            .iter()
            .zip(&self.trends)
            .map(|(kpi, trend)| {
                let value = eval(&kpi.expr, store, at).scalar();
                let trend = trend
                    .as_ref()
                    .filter(|t| covers(store, t, at))
                    .and_then(|t| eval(t, store, at).scalar());
                KpiResult {
                    trend,
                    id: kpi.id,
                    name: kpi.name,
                    value,
                    target: kpi.target,
                    direction: kpi.direction,
                    unit: kpi.unit,
                    gap: value.map(|v| kpi.gap(v)),
                }
            })
            .collect();
        let figures = self
            .config
            .figures()
            .iter()
            .map(|f| crate::FigureResult {
                id: f.id,
                name: f.name,
                unit: f.unit,
                value: eval(&f.expr, store, at).scalar(),
                trend: covers(store, &f.trend, at)
                    .then(|| eval(&f.trend, store, at).scalar())
                    .flatten(),
            })
            .collect();
        KpiReport {
            at,
            results,
            figures,
        }
    }
}

/// Revenue per user divided by churn, when both KPIs' inputs are configured.
fn lifetime_value_expr(config: &KpiConfig) -> Option<Expr> {
    let rpu = config
        .kpis()
        .iter()
        .find(|k| k.id == "revenue_per_user")?
        .expr
        .clone();
    let churn = Expr::value(Selector::of(&catalogue::CHURN_RATIO))
        .ok()?
        .max();
    rpu.ratio(churn).ok()
}

impl Evaluator for KpiEngine {
    fn watches(&self) -> Vec<Expr> {
        let mut exprs: Vec<Expr> = self.config.kpis().iter().map(|k| k.expr.clone()).collect();
        exprs.extend(self.lifetime_value_expr.clone());
        // The trends read one more window back: the sampler keeps that much history.
        exprs.extend(self.trends.iter().flatten().cloned());
        for figure in self.config.figures() {
            exprs.push(figure.expr.clone());
            exprs.push(figure.trend.clone());
        }
        exprs
    }

    fn evaluate(&mut self, store: &SampleStore, at: Millis) {
        let report = self.report(store, at);
        for (gauge, result) in self.values.iter_mut().zip(&report.results) {
            if let Some(v) = result.value {
                gauge.set(v);
            }
        }
        if let Some(ltv) = self
            .lifetime_value_expr
            .as_ref()
            .and_then(|e| eval(e, store, at).scalar())
        {
            self.lifetime_value.set(ltv);
        }
        *self
            .latest
            .0
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(report);
    }
}

/// A monitor hook that counts distinct users before every sample and sets
/// `orchestrator_active_users{window}` and `orchestrator_churn_ratio`. When counting fails
/// (Redis unreachable), the `orchestrator_active_users` series leave the exposition until a
/// count succeeds again, so neither Prometheus nor the KPIs read a stale figure, and
/// `status` says why.
pub fn activity_hook(
    activity: Arc<dyn ActivityBackend>,
    registry: &Registry,
    status: ActivityStatus,
) -> Result<Hook, orchestrator_metrics::RegistryError> {
    let active: Vec<GaugeHandle> = WINDOWS
        .iter()
        .map(|(_, label)| registry.gauge(&catalogue::ACTIVE_USERS, &[label]))
        .collect::<Result<_, _>>()?;
    // Churn exists only once there is a previous window to compare with.
    let mut churn = LazyGauge::new(registry, &catalogue::CHURN_RATIO, vec![]);
    Ok(Box::new(move |at| match activity.counts(at) {
        Ok(counts) => {
            for (gauge, n) in active.iter().zip(counts.active) {
                let _ = gauge.set(n as f64);
            }
            if let Some(c) = counts.churn {
                churn.set(c);
            }
            if !status.is_available() {
                tracing::info!("distinct users counted again");
                status.set(None);
            }
        }
        Err(err) => {
            for gauge in &active {
                gauge.clear();
            }
            let text = err.to_string();
            if status.error().as_deref() != Some(&text) {
                tracing::warn!(error = %text, "distinct users unavailable; orchestrator_active_users is absent until they can be counted");
                status.set(Some(text));
            }
        }
    }))
}
