//! The live page's Agents panel, read from one parsed exposition: per agent the runs, the
//! failed ones, p95 run duration, p95 steps per run, tool calls and their errors, LLM spend
//! and the runs over a limit, since start.

use orchestrator_api::AgentRow;
use orchestrator_metrics::catalogue::{
    AGENT_LIMIT_EXCEEDED_TOTAL, AGENT_LLM_COST_USD_TOTAL, AGENT_RUN_DURATION_SECONDS,
    AGENT_RUNS_TOTAL, AGENT_STEPS, AGENT_TOOL_CALLS, AGENT_TOOL_ERRORS_TOTAL,
};
use orchestrator_metrics::exposition::{Exposition, Sample, histogram_quantile_in};

/// The families the panel reads.
pub(super) const FAMILIES: [&str; 7] = [
    AGENT_RUNS_TOTAL.name,
    AGENT_RUN_DURATION_SECONDS.name,
    AGENT_STEPS.name,
    AGENT_TOOL_CALLS.name,
    AGENT_TOOL_ERRORS_TOTAL.name,
    AGENT_LLM_COST_USD_TOTAL.name,
    AGENT_LIMIT_EXCEEDED_TOTAL.name,
];

/// One row per agent that ended a run, by name.
pub(super) fn agent_rows(e: &Exposition) -> Vec<AgentRow> {
    let mut agents: Vec<&str> = e
        .samples(AGENT_RUNS_TOTAL.name)
        .filter(|s| s.value > 0.0)
        .filter_map(|s| s.label("agent"))
        .collect();
    agents.sort_unstable();
    agents.dedup();
    agents
        .into_iter()
        .map(|agent| {
            let this = |s: &Sample| s.label("agent") == Some(agent);
            let runs = e.sum_where(AGENT_RUNS_TOTAL.name, this);
            let ok = e.sum_where(AGENT_RUNS_TOTAL.name, |s| {
                this(s) && s.label("outcome") == Some("success")
            });
            let (p95_seconds, p95_bucket) =
                super::spend::p95(&e.buckets(AGENT_RUN_DURATION_SECONDS.name, this));
            let steps = e.buckets(AGENT_STEPS.name, this);
            AgentRow {
                agent: agent.to_owned(),
                runs,
                failed: runs - ok,
                p95_seconds,
                p95_bucket,
                steps_p95: histogram_quantile_in(0.95, &steps).map(|q| q.value),
                tool_calls: e.sum_where(&format!("{}_sum", AGENT_TOOL_CALLS.name), this),
                tool_errors: e.sum_where(AGENT_TOOL_ERRORS_TOTAL.name, this),
                cost_usd: e.sum_where(AGENT_LLM_COST_USD_TOTAL.name, this),
                limit_exceeded: e.sum_where(AGENT_LIMIT_EXCEEDED_TOTAL.name, this),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use orchestrator_metrics::{AgentLimit, Metrics, Registry, RunOutcome, TokenUsage};

    use super::*;

    #[test]
    fn a_row_per_agent_from_its_series() {
        let registry = Registry::new();
        let metrics = Metrics::new(&registry);
        let researcher = metrics.agents().agent("researcher");
        for steps in 1..=20 {
            researcher.record_llm(&TokenUsage::new(100, 10), Some(0.01));
            researcher.record_run(RunOutcome::Success, Duration::from_millis(400), steps, 2);
        }
        researcher.record_run(RunOutcome::Cancelled, Duration::from_secs(3), 1, 1);
        researcher.tool_failed();
        researcher.limit_exceeded(AgentLimit::MaxSteps);
        let _idle = metrics.agents().agent("never-ran");
        let e = orchestrator_metrics::exposition::parse(&registry.render()).unwrap();
        let rows = agent_rows(&e);
        assert_eq!(rows.len(), 1, "an agent with no run has no row");
        let row = &rows[0];
        assert_eq!((row.runs, row.failed), (21.0, 1.0));
        assert_eq!((row.tool_calls, row.tool_errors), (41.0, 1.0));
        assert!((row.cost_usd - 0.2).abs() < 1e-9);
        assert_eq!(row.limit_exceeded, 1.0);
        assert!(row.steps_p95.unwrap() > 15.0);
        assert!(row.p95_seconds.is_some());
    }
}
