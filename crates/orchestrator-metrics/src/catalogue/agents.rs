//! Agent runs and the tools they call, as the GenAI semantic conventions' `invoke_agent`
//! and `execute_tool` operations count them. Agent and tool names are guarded labels: tool
//! names often come from model output.

use super::buckets;
use super::defs::{counter, histogram};
use super::labels::*;
use super::types::{Group, MetricDef, Unit};

/// `orchestrator_agent_runs_total`: counter of agent runs by agent and outcome (`success`,
/// `error`, `cancelled`).
pub const AGENT_RUNS_TOTAL: MetricDef = counter(
    "orchestrator_agent_runs_total",
    Unit::Count,
    "Agent runs by agent and outcome.",
    &[AGENT, RUN_OUTCOME],
    Group::Agents,
);

/// `orchestrator_agent_run_duration_seconds`: histogram of agent run durations by agent.
pub const AGENT_RUN_DURATION_SECONDS: MetricDef = histogram(
    "orchestrator_agent_run_duration_seconds",
    Unit::Seconds,
    "Agent run duration in seconds by agent.",
    &[AGENT],
    buckets::AGENT_RUN_DURATION_SECONDS,
    Group::Agents,
);

/// `orchestrator_agent_steps`: histogram of the steps (LLM calls) of each agent run, by
/// agent. A sub-agent's calls are its own run's steps, not its parent's.
pub const AGENT_STEPS: MetricDef = histogram(
    "orchestrator_agent_steps",
    Unit::Count,
    "LLM calls (steps) per agent run, by agent.",
    &[AGENT],
    buckets::AGENT_STEPS,
    Group::Agents,
);

/// `orchestrator_agent_tool_calls`: histogram of the tool calls of each agent run, by agent.
pub const AGENT_TOOL_CALLS: MetricDef = histogram(
    "orchestrator_agent_tool_calls",
    Unit::Count,
    "Tool calls per agent run, by agent.",
    &[AGENT],
    buckets::AGENT_STEPS,
    Group::Agents,
);

/// `orchestrator_agent_tool_errors_total`: counter of tool calls that failed (or were
/// cancelled) inside runs of an agent, its innermost; with `orchestrator_agent_tool_calls`,
/// the agent's tool error rate.
pub const AGENT_TOOL_ERRORS_TOTAL: MetricDef = counter(
    "orchestrator_agent_tool_errors_total",
    Unit::Count,
    "Tool calls that failed or were cancelled inside runs of an agent.",
    &[AGENT],
    Group::Agents,
);

/// `orchestrator_agent_llm_cost_usd_total`: counter of LLM spend in US dollars by the
/// innermost agent run the call was made in (sampled or not). Summed over agents, plus the
/// spend outside any agent, it is `orchestrator_llm_cost_usd_total`.
pub const AGENT_LLM_COST_USD_TOTAL: MetricDef = counter(
    "orchestrator_agent_llm_cost_usd_total",
    Unit::Usd,
    "LLM spend in US dollars by the innermost agent the call was made in.",
    &[AGENT],
    Group::Agents,
);

/// `orchestrator_agent_llm_tokens_total`: counter of LLM tokens by innermost agent and
/// token type.
pub const AGENT_LLM_TOKENS_TOTAL: MetricDef = counter(
    "orchestrator_agent_llm_tokens_total",
    Unit::Tokens,
    "LLM tokens by the innermost agent the call was made in, and token type.",
    &[AGENT, TOKEN_TYPE],
    Group::Agents,
);

/// `orchestrator_agent_limit_exceeded_total`: counter of agent runs that crossed one of
/// their agent's limits (`max_steps`, `max_cost_usd`), counted once per run and limit.
/// Limits are observed, not enforced.
pub const AGENT_LIMIT_EXCEEDED_TOTAL: MetricDef = counter(
    "orchestrator_agent_limit_exceeded_total",
    Unit::Count,
    "Agent runs that crossed a configured limit, by agent and limit.",
    &[AGENT, AGENT_LIMIT],
    Group::Agents,
);

/// `orchestrator_tool_calls_total`: counter of tool calls by tool and outcome, inside an
/// agent run or not.
pub const TOOL_CALLS_TOTAL: MetricDef = counter(
    "orchestrator_tool_calls_total",
    Unit::Count,
    "Tool calls by tool and outcome.",
    &[TOOL, RUN_OUTCOME],
    Group::Agents,
);

/// `orchestrator_tool_duration_seconds`: histogram of tool call durations by tool.
pub const TOOL_DURATION_SECONDS: MetricDef = histogram(
    "orchestrator_tool_duration_seconds",
    Unit::Seconds,
    "Tool call duration in seconds by tool.",
    &[TOOL],
    buckets::TOOL_DURATION_SECONDS,
    Group::Agents,
);
