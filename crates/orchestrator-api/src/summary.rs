//! `/api/v1/summary`: what the live page's charts and LLM panel show.

use serde::{Deserialize, Serialize};

/// `/api/v1/summary`: totals since start and the chart points, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryDoc {
    /// When sampling started (ms since the epoch).
    pub started_at: i64,
    /// When the last sample was read, if any yet.
    pub sampled_at: Option<i64>,
    /// Requests recorded since start (every route, method and status).
    pub requests_total: f64,
    /// Of which answered 5xx.
    pub server_errors_total: f64,
    /// One point per sampling interval (bounded ring, oldest first).
    pub points: Vec<SummaryPoint>,
    /// One row per (provider, model), sorted.
    #[serde(default)]
    pub llm: Vec<LlmRow>,
    /// The tenants with the highest LLM spend, highest first.
    #[serde(default)]
    pub top_tenants: Vec<TenantSpend>,
    /// One row per agent, by name.
    #[serde(default)]
    pub agents: Vec<AgentRow>,
    /// One row per configured LLM budget, by tenant and period.
    #[serde(default)]
    pub budgets: Vec<BudgetRow>,
}

/// One configured LLM budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetRow {
    /// The tenant (`*` for the service).
    pub tenant: String,
    /// The period (`1d`, `30d`).
    pub period: String,
    /// The amount, in US dollars.
    pub budget_usd: f64,
    /// What the period spent (the fleet's with a shared store, else this process's since
    /// start), in US dollars.
    pub spent_usd: f64,
    /// What this process holds on it for calls in flight (enforcing budgets).
    pub held_usd: f64,
    /// Calls it refused (enforcing budgets).
    pub rejected: f64,
    /// Whether it refuses what would overrun it (`Policy::Reject`).
    pub enforced: bool,
    /// Whose spend `spent_usd` is: `Some(true)` the fleet's, read from the shared store;
    /// `Some(false)` this process's own while the store cannot be read; `None` this
    /// process's since start (no store configured).
    #[serde(default)]
    pub shared: Option<bool>,
}

/// One agent of the Agents panel, since start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRow {
    /// The `agent` label (`other` for names past the cardinality cap).
    pub agent: String,
    /// Runs ended.
    pub runs: f64,
    /// Runs that failed or were cancelled.
    pub failed: f64,
    /// The p95 run duration.
    pub p95_seconds: Option<f64>,
    /// Its bucket, when too wide for the value to be within 10 % (see [`Bucket`]).
    #[serde(default)]
    pub p95_bucket: Option<Bucket>,
    /// The p95 of steps (LLM calls) per run, as `histogram_quantile` interpolates it.
    pub steps_p95: Option<f64>,
    /// Tool calls made in its runs.
    pub tool_calls: f64,
    /// Of which failed or cancelled.
    pub tool_errors: f64,
    /// LLM spend in its runs (its sub-agents' excluded), in US dollars.
    pub cost_usd: f64,
    /// Runs that crossed one of its limits.
    pub limit_exceeded: f64,
}

/// What happened between two samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryPoint {
    /// The later sample's time (ms since the epoch).
    pub t: i64,
    /// Requests per second over the interval.
    pub request_rate: f64,
    /// The p95 latency over the interval, `null` without requests.
    pub p95_seconds: Option<f64>,
    /// The bucket the p95 was interpolated in, when too wide for the value to be within
    /// 10 % of the truth: show it rather than the value.
    #[serde(default)]
    pub p95_bucket: Option<Bucket>,
    /// The share of 5xx answers over the interval, `null` without requests.
    pub error_rate: Option<f64>,
}

/// One provider and model of the LLM panel, since start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmRow {
    /// `gen_ai.provider.name`, as the `provider` label.
    pub provider: String,
    /// The model label.
    pub model: String,
    /// Calls recorded.
    pub calls: f64,
    /// Calls that did not succeed.
    pub failed: f64,
    /// The p95 call latency.
    pub p95_seconds: Option<f64>,
    /// Its bucket, when too wide for the value to be within 10 % (see [`Bucket`]).
    #[serde(default)]
    pub p95_bucket: Option<Bucket>,
    /// The p95 time to first token (streamed calls).
    pub ttft_p95_seconds: Option<f64>,
    /// Its bucket, when too wide for the value to be within 10 %.
    #[serde(default)]
    pub ttft_p95_bucket: Option<Bucket>,
    /// Input tokens.
    pub input_tokens: f64,
    /// Output tokens.
    pub output_tokens: f64,
    /// Successful calls whose provider reported no usage: they have no tokens and no cost
    /// (`orchestrator_llm_unreported_usage_total{usage="missing"}`).
    #[serde(default)]
    pub usage_missing: f64,
    /// Successful calls whose usage the user's estimator filled in; their tokens and cost
    /// are counted above (`orchestrator_llm_unreported_usage_total{usage="estimated"}`).
    #[serde(default)]
    pub usage_estimated: f64,
    /// Cost in US dollars, from the price table.
    pub cost_usd: f64,
}

/// The histogram bucket a percentile fell in, `(lower, upper]`: all a classic histogram
/// knows about it. Given when the interpolated value could be more than 10 % off (a p95 of
/// 242.5 ms in `(0.1, 0.25]` may truly be 101 ms), so that the page shows `≤ 250 ms
/// (100–250 ms)` instead of a precise-looking figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// The lower bound, exclusive (0 for the first bucket); `null` when unbounded.
    pub lower: Option<f64>,
    /// The upper bound, inclusive; `null` for the `+Inf` bucket.
    pub upper: Option<f64>,
}

/// One tenant's LLM spend since start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantSpend {
    /// The tenant label.
    pub tenant: String,
    /// Its spend in US dollars.
    pub cost_usd: f64,
}
