//! The business figures beside the KPIs, the origin document's "Tendance" column: revenue,
//! LLM spend, sessions, conversions and API requests over the last period (a day by
//! default), each with its relative change against the period before.

use orchestrator_metrics::catalogue::{self, MetricDef};
use orchestrator_query::{Expr, ExprError, Selector, Window};

use crate::KpiUnit;

/// One business figure: its total over the period and the expression of its trend.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Stable identifier (`revenue`).
    pub id: &'static str,
    /// Display name (`Revenue`).
    pub name: &'static str,
    /// How the value prints (money or a count).
    pub unit: KpiUnit,
    /// The period the total covers, and the trend compares with the one before.
    pub period: Window,
    /// The total over the period, exact for a process younger than it: `Expr::total`,
    /// summed.
    pub expr: Expr,
    /// The change against the previous period, relative: `(now - before) / (before > 0)`.
    pub trend: Expr,
}

/// What the default figures count.
const FIGURES: [(&str, &str, KpiUnit, &MetricDef); 5] = [
    (
        "revenue",
        "Revenue",
        KpiUnit::Usd,
        &catalogue::REVENUE_USD_TOTAL,
    ),
    (
        "llm_spend",
        "LLM spend",
        KpiUnit::Usd,
        &catalogue::LLM_COST_USD_TOTAL,
    ),
    (
        "sessions",
        "Sessions",
        KpiUnit::Count,
        &catalogue::SESSIONS_TOTAL,
    ),
    (
        "conversions",
        "Conversions",
        KpiUnit::Count,
        &catalogue::CONVERSIONS_TOTAL,
    ),
    (
        "requests",
        "API requests",
        KpiUnit::Count,
        &catalogue::REQUESTS_TOTAL,
    ),
];

/// The default figures over `period`, each trending against the period before.
pub fn business_figures(period: Window) -> Result<Vec<Figure>, ExprError> {
    FIGURES
        .iter()
        .map(|&(id, name, unit, def)| {
            let expr = Expr::total(Selector::of(def), period)?.sum();
            Ok(Figure {
                id,
                name,
                unit,
                period,
                trend: expr.clone().relative_change_since(period)?,
                expr,
            })
        })
        .collect()
}

/// One figure, evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureResult {
    /// Identifier.
    pub id: &'static str,
    /// Name.
    pub name: &'static str,
    /// The unit.
    pub unit: KpiUnit,
    /// The total over the period, `None` without data.
    pub value: Option<f64>,
    /// The relative change against the previous period, once the store holds it whole.
    pub trend: Option<f64>,
}
