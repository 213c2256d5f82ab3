//! Label definitions shared by several metrics, and the closed value sets of the labels
//! this library fills in itself.

use super::types::LabelDef;

/// HTTP methods as recorded: the nine standard methods, anything else is `_OTHER` (as the
/// OpenTelemetry HTTP semantic conventions do), so a client cannot mint label values.
pub const HTTP_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER",
];

/// The outcome of an LLM call, in the order of `LlmOutcome::ALL` (a test pins it), then
/// [`REJECTED_BUDGET`]: a call an enforcing budget refused, never sent (so it has no
/// `LlmOutcome`, no latency, no error).
pub const LLM_OUTCOMES: &[&str] = &[
    "success",
    "error",
    "rate_limited",
    "timeout",
    "cancelled",
    REJECTED_BUDGET,
];

/// The outcome of a call an enforcing budget refused before it was sent.
pub const REJECTED_BUDGET: &str = "rejected_budget";

/// Why a successful LLM call's usage is not the provider's report: `missing` (the provider
/// reported none, so the call has no tokens and no cost) or `estimated` (the user's
/// estimator filled it in).
pub const UNREPORTED_USAGE: &[&str] = &["missing", "estimated"];

/// The kind of cache operation.
pub const CACHE_OPERATIONS: &[&str] = &["get", "set", "delete"];

/// The result of a cache operation: `hit`/`miss` for reads, `ok`/`error` otherwise.
pub const CACHE_RESULTS: &[&str] = &["hit", "miss", "ok", "error"];

/// The kind of dependency a call went to.
pub const DEPENDENCY_KINDS: &[&str] = &["database", "cache", "external"];

/// The type of tokens counted: `input` and `output` as `gen_ai.token.type`, and the parts
/// priced apart, recorded when the provider reports them: `cache_read` (input served from
/// the provider's prompt cache, `gen_ai.usage.cache_read.input_tokens`), `cache_write`
/// (input written to it, `gen_ai.usage.cache_creation.input_tokens`), both part of
/// `input`, and `reasoning` (part of `output`). With the price table, the series rebuild
/// the cost: fresh input is `input − cache_read − cache_write`, answer tokens
/// `output − reasoning`.
pub const TOKEN_TYPES: &[&str] = &["input", "output", "cache_read", "cache_write", "reasoning"];

/// Why a recorded value was rejected instead of recorded.
pub const REJECT_REASONS: &[&str] = &[
    "nan",
    "infinite",
    "negative",
    "out_of_range",
    "unpriced_model",
    "unrecognised_chunk",
];

/// The labels guarded by the cardinality guard (values of `label` on the folded counter).
pub const GUARDED_LABELS: &[&str] = &[
    "route",
    "provider",
    "model",
    "cache",
    "target",
    "component",
    "kind",
    "tenant",
    "agent",
    "tool",
];

/// How an agent run or a tool call ended: `success`, `error`, or `cancelled` (dropped
/// before it finished).
pub const RUN_OUTCOMES: &[&str] = &["success", "error", "cancelled"];

/// The per-agent limits a run can cross: its LLM calls (`max_steps`) and its LLM spend
/// (`max_cost_usd`).
pub const AGENT_LIMITS: &[&str] = &["max_steps", "max_cost_usd"];

/// The agent a run belongs to (`gen_ai.agent.name`).
pub const AGENT: LabelDef = LabelDef::guarded("agent");
/// The tool called (`gen_ai.tool.name`): often named by the model, so guarded.
pub const TOOL: LabelDef = LabelDef::guarded("tool");
/// How an agent run or a tool call ended.
pub const RUN_OUTCOME: LabelDef = LabelDef::closed("outcome", RUN_OUTCOMES);
/// The agent limit a run crossed.
pub const AGENT_LIMIT: LabelDef = LabelDef::closed("limit", AGENT_LIMITS);

