//! A call in progress: it ends exactly once, when finished or when dropped (cancelled).

use std::time::{Duration, SystemTime};

use quanta::Instant;

use crate::classify::{Ended, Outcome};
use crate::kind::CallState;
use crate::span::SpanRecord;
use crate::tracer::Tracer;

/// The span of a recorded call, before it ends.
#[derive(Debug, Clone)]
pub(crate) struct OpenSpan {
    pub(crate) trace_id: [u8; 16],
    pub(crate) span_id: [u8; 8],
    pub(crate) parent: Option<[u8; 8]>,
    pub(crate) parent_is_remote: bool,
    pub(crate) sampled: bool,
    pub(crate) start: SystemTime,
}

/// A call that has started and not ended. Dropping it ends the call as
/// [`Outcome::Cancelled`], unless the call had already settled its outcome
/// ([`CallState::settled`]).
#[derive(Debug)]
pub struct Pending<C: CallState> {
    call: Option<C>,
    start: Instant,
    // Boxed: only sampled calls pay for it, and the future stays small to move.
    span: Option<Box<OpenSpan>>,
    tracer: Tracer,
}

impl<C: CallState> Pending<C> {
    pub(crate) fn new(
        call: C,
        span: Option<Box<OpenSpan>>,
        tracer: Tracer,
        start: Instant,
    ) -> Self {
        Pending {
            call: Some(call),
            start,
            span,
            tracer,
        }
    }

    /// The call's state, to add what the response tells.
    pub fn call_mut(&mut self) -> &mut C {
        self.call
            .as_mut()
            .expect("a pending call holds its state until it ends")
    }

    /// The call's state.
    pub(crate) fn call(&self) -> &C {
        self.call
            .as_ref()
            .expect("a pending call holds its state until it ends")
    }

    /// How long the call has been running.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Ends the call with `outcome`: records its metrics and, if it is recorded, its span.
    pub fn finish(mut self, outcome: Outcome) {
        self.end(outcome, None);
    }

    fn end(&mut self, outcome: Outcome, at: Option<Duration>) {
        let Some(mut call) = self.call.take() else {
            return;
        };
        call.ending(&outcome);
        let ended = Ended {
            outcome,
            duration: at.unwrap_or_else(|| self.start.elapsed()),
            exemplar: self
                .span
                .as_ref()
                .filter(|open| open.sampled)
                .and_then(|open| orchestrator_metrics::Exemplar::new(open.trace_id, open.span_id)),
        };
        call.record(&ended, self.tracer.metrics());
        self.tracer.call_ended(C::OPERATION);
        if let Some(open) = self.span.take() {
            let mut attributes = Vec::with_capacity(8);
            call.attributes(&ended, &mut attributes);
            let left_out = call.dropped_attributes();
            if left_out > 0 {
                self.tracer.count_dropped_attributes(left_out);
            }
            let record = SpanRecord {
                trace_id: open.trace_id,
                span_id: open.span_id,
                parent_span_id: open.parent,
                parent_is_remote: open.parent_is_remote,
                sampled: open.sampled,
                kind: C::SPAN_KIND,
                operation: C::OPERATION,
                name: call.name(),
                start: open.start,
                end: open.start + ended.duration,
                attributes,
                failed: ended.outcome.is_failure(),
                error_type: ended.outcome.error_type(),
                status_message: None,
                events: Vec::new(),
                dropped_attributes: 0,
            };
            self.tracer.end_span(record);
        }
    }
}

impl<C: CallState> Drop for Pending<C> {
    fn drop(&mut self) {
        match self.call.as_ref().and_then(CallState::settled) {
            Some((outcome, at)) => self.end(outcome, Some(at)),
            None => self.end(Outcome::Cancelled, None),
        }
    }
}
