//! `/api/v1/traces`: the trace store's recent traces, their analysis and the export health.

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use orchestrator_api::{
    ExportDoc, OperationDoc, ScoreDoc, SpanDoc, TraceAnalysisDoc, TraceDoc, TracesDoc,
};
use orchestrator_tower::{Trace, Tracer};

/// How many recent traces the document lists.
const RECENT_TRACES: usize = 20;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A feedback span arrives after its judged trace, as a trace of its own with the same id:
/// its score is shown on the judged trace instead.
fn feedback(trace: &Trace) -> Option<ScoreDoc> {
    let [span] = trace.spans.as_slice() else {
        return None;
    };
    let attribute = |key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    };
    Some(ScoreDoc {
        kind: attribute("feedback.kind")?,
        score: attribute("feedback.score")?,
    })
}

fn trace_doc(trace: &Trace, scores: &HashMap<[u8; 16], Vec<ScoreDoc>>) -> Option<TraceDoc> {
    let root = trace.root()?;
    let mut spans: Vec<_> = trace.spans.iter().collect();
    spans.sort_by_key(|s| s.start);
    let spans = spans
        .iter()
        .map(|s| SpanDoc {
            span_id: hex(&s.span_id),
            parent_span_id: s.parent_span_id.map(|p| hex(&p)),
            name: s.name.to_string(),
            operation: s.operation.name().to_owned(),
            offset_ms: ms(s.start.duration_since(root.start).unwrap_or_default()),
            duration_ms: ms(s.duration()),
            failed: s.failed,
            error_type: s.error_type.map(str::to_owned),
            cost_usd: s.cost_usd(),
            attributes: s
                .attributes
                .iter()
                .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                .collect(),
        })
        .collect();
    Some(TraceDoc {
        trace_id: hex(&trace.trace_id()),
        root: root.name.to_string(),
        start: root
            .start
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        duration_ms: ms(trace.duration()),
        failed: root.failed,
        cost_usd: root.f64_attribute(orchestrator_tower::LLM_COST_ATTRIBUTE),
        scores: scores.get(&trace.trace_id()).cloned().unwrap_or_default(),
        spans,
    })
}

pub(crate) fn traces(tracer: &Tracer) -> TracesDoc {
    let stored = tracer.store().traces();
    let analysis = orchestrator_tower::TraceAnalysis::of(&stored);
    let mut scores: HashMap<[u8; 16], Vec<ScoreDoc>> = HashMap::new();
    for trace in &stored {
        if let Some(score) = feedback(trace) {
            scores.entry(trace.trace_id()).or_default().push(score);
        }
    }
    let recent = stored
        .iter()
        .rev()
        .filter(|trace| feedback(trace).is_none())
        .take(RECENT_TRACES)
        .filter_map(|trace| trace_doc(trace, &scores))
        .collect();
    let last_error = tracer.last_export_error();
    TracesDoc {
        analysis: TraceAnalysisDoc {
            traces: analysis.traces,
            mean_duration_ms: ms(analysis.mean_duration),
            mean_spans: analysis.mean_spans,
            operations: analysis
                .operations
                .iter()
                .map(|o| OperationDoc {
                    operation: o.operation.name().to_owned(),
                    spans: o.spans,
                    mean_ms: ms(o.mean),
                    share: o.share,
                })
                .collect(),
            sampler: tracer.sampler().to_string(),
            export: tracer.is_exporting().then(|| ExportDoc {
                spans_exported: tracer.exported_spans(),
                spans_dropped: tracer.dropped_spans(),
                last_error_at: last_error.as_ref().map(|e| e.at_ms),
                last_error: last_error.map(|e| e.error),
            }),
        },
        traces: recent,
    }
}
