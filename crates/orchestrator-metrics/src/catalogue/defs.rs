//! The metric definitions. This file is the only place a metric name is spelled.

use super::buckets;
use super::labels::*;
use super::types::{Group, LabelDef, MetricDef, MetricKind, Unit};

pub(super) const fn counter(
    name: &'static str,
    unit: Unit,
    help: &'static str,
    labels: &'static [LabelDef],
    group: Group,
) -> MetricDef {
    MetricDef {
        name,
        kind: MetricKind::Counter,
        unit,
        help,
        labels,
        buckets: &[],
        group,
    }
}

pub(super) const fn gauge(
    name: &'static str,
    unit: Unit,
    help: &'static str,
    labels: &'static [LabelDef],
    group: Group,
) -> MetricDef {
    MetricDef {
        name,
        kind: MetricKind::Gauge,
        unit,
        help,
        labels,
        buckets: &[],
        group,
    }
}

pub(super) const fn histogram(
    name: &'static str,
    unit: Unit,
    help: &'static str,
    labels: &'static [LabelDef],
    buckets: &'static [f64],
    group: Group,
) -> MetricDef {
    MetricDef {
        name,
        kind: MetricKind::Histogram,
        unit,
        help,
        labels,
        buckets,
        group,
    }
}

// ---- core -------------------------------------------------------------------------------

/// `orchestrator_requests_total`: counter of API requests served, by route template,
/// normalised method and status (`cancelled` when the client went away before a response).
pub const REQUESTS_TOTAL: MetricDef = counter(
    "orchestrator_requests_total",
    Unit::Count,
    "API requests served by the orchestrator.",
    &[ROUTE, METHOD, STATUS],
    Group::Core,
);

/// `orchestrator_request_duration_seconds`: histogram of API request duration, by route
/// template and method. Buckets: [`buckets::REQUEST_DURATION_SECONDS`].
pub const REQUEST_DURATION_SECONDS: MetricDef = histogram(
    "orchestrator_request_duration_seconds",
    Unit::Seconds,
    "API request duration, from request received to response body finished.",
    &[ROUTE, METHOD],
    buckets::REQUEST_DURATION_SECONDS,
    Group::Core,
);

/// `orchestrator_llm_requests_total`: counter of calls to LLM providers, by provider, model
/// and outcome.
pub const LLM_REQUESTS_TOTAL: MetricDef = counter(
    "orchestrator_llm_requests_total",
    Unit::Count,
    "Calls to LLM providers.",
    &[PROVIDER, MODEL, LLM_OUTCOME],
    Group::Core,
);

/// `orchestrator_llm_latency_seconds`: histogram of LLM call duration, by provider and model.
/// Buckets: the GenAI `gen_ai.client.operation.duration` boundaries.
pub const LLM_LATENCY_SECONDS: MetricDef = histogram(
    "orchestrator_llm_latency_seconds",
    Unit::Seconds,
    "LLM call duration, until the last token was received.",
    &[PROVIDER, MODEL],
    buckets::GEN_AI_OPERATION_DURATION_SECONDS,
    Group::Core,
);

/// `orchestrator_active_sessions`: gauge of user sessions currently open.
pub const ACTIVE_SESSIONS: MetricDef = gauge(
    "orchestrator_active_sessions",
    Unit::Count,
    "User sessions currently open.",
    &[],
    Group::Core,
);

/// `orchestrator_memory_usage_bytes`: gauge of the process resident memory, sampled by the
/// process collector.
pub const MEMORY_USAGE_BYTES: MetricDef = gauge(
    "orchestrator_memory_usage_bytes",
    Unit::Bytes,
    "Resident memory of the orchestrator process, sampled.",
    &[],
    Group::Core,
);

