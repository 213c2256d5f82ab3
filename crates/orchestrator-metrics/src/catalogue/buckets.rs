//! Bucket layouts. Every histogram of the catalogue names one of these.

/// HTTP request duration, in seconds. Boundaries sit exactly on the response-time KPI target
/// (150 ms) and the degradation alert threshold (200 ms), so `histogram_quantile` does not
/// have to interpolate across them.
pub const REQUEST_DURATION_SECONDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// LLM operation duration, in seconds: the OpenTelemetry GenAI semantic-convention boundaries
/// of `gen_ai.client.operation.duration`.
pub const GEN_AI_OPERATION_DURATION_SECONDS: &[f64] = &[
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/// Token counts per request: the OpenTelemetry GenAI semantic-convention boundaries of
/// `gen_ai.client.token.usage`.
pub const GEN_AI_TOKEN_USAGE: &[f64] = &[
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];

/// Time to first token, in seconds: the OpenTelemetry GenAI semantic-convention boundaries of
/// `gen_ai.server.time_to_first_token`.
pub const GEN_AI_TIME_TO_FIRST_TOKEN_SECONDS: &[f64] = &[
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Time per output token, in seconds: the OpenTelemetry GenAI semantic-convention boundaries
/// of `gen_ai.server.time_per_output_token`.
pub const GEN_AI_TIME_PER_OUTPUT_TOKEN_SECONDS: &[f64] = &[
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5,
];

/// Calls to a database, cache or external API, in seconds.
pub const DEPENDENCY_DURATION_SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// User session duration, in seconds (one second to two hours).
pub const SESSION_DURATION_SECONDS: &[f64] = &[
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0,
];

/// Satisfaction on a 0–10 scale, one bucket per point.
pub const SATISFACTION_SCORE: &[f64] = &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];

/// Quality on a 0–100 scale, one bucket per ten points.
pub const QUALITY_SCORE: &[f64] = &[10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0];

/// Agent run durations: a run is several LLM calls and tools, seconds to minutes.
pub const AGENT_RUN_DURATION_SECONDS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0,
];

/// Steps (LLM calls) or tool calls in one agent run.
pub const AGENT_STEPS: &[f64] = &[
    1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 50.0,
];

/// Tool call durations: from an in-process calculator to a web search.
pub const TOOL_DURATION_SECONDS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
