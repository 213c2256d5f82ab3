//! User feedback on the answer it judges: the score is recorded in the score histogram and,
//! when the judged request's trace is sampled, exported as a small `feedback` span in that
//! trace, a child of the judged span (the request's server span, say), so a trace backend
//! shows the score on the trace it judges.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use orchestrator_metrics::{Exemplar, RejectReason};

use crate::context::{TraceContext, new_span_id};
use crate::span::{Operation, SpanRecord};
use crate::tracer::Tracer;

/// What a score measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feedback {
    /// User satisfaction, 0–10 (`orchestrator_user_satisfaction_score`).
    Satisfaction,
    /// Answer quality, 0–100 (`orchestrator_quality_score`).
    Quality,
}

impl Feedback {
    /// `satisfaction` or `quality`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Feedback::Satisfaction => "satisfaction",
            Feedback::Quality => "quality",
        }
    }
}

impl Tracer {
    /// Records a feedback score on the request it judges: the score histogram always (as
    /// `BusinessMetrics::record_satisfaction` / `record_quality`), and, when `judged`'s trace
    /// is sampled, a `feedback {kind}` span (internal) in that trace, a child of `judged`,
    /// with `feedback.kind` and `feedback.score`; the score is then also its bucket's
    /// exemplar, pointing at that span. Save `judged` from the answered request
    /// ([`current`](crate::current) inside its handler) to send feedback later.
    ///
    /// An out-of-range or non-finite score is refused (counted) and exports nothing.
    pub fn record_feedback(
        &self,
        judged: &TraceContext,
        kind: Feedback,
        score: f64,
    ) -> Result<(), RejectReason> {
        let business = self.metrics().business();
        // A sampled judged trace gets a feedback span, which is also the score's exemplar.
        let span_id = judged.sampled.then(new_span_id);
        let exemplar = span_id.and_then(|id| Exemplar::new(judged.trace_id.to_bytes(), id));
        match kind {
            Feedback::Satisfaction => {
                business.record_satisfaction_with_exemplar(score, exemplar)?
            }
            Feedback::Quality => business.record_quality_with_exemplar(score, exemplar)?,
        }
        let Some(span_id) = span_id else {
            return Ok(());
        };
        let now = SystemTime::now();
        self.end_span(SpanRecord {
            trace_id: judged.trace_id.to_bytes(),
            span_id,
            parent_span_id: Some(judged.span_id.to_bytes()),
            // The judged request ended before the feedback came: this span is exported on
            // its own, as a span whose parent lives elsewhere.
            parent_is_remote: true,
            sampled: true,
            kind: SpanKind::Internal,
            operation: Operation::Internal,
            name: Cow::Owned(format!("feedback {}", kind.as_str())),
            start: now,
            end: now,
            attributes: vec![
                KeyValue::new("feedback.kind", kind.as_str()),
                KeyValue::new("feedback.score", score),
            ],
            failed: false,
            error_type: None,
            status_message: None,
            events: Vec::new(),
            dropped_attributes: 0,
        });
        Ok(())
    }
}
