//! Agent runs and tool calls: `orchestrator_agent_*` and `orchestrator_tool_*`.
//!
//! The handles of one agent or one tool are resolved once ([`AgentMetrics::agent`],
//! [`AgentMetrics::tool`]) and kept by the caller: recording through them is atomic adds.
//! Both names are guarded labels; past the cap (50 agents, 100 tools by default) new names
//! share the `other` handles, so a model that invents tool names cannot grow a series.

use std::sync::Arc;
use std::time::Duration;

use super::handle_cache::HandleCache;
use super::token_counters::TokenCounters;
use super::{counter, histogram};
use crate::catalogue::{self, labels};
use crate::{CardinalityGuard, CounterHandle, GuardedLabel, HistogramHandle, Registry, TokenUsage};

/// How an agent run or a tool call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunOutcome {
    /// It finished with an answer.
    Success,
    /// It failed.
    Error,
    /// It was dropped before it finished.
    Cancelled,
}

impl RunOutcome {
    /// The `outcome` label value.
    pub const fn as_str(self) -> &'static str {
        labels::RUN_OUTCOMES[self as usize]
    }
}

/// A per-agent limit a run can cross.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentLimit {
    /// More LLM calls than `max_steps`.
    MaxSteps,
    /// More LLM spend than `max_cost_usd`.
    MaxCostUsd,
}

impl AgentLimit {
    /// The `limit` label value.
    pub const fn as_str(self) -> &'static str {
        labels::AGENT_LIMITS[self as usize]
    }
}

/// The series of one agent (its admitted name: `other` past the cap).
#[derive(Debug)]
pub struct AgentHandles {
    name: Box<str>,
    runs: [CounterHandle; 3],
    duration: HistogramHandle,
    steps: HistogramHandle,
    tool_calls: HistogramHandle,
    tool_errors: CounterHandle,
    cost: CounterHandle,
    tokens: TokenCounters,
    limits: [CounterHandle; 2],
}

impl AgentHandles {
    /// The `agent` label value: the name, or `other` when the guard folded it.
    pub fn label(&self) -> &str {
        &self.name
    }

    /// Records one finished run: its outcome, duration, steps and tool calls.
    pub fn record_run(&self, outcome: RunOutcome, duration: Duration, steps: u64, tools: u64) {
        self.runs[outcome as usize].increment(1);
        // Durations and counts are finite and non-negative: never refused.
        let _ = self.duration.observe(duration.as_secs_f64());
        let _ = self.steps.observe(steps as f64);
        let _ = self.tool_calls.observe(tools as f64);
    }

    /// The agent's name, as its series carry it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds one LLM call's tokens and cost (`None`: an unpriced model) to the agent. An
    /// implausible usage is not added (the LLM recorder refused and counted it).
    pub fn record_llm(&self, usage: &TokenUsage, cost: Option<f64>) {
        if usage.check().is_err() {
            return;
        }
        self.tokens.add(usage);
        if let Some(cost) = cost {
            let _ = self.cost.add(cost);
        }
    }

    /// Counts a tool call that failed (or was cancelled) inside a run of this agent.
    pub fn tool_failed(&self) {
        self.tool_errors.increment(1);
    }

    /// Counts a run that crossed `limit`.
    pub fn limit_exceeded(&self, limit: AgentLimit) {
        self.limits[limit as usize].increment(1);
    }
}

/// The series of one tool (its admitted name: `other` past the cap).
#[derive(Debug)]
pub struct ToolHandles {
    name: Box<str>,
    calls: [CounterHandle; 3],
    duration: HistogramHandle,
}

impl ToolHandles {
    /// The `tool` label value: the name, or `other` when the guard folded it.
    pub fn label(&self) -> &str {
        &self.name
    }

    /// Records one finished tool call.
    pub fn record(&self, outcome: RunOutcome, duration: Duration) {
        self.calls[outcome as usize].increment(1);
        let _ = self.duration.observe(duration.as_secs_f64());
    }
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    guard: Arc<CardinalityGuard>,
    agents: HandleCache<(Box<str>, u64), Arc<AgentHandles>>,
    tools: HandleCache<(Box<str>, u64), Arc<ToolHandles>>,
}

