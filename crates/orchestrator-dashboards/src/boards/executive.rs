//! Executive: revenue, users, satisfaction, KPIs against their targets. 12 panels, 1 m.

use orchestrator_metrics::catalogue as c;
use orchestrator_query::{Expr, Selector, Window};

use super::total_over;
use crate::panel::{Kind, Panel, Query};
use crate::{Context, Dashboard, DashboardError};

/// The executive dashboard.
pub fn executive(ctx: &Context) -> Result<Dashboard, DashboardError> {
    let hour = Window::hours(1)?;
    let kpi = |id: &str, title: &str, unit: &'static str| -> Result<Panel, DashboardError> {
        let k = ctx.kpi(id)?;
        Ok(
            Panel::new(Kind::Stat, title, unit, Query::of(k.expr.clone(), k.name))
                .query(ctx.kpi_trend(id, unit)?)
                .describe(&format!(
                    "{}, against its target ({}), and its change against the previous {}.",
                    k.name, k.target, k.window
                ))
                .thresholds(ctx.kpi_thresholds(id)?),
        )
    };
    let users = |window: &str| Expr::value(Selector::of(&c::ACTIVE_USERS).eq("window", window));
    let panels = vec![
        Panel::new(
            Kind::Stat,
            "Revenue (24 h)",
            "currencyUSD",
            ctx.figure("revenue")?,
        )
        .query(ctx.figure_trend("revenue")?)
        .describe("Revenue over the last day, and its change against the day before."),
        Panel::new(
            Kind::TimeSeries,
            "Revenue per hour",
            "currencyUSD",
            Query::of(total_over(&c::REVENUE_USD_TOTAL, hour)?, "revenue"),
        ),
        kpi("monthly_active_users", "Monthly active users", "short")?,
        Panel::new(
            Kind::TimeSeries,
            "Distinct users",
            "short",
            Query::of(users("1d")?, "daily"),
        )
        .query(Query::of(users("7d")?, "weekly"))
        .query(Query::of(users("30d")?, "monthly")),
        kpi("revenue_per_user", "Revenue per user", "currencyUSD")?,
        kpi("customer_satisfaction", "Customer satisfaction", "none")?,
        kpi("response_time_p95", "Response time p95", "s")?,
        kpi("error_rate", "Error rate", "percentunit")?,
        Panel::new(
            Kind::BarGauge,
            "KPIs against targets",
            "none",
            Query::of(Expr::value(Selector::of(&c::KPI_VALUE))?, "{{kpi}}"),
        )
        .query(Query::of(
            Expr::value(Selector::of(&c::KPI_TARGET))?,
            "{{kpi}} target",
        ))
        .describe("Each KPI evaluated in-process, beside its target, in the KPI's unit."),
        Panel::new(
            Kind::Stat,
            "Conversions (24 h)",
            "short",
            ctx.figure("conversions")?,
        )
        .query(ctx.figure_trend("conversions")?),
        Panel::new(
            Kind::Stat,
            "LLM spend (24 h)",
            "currencyUSD",
            ctx.figure("llm_spend")?,
        )
        .query(ctx.figure_trend("llm_spend")?),
        Panel::new(
            Kind::Stat,
            "Sessions (24 h)",
            "short",
            ctx.figure("sessions")?,
        )
        .query(ctx.figure_trend("sessions")?),
    ];
    Ok(Dashboard {
        uid: "orchestrator-executive",
        title: "Orchestrator — Executive",
        refresh: "1m",
        from: "now-24h",
        panels,
    })
}
