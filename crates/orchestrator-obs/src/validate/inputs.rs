//! What `validate` measured, before any judgement: two scrapes and the documents read.

use orchestrator_api::{AlertsDoc, KpisDoc, SummaryDoc, TracesDoc};

use super::perf::{PagePerf, QueryPerf};
use serde_json::Value;

/// One fetch of `/metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scrape {
    /// When it finished (ms since the epoch).
    pub at_ms: i64,
    /// The exposition text.
    pub text: String,
    /// The time the fetch took, in milliseconds.
    pub duration_ms: f64,
    /// The size of the uncompressed payload, in bytes.
    pub raw_bytes: usize,
    /// The size of the gzip payload, when the target compressed it on request.
    pub gzip_bytes: Option<usize>,
}

/// What Prometheus said, when `--prometheus` was given.
#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusInputs {
    /// Its base URL.
    pub url: String,
    /// `/api/v1/targets`.
    pub targets: Result<Value, String>,
    /// `/api/v1/rules`.
    pub rules: Result<Value, String>,
    /// Each orchestrator panel query of the dashboards but the trends (no data until a
    /// previous period exists): (dashboard, panel, PromQL, whether it returned data).
    pub panels: Vec<(String, String, String, Result<bool, String>)>,
    /// Every panel query timed at rising concurrency.
    pub performance: QueryPerf,
}

/// Everything `validate` read from the running system.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// The orchestrator's telemetry base URL.
    pub target: String,
    /// When the report was made (RFC 3339).
    pub generated_at: String,
    /// The first scrape.
    pub first: Scrape,
    /// The second scrape, an interval later.
    pub second: Scrape,
    /// `/api/v1/summary`.
    pub summary: Result<SummaryDoc, String>,
    /// `/api/v1/kpis`.
    pub kpis: Result<KpisDoc, String>,
    /// `/api/v1/alerts`.
    pub alerts: Result<AlertsDoc, String>,
    /// `/api/v1/traces`.
    pub traces: Result<TracesDoc, String>,
    /// The live page's load, update latency and API latency under viewers; `None` when not
    /// measured (`viewers` 0).
    pub page: Option<PagePerf>,
    /// Prometheus, if asked.
    pub prometheus: Option<PrometheusInputs>,
    /// Alertmanager's `/api/v2/status`, if asked.
    pub alertmanager: Option<(String, Result<Value, String>)>,
}
