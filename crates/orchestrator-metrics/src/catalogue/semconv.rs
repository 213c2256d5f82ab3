//! The OpenTelemetry GenAI semantic conventions' client metrics, and the one table that maps
//! this catalogue's LLM series to them.
//!
//! Pinned to the last tagged release of the GenAI conventions in the semantic-conventions
//! repository, [`SEMCONV_VERSION`] (they are moving to a repository of their own, where the
//! names still change). The LLM recorder records these families from the same calls as the
//! `orchestrator_llm_*` series, once something reads them
//! ([`Registry::record_gen_ai`](crate::Registry::record_gen_ai)): each call once more, with
//! the conventions' attributes and bucket boundaries (the operation and `error.type` are not
//! labels of the seed's series, and the time to first chunk has other boundaries). OTLP
//! pushes them under their dotted names, beside the seed series or instead of those they
//! stand for, as the push is set; `/metrics` shows them, as the OpenTelemetry Prometheus
//! exporter would name them, only when asked
//! ([`Registry::expose_gen_ai_names`](crate::Registry::expose_gen_ai_names)).
//!
//! `gen_ai.client.operation.time_per_output_chunk` is not recorded: it is one observation
//! per streamed chunk, and the adapters measure the time per output token of a whole call
//! (`orchestrator_llm_time_per_output_token_seconds`, which stays under its own name).

use super::buckets::GEN_AI_OPERATION_DURATION_SECONDS;
use super::buckets::GEN_AI_TOKEN_USAGE;
use super::defs::{LLM_LATENCY_SECONDS, LLM_TIME_TO_FIRST_TOKEN_SECONDS, LLM_TOKENS};
use super::types::{Group, LabelDef, MetricDef, MetricKind, Unit};

/// The semantic-conventions release the names, units, attributes and boundaries follow.
pub const SEMCONV_VERSION: &str = "1.41.0";

/// The schema URL of [`SEMCONV_VERSION`], set on the pushed instrumentation scope.
pub const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.41.0";

/// `gen_ai.operation.name`: `chat`, `text_completion`, `embeddings`, `generate_content`, or
/// what the code named (an operation name is a `&'static str` of the program, never input).
pub const GEN_AI_OPERATION_NAME: LabelDef = LabelDef::closed("gen_ai_operation_name", &[]);
/// `gen_ai.provider.name`: the provider label's admitted value.
pub const GEN_AI_PROVIDER_NAME: LabelDef = LabelDef::guarded("gen_ai_provider_name");
/// `gen_ai.request.model`: the model label's admitted value (`other` past the cap).
pub const GEN_AI_REQUEST_MODEL: LabelDef = LabelDef::guarded("gen_ai_request_model");
/// `error.type`: the outcome of a call that did not succeed (`error`, `rate_limited`,
/// `timeout`, `cancelled`); empty, so absent, for a success.
pub const ERROR_TYPE: LabelDef = LabelDef::closed("error_type", ERROR_TYPES);

/// The values of `error.type`, empty (a success) first.
pub const ERROR_TYPES: &[&str] = &["", "error", "rate_limited", "timeout", "cancelled"];
/// `gen_ai.token.type`: `input` or `output`, the conventions' two values.
pub const GEN_AI_TOKEN_TYPE: LabelDef = LabelDef::closed("gen_ai_token_type", &["input", "output"]);

/// `gen_ai.client.operation.duration` (`s`), by operation, provider, model and `error.type`.
pub const GEN_AI_CLIENT_OPERATION_DURATION: MetricDef = MetricDef {
    name: "gen_ai_client_operation_duration_seconds",
    kind: MetricKind::Histogram,
    unit: Unit::Seconds,
    help: "GenAI operation duration.",
    labels: &[
        GEN_AI_OPERATION_NAME,
        GEN_AI_PROVIDER_NAME,
        GEN_AI_REQUEST_MODEL,
        ERROR_TYPE,
    ],
    buckets: GEN_AI_OPERATION_DURATION_SECONDS,
    group: Group::GenAi,
};

/// `gen_ai.client.token.usage` (`{token}`), by operation, provider, model and token type.
pub const GEN_AI_CLIENT_TOKEN_USAGE: MetricDef = MetricDef {
    name: "gen_ai_client_token_usage",
    kind: MetricKind::Histogram,
    unit: Unit::Tokens,
    help: "Number of input and output tokens used.",
    labels: &[
        GEN_AI_OPERATION_NAME,
        GEN_AI_PROVIDER_NAME,
        GEN_AI_REQUEST_MODEL,
        GEN_AI_TOKEN_TYPE,
    ],
    buckets: GEN_AI_TOKEN_USAGE,
    group: Group::GenAi,
};

