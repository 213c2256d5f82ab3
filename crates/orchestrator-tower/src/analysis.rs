//! The trace analysis: how many traces, how long, how many spans, and where the time went.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::span::Operation;
use crate::store::Trace;

/// What one operation category weighs in the analysed traces.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationStats {
    /// The category.
    pub operation: Operation,
    /// How many spans of it.
    pub spans: usize,
    /// Their mean duration.
    pub mean: Duration,
    /// Their total time over the root spans' total time (for the API request itself, 1).
    pub share: f64,
}

/// The analysis of a set of traces, computed from their spans.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceAnalysis {
    /// Traces analysed.
    pub traces: usize,
    /// The mean duration of their root spans.
    pub mean_duration: Duration,
    /// The mean number of spans per trace.
    pub mean_spans: f64,
    /// Per operation category, those that occur, in display order.
    pub operations: Vec<OperationStats>,
}

impl TraceAnalysis {
    /// Analyses `traces`.
    ///
    /// Only traces whose root is a call of the layer (an API request, or a client call made
    /// outside any request) are analysed: a background job's trace, rooted at a bridged
    /// `tracing` span, is never counted as a request. Bridged spans inside requests appear
    /// as the `Internal` operation.
    pub fn of(traces: &[Arc<Trace>]) -> Self {
        let traces: Vec<&Arc<Trace>> = traces
            .iter()
            .filter(|t| {
                t.root().is_some_and(|r| {
                    !matches!(
                        r.operation,
                        Operation::Internal | Operation::AgentRun | Operation::ToolCall
                    )
                })
            })
            .collect();
        if traces.is_empty() {
            return TraceAnalysis::default();
        }
        let root_total: Duration = traces.iter().map(|t| t.duration()).sum();
        let spans: usize = traces.iter().map(|t| t.spans.len()).sum();
        let count = u32::try_from(traces.len()).unwrap_or(u32::MAX);
        let operations = Operation::ALL
            .into_iter()
            .filter_map(|operation| {
                let (n, total) = traces
                    .iter()
                    .flat_map(|t| t.spans.iter())
                    .filter(|s| s.operation == operation)
                    .fold((0usize, Duration::ZERO), |(n, d), s| {
                        (n + 1, d + s.duration())
                    });
                (n > 0).then(|| OperationStats {
                    operation,
                    spans: n,
                    mean: total / u32::try_from(n).unwrap_or(u32::MAX),
                    share: if root_total.is_zero() {
                        0.0
                    } else {
                        total.as_secs_f64() / root_total.as_secs_f64()
                    },
                })
            })
            .collect();
        TraceAnalysis {
            traces: traces.len(),
            mean_duration: root_total / count,
            mean_spans: spans as f64 / traces.len() as f64,
            operations,
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl fmt::Display for TraceAnalysis {
    /// The seed's layout: the summary, then one line per operation with its share of the
    /// root span's time.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Traces collected:  {}", self.traces)?;
        if self.traces == 0 {
            return Ok(());
        }
        writeln!(f, "Mean duration:     {:.1}ms", ms(self.mean_duration))?;
        writeln!(f, "Mean spans/trace:  {:.1}", self.mean_spans)?;
        writeln!(f, "Operations:")?;
        for op in &self.operations {
            if op.operation == Operation::ApiRequest {
                writeln!(
                    f,
                    "  - {}: {:.1}ms (root span, {} spans)",
                    op.operation.name(),
                    ms(op.mean),
                    op.spans
                )?;
            } else {
                writeln!(
                    f,
                    "  - {}: {:.1}ms ({:.0}% of the time, {} spans)",
                    op.operation.name(),
                    ms(op.mean),
                    op.share * 100.0,
                    op.spans
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use opentelemetry::trace::SpanKind;

    use super::*;
    use crate::span::SpanRecord;

    fn span(op: Operation, parent: Option<[u8; 8]>, ms: u64) -> SpanRecord {
        let start = SystemTime::UNIX_EPOCH;
        SpanRecord {
            trace_id: [1; 16],
            span_id: [2; 8],
            parent_span_id: parent,
            parent_is_remote: false,
            sampled: true,
            kind: SpanKind::Internal,
            operation: op,
            name: "x".into(),
            start,
            end: start + Duration::from_millis(ms),
            attributes: vec![],
            failed: false,
            error_type: None,
            status_message: None,
            events: Vec::new(),
            dropped_attributes: 0,
        }
    }

    #[test]
    fn shares_are_of_root_time() {
        let trace = |root_ms, llm_ms| {
            Arc::new(Trace {
                spans: vec![
                    span(Operation::LlmRequest, Some([2; 8]), llm_ms),
                    span(Operation::ApiRequest, None, root_ms),
                ],
            })
        };
        let a = TraceAnalysis::of(&[trace(100, 40), trace(300, 60)]);
        assert_eq!(a.traces, 2);
        assert_eq!(a.mean_duration, Duration::from_millis(200));
        assert_eq!(a.mean_spans, 2.0);
        let llm = &a.operations[1];
        assert_eq!(llm.operation, Operation::LlmRequest);
        assert_eq!(llm.mean, Duration::from_millis(50));
        assert!((llm.share - 0.25).abs() < 1e-12);
        let text = a.to_string();
        assert!(
            text.contains("  - LLM Request: 50.0ms (25% of the time, 2 spans)"),
            "{text}"
        );
    }
}