/// `orchestrator_cache_operations_total`: counter of cache operations, by cache name,
/// operation and result (`hit`/`miss` for reads).
pub const CACHE_OPERATIONS_TOTAL: MetricDef = counter(
    "orchestrator_cache_operations_total",
    Unit::Count,
    "Cache operations, by result (hit or miss for reads).",
    &[CACHE, CACHE_OPERATION, CACHE_RESULT],
    Group::Core,
);

/// `orchestrator_errors_total`: counter of errors, by component and kind. API requests that
/// end in a 5xx count here with `component="api"`.
pub const ERRORS_TOTAL: MetricDef = counter(
    "orchestrator_errors_total",
    Unit::Count,
    "Errors, by the component they happened in and their kind.",
    &[COMPONENT, ERROR_KIND],
    Group::Core,
);

// ---- business ---------------------------------------------------------------------------

/// `orchestrator_revenue_usd_total`: counter of revenue generated, in US dollars (fractional).
pub const REVENUE_USD_TOTAL: MetricDef = counter(
    "orchestrator_revenue_usd_total",
    Unit::Usd,
    "Revenue generated, in US dollars.",
    &[],
    Group::Business,
);

/// `orchestrator_user_satisfaction_score`: histogram of satisfaction ratings on a 0–10 scale.
pub const USER_SATISFACTION_SCORE: MetricDef = histogram(
    "orchestrator_user_satisfaction_score",
    Unit::Score,
    "User satisfaction ratings, 0 to 10.",
    &[],
    buckets::SATISFACTION_SCORE,
    Group::Business,
);

/// `orchestrator_session_duration_seconds`: histogram of the duration of ended sessions.
pub const SESSION_DURATION_SECONDS: MetricDef = histogram(
    "orchestrator_session_duration_seconds",
    Unit::Seconds,
    "Duration of user sessions, recorded when they end.",
    &[],
    buckets::SESSION_DURATION_SECONDS,
    Group::Business,
);

/// `orchestrator_sessions_total`: counter of sessions started. The conversion rate is
/// `conversions / sessions`, computed in PromQL.
pub const SESSIONS_TOTAL: MetricDef = counter(
    "orchestrator_sessions_total",
    Unit::Count,
    "User sessions started.",
    &[],
    Group::Business,
);

/// `orchestrator_conversions_total`: counter of sessions that converted.
pub const CONVERSIONS_TOTAL: MetricDef = counter(
    "orchestrator_conversions_total",
    Unit::Count,
    "Conversions (a session leading to a purchase or sign-up).",
    &[],
    Group::Business,
);

/// `orchestrator_quality_score`: histogram of response quality scores on a 0–100 scale.
pub const QUALITY_SCORE: MetricDef = histogram(
    "orchestrator_quality_score",
    Unit::Score,
    "Response quality scores, 0 to 100.",
    &[],
    buckets::QUALITY_SCORE,
    Group::Business,
);

// ---- GenAI ------------------------------------------------------------------------------

/// `orchestrator_llm_tokens`: histogram of tokens per LLM call, by provider, model and token
/// type (`input`/`output`), as `gen_ai.client.token.usage`. Its `_sum` is the token total.
pub const LLM_TOKENS: MetricDef = histogram(
    "orchestrator_llm_tokens",
    Unit::Tokens,
    "Tokens used per LLM call, by token type (gen_ai.client.token.usage).",
    &[PROVIDER, MODEL, TOKEN_TYPE],
    buckets::GEN_AI_TOKEN_USAGE,
    Group::GenAi,
);

/// `orchestrator_llm_time_to_first_token_seconds`: histogram of the delay to the first
/// streamed chunk of an LLM response.
pub const LLM_TIME_TO_FIRST_TOKEN_SECONDS: MetricDef = histogram(
    "orchestrator_llm_time_to_first_token_seconds",
    Unit::Seconds,
    "Time from an LLM request to the first chunk of its streamed response.",
    &[PROVIDER, MODEL],
    buckets::GEN_AI_TIME_TO_FIRST_TOKEN_SECONDS,
    Group::GenAi,
);

