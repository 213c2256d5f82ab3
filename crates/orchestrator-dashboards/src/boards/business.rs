//! Business intelligence: conversion, churn, lifetime value, and what drives them, then a
//! row of agent panels. 21 panels, 5 m.

use orchestrator_metrics::catalogue as c;
use orchestrator_query::{Expr, Selector, Window};

use super::{quantile, rate_by, total_over};
use crate::panel::{Kind, Panel, Query};
use crate::{Context, Dashboard, DashboardError};

/// The business intelligence dashboard.
pub fn business_intelligence(ctx: &Context) -> Result<Dashboard, DashboardError> {
    let day = Window::days(1)?;
    let hour = Window::hours(1)?;
    let conversion =
        total_over(&c::CONVERSIONS_TOTAL, day)?.ratio(total_over(&c::SESSIONS_TOTAL, day)?)?;
    let reads = |result: &str| -> Result<Expr, DashboardError> {
        let sel = Selector::of(&c::CACHE_OPERATIONS_TOTAL).eq("operation", "get");
        let sel = if result.is_empty() {
            sel
        } else {
            sel.eq("result", result)
        };
        Ok(Expr::increase(sel, hour)?.sum())
    };
    let margin = total_over(&c::REVENUE_USD_TOTAL, hour)?
        .minus(total_over(&c::LLM_COST_USD_TOTAL, hour)?)?;
    let rpu = ctx.kpi("revenue_per_user")?;
    let mut panels = vec![
        Panel::new(
            Kind::Stat,
            "Conversion rate (24 h)",
            "percentunit",
            Query::of(conversion, "conversions / sessions"),
        ),
        Panel::new(
            Kind::TimeSeries,
            "Conversions per hour",
            "short",
            Query::of(total_over(&c::CONVERSIONS_TOTAL, hour)?, "conversions"),
        ),
        Panel::new(
            Kind::Stat,
            "Churn (30 d)",
            "percentunit",
            Query::of(Expr::value(Selector::of(&c::CHURN_RATIO))?, "churn"),
        )
        .describe("Share of the previous 30 days' users not seen in the last 30 (absent until a previous window exists)."),
        Panel::new(
            Kind::Stat,
            "Customer lifetime value",
            "currencyUSD",
            Query::of(
                Expr::value(Selector::of(&c::CUSTOMER_LIFETIME_VALUE_USD))?,
                "lifetime value",
            ),
        )
        .describe("Revenue per user divided by churn (absent while churn is unknown or zero)."),
        Panel::new(
            Kind::TimeSeries,
            "Sessions per hour",
            "short",
            Query::of(total_over(&c::SESSIONS_TOTAL, hour)?, "sessions"),
        ),
        Panel::new(
            Kind::TimeSeries,
            "Session duration",
            "s",
            Query::of(quantile(0.5, &c::SESSION_DURATION_SECONDS)?, "p50"),
        )
        .query(Query::of(quantile(0.95, &c::SESSION_DURATION_SECONDS)?, "p95")),
        Panel::new(
            Kind::Stat,
            "Active sessions",
            "short",
            Query::of(Expr::value(Selector::of(&c::ACTIVE_SESSIONS))?, "open"),
        ),
        Panel::new(
            Kind::TimeSeries,
            "Mean satisfaction (1 h)",
            "none",
            Query::of(Expr::histogram_mean(&c::USER_SATISFACTION_SCORE, hour)?, "mean"),
        )
        .thresholds(ctx.alert_thresholds("LowCustomerSatisfaction")?),
        Panel::new(
            Kind::TimeSeries,
            "Mean quality (1 h)",
            "none",
            Query::of(Expr::histogram_mean(&c::QUALITY_SCORE, hour)?, "mean"),
        ),
        Panel::new(
            Kind::TimeSeries,
            "Revenue per user (30 d)",
            "currencyUSD",
            Query::of(rpu.expr.clone(), "revenue per user"),
        )
        .query(ctx.kpi_trend("revenue_per_user", "currencyUSD")?)
        .thresholds(ctx.kpi_thresholds("revenue_per_user")?),
        Panel::new(
            Kind::TimeSeries,
            "LLM spend per hour, by model",
            "currencyUSD",
            Query::of(
                Expr::increase(Selector::of(&c::LLM_COST_USD_TOTAL), hour)?
                    .sum_by(["provider", "model"])?,
                "{{provider}}/{{model}}",
            ),
        ),
        Panel::new(
            Kind::TimeSeries,
            "LLM calls refused by budgets per hour, by tenant",
            "short",
            Query::of(
                Expr::increase(Selector::of(&c::TENANT_BUDGET_REJECTIONS_TOTAL), hour)?
                    .sum_by(["tenant", "period"])?,
                "{{tenant}} {{period}}",
            ),
        )
        .describe("Calls an enforcing budget (Policy::Reject) refused before they were sent: their spend is what the budget saved."),
        Panel::new(
            Kind::TimeSeries,
            "Tokens per second, by model and type",
            "short",
            Query::of(
                Expr::rate(Selector::sum(&c::LLM_TOKENS), Window::minutes(5)?)?
                    .sum_by(["model", "token_type"])?,
                "{{model}} {{token_type}}",
            ),
        ),
        Panel::new(
            Kind::TimeSeries,
            "LLM calls by outcome",
            "reqps",
            Query::of(rate_by(&c::LLM_REQUESTS_TOTAL, &["outcome"])?, "{{outcome}}"),
        ),
        Panel::new(
            Kind::Stat,
            "Cache hit ratio (1 h)",
            "percentunit",
            Query::of(reads("hit")?.ratio(reads("")?)?, "hits / reads"),
        ),
        Panel::new(
            Kind::TimeSeries,
            "Gross margin per hour",
            "currencyUSD",
            Query::of(margin, "revenue - LLM spend"),
        )
        .describe("Revenue minus LLM spend, per hour."),
    ];
    panels.extend(super::agents::agent_row()?);
    Ok(Dashboard {
        uid: "orchestrator-business",
        title: "Orchestrator — Business intelligence",
        refresh: "5m",
        from: "now-7d",
        panels,
    })
}
