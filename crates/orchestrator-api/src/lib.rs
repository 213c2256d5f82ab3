//! The typed documents of the live page's JSON API, one per endpoint:
//!
//! | Endpoint | Document |
//! |---|---|
//! | `/api/v1/summary` | [`SummaryDoc`]: totals since start, chart points, the LLM panel, top tenants |
//! | `/api/v1/kpis` | [`KpisDoc`]: each KPI's value, target, gap and scope |
//! | `/api/v1/alerts` | [`AlertsDoc`]: each rule's state |
//! | `/api/v1/traces` | [`TracesDoc`]: the trace analysis and the recent traces |
//!
//! The producer (the `orchestrator-telemetry` facade and its live page) serializes them, and
//! `orchestrator-obs validate` deserializes them, so both sides share one definition. The
//! field names are the wire format the page's script and external readers use; golden files
//! in `tests/golden/` pin them. Only `serde` is needed to read them.
//!
//! Times are milliseconds since the Unix epoch; durations are milliseconds (`_ms`) or
//! seconds (`_seconds`), as the field name says.

mod alerts;
mod kpis;
mod summary;
mod traces;

pub use alerts::{AlertsDoc, RuleDoc, RuleState, Severity};
pub use kpis::{Direction, FigureDoc, KpiDoc, KpiScope, KpisDoc, UsersDoc, UsersScope};
pub use summary::{AgentRow, Bucket, BudgetRow, LlmRow, SummaryDoc, SummaryPoint, TenantSpend};
pub use traces::{
    ExportDoc, OperationDoc, ScoreDoc, SpanDoc, TraceAnalysisDoc, TraceDoc, TracesDoc,
};

/// The four documents, read at one moment (what `validate` judges besides the scrapes).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Documents {
    /// `/api/v1/summary`.
    pub summary: SummaryDoc,
    /// `/api/v1/kpis`.
    pub kpis: KpisDoc,
    /// `/api/v1/alerts`.
    pub alerts: AlertsDoc,
    /// `/api/v1/traces`.
    pub traces: TracesDoc,
}