/// `orchestrator_llm_time_per_output_token_seconds`: histogram of the time per output token
/// after the first, `(latency − time to first token) / (output tokens − 1)`, for streamed
/// calls with at least two output tokens (the shape of the GenAI semantic conventions'
/// `gen_ai.server.time_per_output_token`).
pub const LLM_TIME_PER_OUTPUT_TOKEN_SECONDS: MetricDef = histogram(
    "orchestrator_llm_time_per_output_token_seconds",
    Unit::Seconds,
    "Time per output token after the first of a streamed LLM response.",
    &[PROVIDER, MODEL],
    buckets::GEN_AI_TIME_PER_OUTPUT_TOKEN_SECONDS,
    Group::GenAi,
);

/// `orchestrator_llm_cost_usd_total`: counter of LLM spend in US dollars, priced from the
/// token usage with the configured price table.
pub const LLM_COST_USD_TOTAL: MetricDef = counter(
    "orchestrator_llm_cost_usd_total",
    Unit::Usd,
    "LLM spend in US dollars, priced from token usage.",
    &[PROVIDER, MODEL],
    Group::GenAi,
);

/// `orchestrator_llm_unreported_usage_total`: counter of successful LLM calls whose provider
/// reported no token usage, by provider, model and `usage`: `missing` (recorded without
/// tokens or cost, so the spend is understated by these calls) or `estimated` (recorded with
/// the tokens of the user's estimator, which the token and cost series include).
pub const LLM_UNREPORTED_USAGE_TOTAL: MetricDef = counter(
    "orchestrator_llm_unreported_usage_total",
    Unit::Count,
    "Successful LLM calls whose provider reported no usage: missing, or estimated.",
    &[PROVIDER, MODEL, USAGE],
    Group::GenAi,
);

/// `orchestrator_tenant_requests_total`: counter of API requests by tenant (the tenant label
/// is guarded: an allow-list or a cap, the overflow in `other`).
pub const TENANT_REQUESTS_TOTAL: MetricDef = counter(
    "orchestrator_tenant_requests_total",
    Unit::Count,
    "API requests by tenant (customer, team or API key): named by a header, a request extension or set_tenant.",
    &[TENANT],
    Group::GenAi,
);

/// `orchestrator_tenant_llm_cost_usd_total`: counter of LLM spend by tenant, priced as
/// `orchestrator_llm_cost_usd_total`.
pub const TENANT_LLM_COST_USD_TOTAL: MetricDef = counter(
    "orchestrator_tenant_llm_cost_usd_total",
    Unit::Usd,
    "LLM spend in US dollars by tenant.",
    &[TENANT],
    Group::GenAi,
);

/// `orchestrator_tenant_llm_tokens_total`: counter of LLM tokens by tenant and token type.
pub const TENANT_LLM_TOKENS_TOTAL: MetricDef = counter(
    "orchestrator_tenant_llm_tokens_total",
    Unit::Tokens,
    "LLM tokens by tenant and token type.",
    &[TENANT, TOKEN_TYPE],
    Group::GenAi,
);

/// `orchestrator_tenant_budget_usd`: gauge of each configured budget, by tenant (`*` for
/// the whole service) and period.
pub const TENANT_BUDGET_USD: MetricDef = gauge(
    "orchestrator_tenant_budget_usd",
    Unit::Usd,
    "Configured LLM budget in US dollars by tenant (* for the whole service) and period.",
    &[BUDGET_TENANT, BUDGET_PERIOD],
    Group::GenAi,
);

/// `orchestrator_tenant_budget_spend_ratio`: gauge of the spend over the budget's rolling
/// period divided by the budget (1 means spent).
pub const TENANT_BUDGET_SPEND_RATIO: MetricDef = gauge(
    "orchestrator_tenant_budget_spend_ratio",
    Unit::Ratio,
    "LLM spend over the budget's rolling period divided by the budget.",
    &[BUDGET_TENANT, BUDGET_PERIOD],
    Group::GenAi,
);

