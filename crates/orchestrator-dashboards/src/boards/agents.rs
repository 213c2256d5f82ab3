//! The agent row of the business intelligence dashboard: what each agent's runs do and
//! cost (runs, duration, steps, tool errors, spend per run, runs over a limit).

use orchestrator_metrics::catalogue as c;
use orchestrator_query::{Expr, Selector, Window};

use super::{five_minutes, rate_by};
use crate::DashboardError;
use crate::panel::{Kind, Panel, Query};

/// `histogram_quantile(q, sum by (le, agent) (rate(metric_bucket[5m])))`.
fn by_agent(q: f64, def: &'static c::MetricDef) -> Result<Expr, DashboardError> {
    let rate = Expr::rate(Selector::buckets(def), five_minutes()?)?.sum_by(["le", "agent"])?;
    Ok(Expr::histogram_quantile(q, rate)?)
}

/// `sum by (agent) (increase(metric[window]))`.
fn increase_by_agent(sel: Selector, window: Window) -> Result<Expr, DashboardError> {
    Ok(Expr::increase(sel, window)?.sum_by(["agent"])?)
}

/// The agent panels.
pub(crate) fn agent_row() -> Result<Vec<Panel>, DashboardError> {
    let hour = Window::hours(1)?;
    let tool_errors = Expr::rate(Selector::of(&c::AGENT_TOOL_ERRORS_TOTAL), five_minutes()?)?
        .sum_by(["agent"])?
        .ratio(
            Expr::rate(Selector::sum(&c::AGENT_TOOL_CALLS), five_minutes()?)?.sum_by(["agent"])?,
        )?;
    let cost_per_run = increase_by_agent(Selector::of(&c::AGENT_LLM_COST_USD_TOTAL), hour)?
        .ratio(increase_by_agent(Selector::of(&c::AGENT_RUNS_TOTAL), hour)?)?;
    let over_limit = Expr::increase(Selector::of(&c::AGENT_LIMIT_EXCEEDED_TOTAL), hour)?
        .sum_by(["agent", "limit"])?;
    Ok(vec![
        Panel::new(
            Kind::TimeSeries,
            "Agent runs by outcome",
            "reqps",
            Query::of(
                rate_by(&c::AGENT_RUNS_TOTAL, &["agent", "outcome"])?,
                "{{agent}} {{outcome}}",
            ),
        ),
        Panel::new(
            Kind::TimeSeries,
            "Agent run duration p95",
            "s",
            Query::of(by_agent(0.95, &c::AGENT_RUN_DURATION_SECONDS)?, "{{agent}}"),
        ),
        Panel::new(
            Kind::TimeSeries,
            "Steps per agent run p95",
            "short",
            Query::of(by_agent(0.95, &c::AGENT_STEPS)?, "{{agent}}"),
        )
        .describe("LLM calls per run at the 95th percentile; a rise is an agent that loops."),
        Panel::new(
            Kind::TimeSeries,
            "Tool error rate by agent",
            "percentunit",
            Query::of(tool_errors, "{{agent}}"),
        ),
        Panel::new(
            Kind::TimeSeries,
            "LLM spend per agent run (1 h)",
            "currencyUSD",
            Query::of(cost_per_run, "{{agent}}"),
        )
        .describe("The agent's LLM spend over its runs in the last hour (sub-agents' spend is their own)."),
        Panel::new(
            Kind::TimeSeries,
            "Agent runs over a limit (1 h)",
            "short",
            Query::of(over_limit, "{{agent}} {{limit}}"),
        )
        .describe("Runs that crossed a configured step or spend limit; AgentRunaway fires on them."),
    ])
}
