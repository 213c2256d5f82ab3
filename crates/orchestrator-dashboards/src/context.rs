//! What the dashboards take their thresholds from: the KPI targets and the alert rules.

use orchestrator_alerts::{AlertRule, AlertTuning, default_rules};
use orchestrator_kpi::{Direction, Kpi, KpiConfig};
use orchestrator_query::CmpOp;

use crate::DashboardError;
use crate::panel::{Query, Thresholds};

/// The KPI configuration and alert rules the dashboards are drawn against.
#[derive(Debug, Clone)]
pub struct Context {
    /// The KPIs, with their targets and expressions.
    pub kpis: KpiConfig,
    /// The alert rules, with their thresholds.
    pub rules: Vec<AlertRule>,
}

impl Context {
    /// The default KPIs and the production alert rules.
    pub fn defaults() -> Result<Self, DashboardError> {
        Ok(Context {
            kpis: KpiConfig::default(),
            rules: default_rules(&AlertTuning::production())
                .map_err(|e| DashboardError::Source(e.to_string()))?,
        })
    }

    /// The KPI `id`.
    pub fn kpi(&self, id: &str) -> Result<&Kpi, DashboardError> {
        self.kpis
            .kpis()
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| DashboardError::Source(format!("no KPI `{id}`")))
    }

    /// The query of KPI `id`'s trend against its previous window (the expression the KPI
    /// engine evaluates, [`Kpi::trend`]): a relative change for users and money, a
    /// difference in the KPI's unit otherwise (`panel_unit`, the unit of the KPI's value).
    pub fn kpi_trend(&self, id: &str, panel_unit: &'static str) -> Result<Query, DashboardError> {
        let kpi = self.kpi(id)?;
        let expr = kpi
            .trend()
            .map_err(|e| DashboardError::Source(e.to_string()))?;
        let unit = if kpi.unit.relative_trend() {
            "percentunit"
        } else {
            panel_unit
        };
        Ok(Query::of(expr, &format!("vs previous {}", kpi.window)).in_unit(unit))
    }

    /// The business figure `id` over its period (`sum(increase(counter[1d]))`), the
    /// expression the KPI engine evaluates.
    pub fn figure(&self, id: &str) -> Result<Query, DashboardError> {
        let f = self.find_figure(id)?;
        Ok(Query::of(f.expr.clone(), &format!("last {}", f.period)))
    }

    /// The business figure `id`'s change against the period before, relative (shown as a
    /// percentage beside the figure).
    pub fn figure_trend(&self, id: &str) -> Result<Query, DashboardError> {
        let f = self.find_figure(id)?;
        Ok(Query::of(f.trend.clone(), &format!("vs previous {}", f.period)).in_unit("percentunit"))
    }

    fn find_figure(&self, id: &str) -> Result<&orchestrator_kpi::Figure, DashboardError> {
        self.kpis
            .figures()
            .iter()
            .find(|f| f.id == id)
            .ok_or_else(|| DashboardError::Source(format!("no business figure `{id}`")))
    }

    /// The thresholds of the KPI `id`: its target, good on its better side.
    pub fn kpi_thresholds(&self, id: &str) -> Result<Thresholds, DashboardError> {
        let kpi = self.kpi(id)?;
        Ok(match kpi.direction {
            Direction::HigherIsBetter => Thresholds::GoodAbove(kpi.target),
            Direction::LowerIsBetter => Thresholds::BadAbove(kpi.target),
        })
    }

    /// The thresholds of the alert rule `name`: where it starts to hold.
    pub fn alert_thresholds(&self, name: &str) -> Result<Thresholds, DashboardError> {
        let rule = self
            .rules
            .iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| DashboardError::Source(format!("no alert rule `{name}`")))?;
        match rule.comparison() {
            Some((CmpOp::Gt | CmpOp::Ge, v)) => Ok(Thresholds::BadAbove(v)),
            Some((CmpOp::Lt | CmpOp::Le, v)) => Ok(Thresholds::GoodAbove(v)),
            _ => Err(DashboardError::Source(format!(
                "alert rule `{name}` has no threshold comparison"
            ))),
        }
    }
}