/// `orchestrator_tenant_budget_spend_usd_total`: counter of the LLM spend charged to each
/// budget since the process started (its rate is the budget's burn rate).
pub const TENANT_BUDGET_SPEND_USD_TOTAL: MetricDef = counter(
    "orchestrator_tenant_budget_spend_usd_total",
    Unit::Usd,
    "LLM spend in US dollars charged to a budget.",
    &[BUDGET_TENANT, BUDGET_PERIOD],
    Group::GenAi,
);

/// `orchestrator_tenant_budget_rejections_total`: counter of LLM calls an enforcing budget
/// (`Policy::Reject`) refused before they were sent.
pub const TENANT_BUDGET_REJECTIONS_TOTAL: MetricDef = counter(
    "orchestrator_tenant_budget_rejections_total",
    Unit::Count,
    "LLM calls refused by an enforcing budget before they were sent.",
    &[BUDGET_TENANT, BUDGET_PERIOD],
    Group::GenAi,
);

/// `orchestrator_tenant_budget_reserved_usd`: gauge of what this process holds on an
/// enforcing budget for its calls in flight (their worst cases, released once charged).
pub const TENANT_BUDGET_RESERVED_USD: MetricDef = gauge(
    "orchestrator_tenant_budget_reserved_usd",
    Unit::Usd,
    "LLM spend this process holds on an enforcing budget for calls in flight.",
    &[BUDGET_TENANT, BUDGET_PERIOD],
    Group::GenAi,
);

/// `orchestrator_tenant_budget_shared`: gauge, 1 while the budget's spend ratio is the
/// fleet's (read from the shared store), 0 while the store cannot be read and the ratio is
/// this process's own figure; absent without a store (the ratio is then this process's
/// spend since start).
pub const TENANT_BUDGET_SHARED: MetricDef = gauge(
    "orchestrator_tenant_budget_shared",
    Unit::Count,
    "1 while a budget's spend is the fleet's, from the shared store; 0 while it is this process's own.",
    &[BUDGET_TENANT, BUDGET_PERIOD],
    Group::GenAi,
);

/// `orchestrator_tenant_budget_rate_usd`: gauge of the budget spread evenly over its
/// period, in US dollars per second: the spend rate that uses it up exactly at the
/// period's end (`SpendRateAnomaly` compares the last hour's spend rate with it).
pub const TENANT_BUDGET_RATE_USD: MetricDef = gauge(
    "orchestrator_tenant_budget_rate_usd",
    Unit::Usd,
    "The spend rate in US dollars per second that uses a budget up over its period.",
    &[BUDGET_TENANT, BUDGET_PERIOD],
    Group::GenAi,
);

// ---- dependencies -----------------------------------------------------------------------

/// `orchestrator_memory_limit_bytes`: gauge of the memory the process may use (cgroup v2
/// `memory.max`, cgroup v1 `memory.limit_in_bytes`, configuration, or the host's memory when
/// the cgroup sets no limit). Absent when no source is available.
pub const MEMORY_LIMIT_BYTES: MetricDef = gauge(
    "orchestrator_memory_limit_bytes",
    Unit::Bytes,
    "Memory the orchestrator process may use.",
    &[],
    Group::Dependencies,
);

/// `orchestrator_dependency_duration_seconds`: histogram of calls to a database, cache or
/// external API, by dependency kind and target name.
pub const DEPENDENCY_DURATION_SECONDS: MetricDef = histogram(
    "orchestrator_dependency_duration_seconds",
    Unit::Seconds,
    "Duration of calls to databases, caches and external APIs.",
    &[DEPENDENCY, TARGET],
    buckets::DEPENDENCY_DURATION_SECONDS,
    Group::Dependencies,
);

// ---- KPIs -------------------------------------------------------------------------------