/// `gen_ai.client.operation.time_to_first_chunk` (`s`), streamed calls only; the boundaries
/// of the operation duration, as the conventions recommend.
pub const GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK: MetricDef = MetricDef {
    name: "gen_ai_client_operation_time_to_first_chunk_seconds",
    kind: MetricKind::Histogram,
    unit: Unit::Seconds,
    help: "Time to receive the first chunk of a streamed response.",
    labels: &[
        GEN_AI_OPERATION_NAME,
        GEN_AI_PROVIDER_NAME,
        GEN_AI_REQUEST_MODEL,
    ],
    buckets: GEN_AI_OPERATION_DURATION_SECONDS,
    group: Group::GenAi,
};

/// One conventions metric: its family in the registry, its name and unit on OTLP, and the
/// seed series it stands for there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SemconvMetric {
    /// The registry family (its Prometheus-style name, used on `/metrics` when exposed).
    pub def: &'static MetricDef,
    /// The name on OTLP.
    pub otlp_name: &'static str,
    /// The UCUM unit on OTLP.
    pub otlp_unit: &'static str,
    /// The seed family whose series this one stands for (left out of a push that asks for
    /// the conventions only).
    pub stands_for: &'static MetricDef,
}

/// The mapping table: every conventions metric recorded.
pub const GEN_AI_METRICS: &[SemconvMetric] = &[
    SemconvMetric {
        def: &GEN_AI_CLIENT_OPERATION_DURATION,
        otlp_name: "gen_ai.client.operation.duration",
        otlp_unit: "s",
        stands_for: &LLM_LATENCY_SECONDS,
    },
    SemconvMetric {
        def: &GEN_AI_CLIENT_TOKEN_USAGE,
        otlp_name: "gen_ai.client.token.usage",
        otlp_unit: "{token}",
        stands_for: &LLM_TOKENS,
    },
    SemconvMetric {
        def: &GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK,
        otlp_name: "gen_ai.client.operation.time_to_first_chunk",
        otlp_unit: "s",
        stands_for: &LLM_TIME_TO_FIRST_TOKEN_SECONDS,
    },
];

/// Label name → attribute key, for the conventions families.
pub const ATTRIBUTES: &[(&str, &str)] = &[
    ("gen_ai_operation_name", "gen_ai.operation.name"),
    ("gen_ai_provider_name", "gen_ai.provider.name"),
    ("gen_ai_request_model", "gen_ai.request.model"),
    ("error_type", "error.type"),
    ("gen_ai_token_type", "gen_ai.token.type"),
];

/// The conventions metric whose registry family is `name`.
pub fn find(name: &str) -> Option<&'static SemconvMetric> {
    GEN_AI_METRICS.iter().find(|m| m.def.name == name)
}

/// Whether the seed series `family{labels}` has a conventions counterpart (left out of a
/// push that asks for the conventions only):
/// the latency and time to first token wholly; the token histogram's `input` and `output`
/// series (its `cache_read`, `cache_write` and `reasoning` series have no conventions
/// counterpart and stay).
pub fn has_counterpart(family: &str, token_type: Option<&str>) -> bool {
    if family == LLM_TOKENS.name {
        return matches!(token_type, Some("input" | "output"));
    }
    GEN_AI_METRICS.iter().any(|m| m.stands_for.name == family)
}

/// The attribute key of a conventions family's label.
pub fn attribute(label: &str) -> Option<&'static str> {
    ATTRIBUTES
        .iter()
        .find(|(l, _)| *l == label)
        .map(|(_, a)| *a)
}

/// The mapping table in Markdown, for the README (a test keeps them equal).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| OTLP name | unit | attributes | stands for | on `/metrics` (when exposed) |\n|---|---|---|---|---|\n",
    );
    for m in GEN_AI_METRICS {
        let attributes: Vec<String> = m
            .def
            .label_names()
            .filter_map(attribute)
            .map(|a| format!("`{a}`"))
            .collect();
        out.push_str(&format!(
            "| `{}` | `{}` | {} | `{}` | `{}` |\n",
            m.otlp_name,
            m.otlp_unit,
            attributes.join(", "),
            m.stands_for.name,
            m.def.name
        ));
    }
    out
}
