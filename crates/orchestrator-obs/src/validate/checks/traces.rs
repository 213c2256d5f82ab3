//! `traces`: `/api/v1/traces` answers, sampled traces are collected, and an exporter that
//! is configured delivers.

use orchestrator_api::TracesDoc;

use super::Checks;

pub(super) fn checks(traces: &Result<TracesDoc, String>, c: &mut Checks<'_>) {
    let t = match traces {
        Ok(t) => t,
        Err(e) => return c.presence("/api/v1/traces answers", false, e.clone()),
    };
    c.presence("/api/v1/traces answers", true, String::new());
    let n = t.analysis.traces;
    c.presence(
        "sampled traces are collected",
        n > 0,
        format!("{n} traces, {:.1} spans each", t.analysis.mean_spans),
    );
    if let Some(e) = &t.analysis.export {
        c.correctness(
            "OTLP export delivers spans",
            e.spans_exported > 0 || e.last_error.is_none(),
            format!(
                "{} exported, {} dropped{}",
                e.spans_exported,
                e.spans_dropped,
                e.last_error
                    .as_deref()
                    .map_or(String::new(), |err| format!("; last error: {err}"))
            ),
        );
    }
}