/// `orchestrator_active_users`: gauge of distinct users seen over a window (`1d`, `7d`,
/// `30d`), counted with a HyperLogLog sketch. With the Redis backend every replica reports
/// the same global count, so aggregate replicas with `max`.
pub const ACTIVE_USERS: MetricDef = gauge(
    "orchestrator_active_users",
    Unit::Count,
    "Distinct users seen over the window (HyperLogLog estimate).",
    &[USER_WINDOW],
    Group::Business,
);

/// `orchestrator_churn_ratio`: gauge of the share of the previous 30-day window's users who
/// were not seen in the current one.
pub const CHURN_RATIO: MetricDef = gauge(
    "orchestrator_churn_ratio",
    Unit::Ratio,
    "Share of the previous window's users absent from the current window.",
    &[],
    Group::Business,
);

/// `orchestrator_customer_lifetime_value_usd`: gauge of revenue per user divided by the
/// churn ratio.
pub const CUSTOMER_LIFETIME_VALUE_USD: MetricDef = gauge(
    "orchestrator_customer_lifetime_value_usd",
    Unit::Usd,
    "Customer lifetime value: revenue per user over the window divided by the churn ratio.",
    &[],
    Group::Business,
);

/// `orchestrator_kpi_value`: gauge of each KPI's value as evaluated in-process.
pub const KPI_VALUE: MetricDef = gauge(
    "orchestrator_kpi_value",
    Unit::Count,
    "KPI value evaluated in-process, in the KPI's unit.",
    &[KPI],
    Group::Business,
);

/// `orchestrator_kpi_target`: gauge of each KPI's configured target.
pub const KPI_TARGET: MetricDef = gauge(
    "orchestrator_kpi_target",
    Unit::Count,
    "KPI target, in the KPI's unit.",
    &[KPI],
    Group::Business,
);

// ---- alerting ---------------------------------------------------------------------------

/// `orchestrator_alerts`: gauge of active alerts per rule, severity and state, like
/// Prometheus's `ALERTS` (which has one series per alert with value 1). Here the value is
/// the number of the rule's alerts in that state, 0 when none.
pub const ALERTS: MetricDef = gauge(
    "orchestrator_alerts",
    Unit::Count,
    "Active alerts evaluated in-process, by rule, severity and state (pending or firing).",
    &[ALERT_NAME, SEVERITY, ALERT_STATE],
    Group::SelfMonitoring,
);

// ---- self-monitoring --------------------------------------------------------------------

/// `orchestrator_label_values_folded_total`: counter of samples whose label value the
/// cardinality guard replaced with `"other"`, by label.
pub const LABEL_VALUES_FOLDED_TOTAL: MetricDef = counter(
    "orchestrator_label_values_folded_total",
    Unit::Count,
    "Samples whose label value was folded into \"other\" by the cardinality guard.",
    &[GUARDED_LABEL],
    Group::SelfMonitoring,
);

/// `orchestrator_telemetry_rejected_values_total`: counter of values the recorders refused
/// (NaN, infinite, negative counter increments, out-of-range scores, unpriced models).
pub const TELEMETRY_REJECTED_VALUES_TOTAL: MetricDef = counter(
    "orchestrator_telemetry_rejected_values_total",
    Unit::Count,
    "Values refused by the recorders instead of being recorded, by reason.",
    &[REJECT_REASON],
    Group::SelfMonitoring,
);

/// `orchestrator_telemetry_dropped_total`: counter of items dropped because a bounded
/// telemetry queue was full or its backend was unreachable (user activity for Redis, spans
/// for OTLP, alert notifications), by queue. Telemetry never blocks the orchestrator: it
/// drops and counts instead.
pub const TELEMETRY_DROPPED_TOTAL: MetricDef = counter(
    "orchestrator_telemetry_dropped_total",
    Unit::Count,
    "Items dropped because a bounded telemetry queue was full or its backend unreachable.",
    &[QUEUE],
    Group::SelfMonitoring,
);