/// The tenant (customer, team or API key) a request is billed to.
pub const TENANT: LabelDef = LabelDef::guarded("tenant");
/// The route template (never the raw path).
pub const ROUTE: LabelDef = LabelDef::guarded("route");
/// The normalised HTTP method.
pub const METHOD: LabelDef = LabelDef::closed("method", HTTP_METHODS);
/// The HTTP status code as three digits, or `cancelled` when the client went away first.
pub const STATUS: LabelDef = LabelDef::closed("status", &[]);
/// The LLM provider (`gen_ai.provider.name`).
pub const PROVIDER: LabelDef = LabelDef::guarded("provider");
/// The requested model (`gen_ai.request.model`).
pub const MODEL: LabelDef = LabelDef::guarded("model");
/// The LLM call outcome.
pub const LLM_OUTCOME: LabelDef = LabelDef::closed("outcome", LLM_OUTCOMES);
/// Why a call's usage was not reported.
pub const USAGE: LabelDef = LabelDef::closed("usage", UNREPORTED_USAGE);
/// The token type.
pub const TOKEN_TYPE: LabelDef = LabelDef::closed("token_type", TOKEN_TYPES);
/// The cache name.
pub const CACHE: LabelDef = LabelDef::guarded("cache");
/// The cache operation.
pub const CACHE_OPERATION: LabelDef = LabelDef::closed("operation", CACHE_OPERATIONS);
/// The cache result.
pub const CACHE_RESULT: LabelDef = LabelDef::closed("result", CACHE_RESULTS);
/// The component an error happened in.
pub const COMPONENT: LabelDef = LabelDef::guarded("component");
/// The kind of error.
pub const ERROR_KIND: LabelDef = LabelDef::guarded("kind");
/// The kind of dependency.
pub const DEPENDENCY: LabelDef = LabelDef::closed("dependency", DEPENDENCY_KINDS);
/// The named dependency instance (`sqlite`, `moderation-api`, ...).
pub const TARGET: LabelDef = LabelDef::guarded("target");
/// The guarded label a folded value belonged to.
pub const GUARDED_LABEL: LabelDef = LabelDef::closed("label", GUARDED_LABELS);
/// Why a value was rejected.
pub const REJECT_REASON: LabelDef = LabelDef::closed("reason", REJECT_REASONS);

/// The windows distinct users are counted over.
pub const USER_WINDOWS: &[&str] = &["1d", "7d", "30d"];

/// The periods a budget is spent over: a rolling day or a rolling 30 days.
pub const BUDGET_PERIODS: &[&str] = &["1d", "30d"];

/// The identifiers of the five KPIs of the spec.
pub const KPI_IDS: &[&str] = &[
    "monthly_active_users",
    "revenue_per_user",
    "customer_satisfaction",
    "response_time_p95",
    "error_rate",
];

/// The window distinct users are counted over.
pub const USER_WINDOW: LabelDef = LabelDef::closed("window", USER_WINDOWS);
/// The period of a budget.
pub const BUDGET_PERIOD: LabelDef = LabelDef::closed("period", BUDGET_PERIODS);
/// The tenant of a configured budget, or `*` for the whole service: configured values, so
/// not guarded.
pub const BUDGET_TENANT: LabelDef = LabelDef::closed("tenant", &[]);
/// A KPI identifier.
pub const KPI: LabelDef = LabelDef::closed("kpi", KPI_IDS);

/// The bounded queues whose overflow is dropped and counted.
pub const QUEUES: &[&str] = &[
    "user_activity",
    "spans",
    "alert_notifications",
    "metrics",
    "budget_store",
];

/// A bounded queue.
pub const QUEUE: LabelDef = LabelDef::closed("queue", QUEUES);

/// Alert severities, most urgent first.
pub const SEVERITIES: &[&str] = &["critical", "high", "medium", "low"];

/// The states of an active alert, as Prometheus's `ALERTS` labels them.
pub const ALERT_STATES: &[&str] = &["pending", "firing"];

/// The alert rule name (rules come from configuration: a closed set per process).
pub const ALERT_NAME: LabelDef = LabelDef::closed("alertname", &[]);
/// The alert severity.
pub const SEVERITY: LabelDef = LabelDef::closed("severity", SEVERITIES);
/// The alert state.
pub const ALERT_STATE: LabelDef = LabelDef::closed("alertstate", ALERT_STATES);
