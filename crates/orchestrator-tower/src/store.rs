//! The embedded trace store: the most recent sampled traces, bounded, in memory.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::analysis::TraceAnalysis;
use crate::span::SpanRecord;

/// The default number of traces kept.
pub const DEFAULT_STORE_CAPACITY: usize = 100;

/// One complete trace: its local root and every span that ended before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// The spans; the local root is last.
    pub spans: Vec<SpanRecord>,
}

impl Trace {
    /// The local root span.
    pub fn root(&self) -> Option<&SpanRecord> {
        self.spans.iter().rev().find(|s| s.is_local_root())
    }

    /// The trace id.
    pub fn trace_id(&self) -> [u8; 16] {
        self.spans.first().map_or([0; 16], |s| s.trace_id)
    }

    /// The root's duration.
    pub fn duration(&self) -> Duration {
        self.root().map_or(Duration::ZERO, SpanRecord::duration)
    }
}

/// The most recent traces, oldest evicted first. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TraceStore {
    inner: Arc<Mutex<VecDeque<Arc<Trace>>>>,
    /// Spans another OpenTelemetry pipeline finished, shown in their trace when it is here
    /// (at most [`FOREIGN_PER_TRACE`] per stored trace, oldest evicted first).
    foreign: Arc<Mutex<VecDeque<SpanRecord>>>,
    capacity: usize,
}

/// Foreign spans kept per trace the store can hold.
const FOREIGN_PER_TRACE: usize = 16;

impl TraceStore {
    /// A store of at most `capacity` traces.
    pub fn new(capacity: usize) -> Self {
        TraceStore {
            inner: Arc::new(Mutex::new(VecDeque::with_capacity(capacity.min(4096)))),
            foreign: Arc::default(),
            capacity,
        }
    }

    /// Its capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn push(&self, trace: Trace) {
        if self.capacity == 0 {
            return;
        }
        let mut traces = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if traces.len() == self.capacity {
            traces.pop_front();
        }
        traces.push_back(Arc::new(trace));
    }

    /// Keeps a span another OpenTelemetry pipeline finished, to show in its trace.
    pub(crate) fn push_foreign(&self, span: SpanRecord) {
        let limit = self.capacity.saturating_mul(FOREIGN_PER_TRACE);
        if limit == 0 {
            return;
        }
        let mut foreign = self.foreign.lock().unwrap_or_else(PoisonError::into_inner);
        if foreign.len() == limit {
            foreign.pop_front();
        }
        foreign.push_back(span);
    }

    /// The stored traces, oldest first, each with the foreign spans of its trace (before
    /// its local root, which stays last).
    pub fn traces(&self) -> Vec<Arc<Trace>> {
        let traces: Vec<Arc<Trace>> = {
            let traces = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            traces.iter().cloned().collect()
        };
        let foreign = self.foreign.lock().unwrap_or_else(PoisonError::into_inner);
        if foreign.is_empty() {
            return traces;
        }
        let mut by_trace: HashMap<[u8; 16], Vec<&SpanRecord>> = HashMap::new();
        for span in foreign.iter() {
            by_trace.entry(span.trace_id).or_default().push(span);
        }
        traces
            .into_iter()
            .map(|trace| match by_trace.get(&trace.trace_id()) {
                None => trace,
                Some(extra) => {
                    let mut spans = trace.spans.clone();
                    let at = spans.len().saturating_sub(1);
                    spans.splice(at..at, extra.iter().map(|s| (*s).clone()));
                    Arc::new(Trace { spans })
                }
            })
            .collect()
    }

    /// How many traces are stored.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no trace is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The analysis of the stored traces.
    pub fn analysis(&self) -> TraceAnalysis {
        TraceAnalysis::of(&self.traces())
    }
}