/// Records agent runs and tool calls. Cheap to clone.
///
/// ```
/// use std::time::Duration;
/// use orchestrator_metrics::{Metrics, Registry, RunOutcome, TokenUsage};
///
/// let registry = Registry::new();
/// let metrics = Metrics::new(&registry);
/// let researcher = metrics.agents().agent("researcher");
/// researcher.record_llm(&TokenUsage::new(900, 120), Some(0.0031));
/// researcher.record_run(RunOutcome::Success, Duration::from_secs(4), 3, 2);
/// metrics.agents().tool("web_search").record(RunOutcome::Error, Duration::from_millis(800));
/// let text = registry.render();
/// assert!(text.contains(r#"orchestrator_agent_llm_cost_usd_total{agent="researcher"} 0.0031"#));
/// assert!(text.contains(r#"orchestrator_tool_calls_total{tool="web_search",outcome="error"} 1"#));
/// ```
#[derive(Debug, Clone)]
pub struct AgentMetrics {
    inner: Arc<Inner>,
}

impl AgentMetrics {
    pub(crate) fn new(registry: &Registry, guard: Arc<CardinalityGuard>) -> Self {
        AgentMetrics {
            inner: Arc::new(Inner {
                registry: registry.clone(),
                guard,
                agents: HandleCache::new(),
                tools: HandleCache::new(),
            }),
        }
    }

    /// The series of agent `name`, resolved once per name (keep the handle).
    pub fn agent(&self, name: &str) -> Arc<AgentHandles> {
        let cache = &self.inner.agents;
        if let Some(h) = cache.find(cache.hash(name, 0), |k| &*k.0 == name) {
            return h.clone();
        }
        let admitted = self.inner.guard.admit(GuardedLabel::Agent, name);
        let a: &str = &admitted;
        let r = &self.inner.registry;
        // Keyed by the admitted value: a flood of names shares `other`'s handles.
        cache.get_or_insert_with(
            cache.hash(a, 0),
            (a.into(), 0),
            |k| &*k.0 == a,
            || {
                let runs =
                    |o: RunOutcome| counter(r, &catalogue::AGENT_RUNS_TOTAL, &[a, o.as_str()]);
                let limit = |l: AgentLimit| {
                    counter(r, &catalogue::AGENT_LIMIT_EXCEEDED_TOTAL, &[a, l.as_str()])
                };
                Arc::new(AgentHandles {
                    name: a.into(),
                    runs: [
                        runs(RunOutcome::Success),
                        runs(RunOutcome::Error),
                        runs(RunOutcome::Cancelled),
                    ],
                    duration: histogram(r, &catalogue::AGENT_RUN_DURATION_SECONDS, &[a]),
                    steps: histogram(r, &catalogue::AGENT_STEPS, &[a]),
                    tool_calls: histogram(r, &catalogue::AGENT_TOOL_CALLS, &[a]),
                    tool_errors: counter(r, &catalogue::AGENT_TOOL_ERRORS_TOTAL, &[a]),
                    cost: counter(r, &catalogue::AGENT_LLM_COST_USD_TOTAL, &[a]),
                    tokens: TokenCounters::new(r, &catalogue::AGENT_LLM_TOKENS_TOTAL, a),
                    limits: [limit(AgentLimit::MaxSteps), limit(AgentLimit::MaxCostUsd)],
                })
            },
        )
    }

    /// The series of tool `name`, resolved once per admitted name. A name past the cap is
    /// folded into `other` (counted in `orchestrator_label_values_folded_total{label="tool"}`)
    /// each time it is looked up.
    pub fn tool(&self, name: &str) -> Arc<ToolHandles> {
        let cache = &self.inner.tools;
        if let Some(h) = cache.find(cache.hash(name, 0), |k| &*k.0 == name) {
            return h.clone();
        }
        let admitted = self.inner.guard.admit(GuardedLabel::Tool, name);
        let t: &str = &admitted;
        let r = &self.inner.registry;
        cache.get_or_insert_with(
            cache.hash(t, 0),
            (t.into(), 0),
            |k| &*k.0 == t,
            || {
                let calls =
                    |o: RunOutcome| counter(r, &catalogue::TOOL_CALLS_TOTAL, &[t, o.as_str()]);
                Arc::new(ToolHandles {
                    name: t.into(),
                    calls: [
                        calls(RunOutcome::Success),
                        calls(RunOutcome::Error),
                        calls(RunOutcome::Cancelled),
                    ],
                    duration: histogram(r, &catalogue::TOOL_DURATION_SECONDS, &[t]),
                })
            },
        )
    }
}
