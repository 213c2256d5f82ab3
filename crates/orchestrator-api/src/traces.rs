//! `/api/v1/traces`: the analysis of the stored traces, the export health and the recent
//! traces with their spans.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `/api/v1/traces`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TracesDoc {
    /// What the stored traces show, and how they are sampled and exported.
    pub analysis: TraceAnalysisDoc,
    /// The most recent traces (at most 20), newest first.
    pub traces: Vec<TraceDoc>,
}

/// The analysis of the stored traces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceAnalysisDoc {
    /// Traces stored.
    pub traces: usize,
    /// Their mean duration.
    #[serde(default)]
    pub mean_duration_ms: f64,
    /// Their mean number of spans.
    #[serde(default)]
    pub mean_spans: f64,
    /// Per operation: spans, mean duration, share of the trace's time.
    #[serde(default)]
    pub operations: Vec<OperationDoc>,
    /// The head sampler (`parentbased_traceidratio(0.1)`).
    #[serde(default)]
    pub sampler: String,
    /// OTLP export health; absent when spans are not exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<ExportDoc>,
}

/// OTLP export health since start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportDoc {
    /// Spans the collector accepted.
    pub spans_exported: u64,
    /// Spans lost: queue full, buffer full, export failed or timed out, shutdown deadline.
    pub spans_dropped: u64,
    /// The last export error, if any export failed.
    pub last_error: Option<String>,
    /// When it happened (ms since the epoch).
    pub last_error_at: Option<i64>,
}

/// One operation's share of the stored traces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationDoc {
    /// The operation (`LLM Request`, `Database Query`, …).
    pub operation: String,
    /// Its spans.
    pub spans: usize,
    /// Their mean duration.
    pub mean_ms: f64,
    /// Their share of the traces' time (0–1).
    pub share: f64,
}

/// One recent trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceDoc {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// The root span's name.
    pub root: String,
    /// The root's start (ms since the epoch).
    pub start: u64,
    /// The trace's duration.
    pub duration_ms: f64,
    /// Whether the root failed.
    pub failed: bool,
    /// The LLM spend made in the trace (in this process), in US dollars: the root's
    /// `orchestrator.llm.cost.usd`; `null` when the root does not carry it.
    #[serde(default)]
    pub cost_usd: Option<f64>,
    /// Feedback scores given to the trace after it ended.
    #[serde(default)]
    pub scores: Vec<ScoreDoc>,
    /// Its spans, by start time.
    pub spans: Vec<SpanDoc>,
}

/// A feedback score attached to a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreDoc {
    /// What was judged (`satisfaction`, `quality`).
    pub kind: String,
    /// The score, as recorded.
    pub score: String,
}

/// One span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanDoc {
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// The parent's span id, `null` for the root.
    pub parent_span_id: Option<String>,
    /// The span's name.
    pub name: String,
    /// Its operation.
    pub operation: String,
    /// Its start, from the root's start.
    pub offset_ms: f64,
    /// Its duration.
    pub duration_ms: f64,
    /// Whether it failed.
    pub failed: bool,
    /// `error.type`, when it failed.
    pub error_type: Option<String>,
    /// The LLM spend of the span, in US dollars: an LLM call's
    /// (`gen_ai.usage.cost.amount`), or what was spent inside an agent run or a request
    /// (`orchestrator.llm.cost.usd`); `null` for other spans.
    #[serde(default)]
    pub cost_usd: Option<f64>,
    /// Its attributes, values as strings.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}
