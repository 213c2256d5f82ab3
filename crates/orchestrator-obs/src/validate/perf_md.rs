//! The performance sections of `report.md` and `report.json`: query performance (with
//! `--prometheus`) and dashboard performance.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::md::md;
use super::report::Report;

impl Report {
    /// `## Query performance` and `## Dashboard performance`, with what was measured or
    /// why not.
    pub(super) fn performance_sections(&self, out: &mut String) {
        let _ = writeln!(out, "\n## Query performance\n");
        match self.inputs.prometheus.as_ref().map(|p| &p.performance) {
            None => {
                let _ = writeln!(out, "Not measured: no `--prometheus` given.");
            }
            Some(q) => {
                let levels: Vec<String> = q.concurrency.iter().map(ToString::to_string).collect();
                let _ = writeln!(
                    out,
                    "Every dashboard panel query, once per concurrency level ({}).\n",
                    levels.join(", ")
                );
                let _ = writeln!(out, "| Measure | Value |\n|---|---|");
                let _ = writeln!(out, "| Queries | {} ({} runs) |", q.queries, q.runs);
                let _ = writeln!(out, "| Mean query time | {:.1} ms |", q.mean_ms);
                let _ = writeln!(out, "| P95 query time | {:.1} ms |", q.p95_ms);
                let _ = writeln!(
                    out,
                    "| Highest concurrency tried | {} |",
                    q.concurrency.last().copied().unwrap_or(0)
                );
                let _ = writeln!(
                    out,
                    "| Errors | {}{} |",
                    q.errors,
                    q.first_error
                        .as_deref()
                        .map_or(String::new(), |e| format!(" (first: {})", md(e)))
                );
                if !q.slowest.is_empty() {
                    let _ = writeln!(out, "\n| Slowest queries | Mean |\n|---|---|");
                    for (name, ms) in &q.slowest {
                        let _ = writeln!(out, "| {} | {ms:.1} ms |", md(name));
                    }
                }
            }
        }
        let _ = writeln!(out, "\n## Dashboard performance\n");
        match &self.inputs.page {
            None => {
                let _ = writeln!(out, "Not measured: `--viewers 0`.");
            }
            Some(p) => {
                let _ = writeln!(out, "| Measure | Value |\n|---|---|");
                let _ = writeln!(
                    out,
                    "| Page load (page, 2 assets, 4 API answers, in turn) | {:.1} ms |",
                    p.load_ms
                );
                let _ = writeln!(
                    out,
                    "| Update latency (request in `/metrics` → counted by `/api/v1/summary`) | {} |",
                    p.update_latency_ms
                        .map_or("not measured: no request arrived".to_owned(), |ms| format!(
                            "{ms:.0} ms"
                        ))
                );
                let _ = writeln!(
                    out,
                    "| API p95 with {} concurrent viewers | {:.1} ms (mean {:.1} ms, {} requests, {} errors) |",
                    p.viewers, p.api_p95_ms, p.api_mean_ms, p.api_requests, p.api_errors
                );
            }
        }
    }

    /// `query_performance` and `dashboard_performance` of `report.json`.
    pub(super) fn performance_json(&self) -> (Value, Value) {
        let query = self.inputs.prometheus.as_ref().map_or(Value::Null, |p| {
            let q = &p.performance;
            json!({
                "queries": q.queries,
                "runs": q.runs,
                "concurrency": q.concurrency,
                "mean_ms": q.mean_ms,
                "p95_ms": q.p95_ms,
                "errors": q.errors,
                "first_error": q.first_error,
                "slowest": q.slowest.iter().map(|(name, ms)| json!({"query": name, "mean_ms": ms})).collect::<Vec<_>>(),
            })
        });
        let page = self.inputs.page.as_ref().map_or(Value::Null, |p| {
            json!({
                "load_ms": p.load_ms,
                "load_errors": p.load_errors,
                "update_latency_ms": p.update_latency_ms,
                "viewers": p.viewers,
                "api_requests": p.api_requests,
                "api_mean_ms": p.api_mean_ms,
                "api_p95_ms": p.api_p95_ms,
                "api_errors": p.api_errors,
            })
        });
        (query, page)
    }
}
