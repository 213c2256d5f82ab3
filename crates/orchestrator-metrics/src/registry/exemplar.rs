//! Exemplars: the trace of one recent observation per histogram bucket, so that a latency
//! spike on a dashboard links to a trace that shows it.
//!
//! A histogram keeps no exemplar storage until its first exemplar: the unsampled path
//! (`HistogramHandle::observe`) never touches it. Each bucket keeps its most recent
//! exemplar, behind its own small mutex (taken only by sampled observations and by the
//! OpenMetrics renderer).

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// The trace and span an observation was recorded in, as W3C ids.
///
/// ```
/// use orchestrator_metrics::Exemplar;
///
/// let exemplar = Exemplar::new([0x4b; 16], [0xf0; 8]).expect("non-zero ids");
/// assert_eq!(exemplar.trace_id_hex().len(), 32);
/// assert!(Exemplar::new([0; 16], [1; 8]).is_none(), "an all-zero trace id is invalid");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Exemplar {
    trace_id: [u8; 16],
    span_id: [u8; 8],
}

impl Exemplar {
    /// An exemplar for this trace and span; `None` when either id is all zeros (invalid in
    /// W3C Trace Context).
    pub fn new(trace_id: [u8; 16], span_id: [u8; 8]) -> Option<Self> {
        (trace_id != [0; 16] && span_id != [0; 8]).then_some(Exemplar { trace_id, span_id })
    }

    /// The trace id's bytes.
    pub fn trace_id(&self) -> [u8; 16] {
        self.trace_id
    }

    /// The span id's bytes.
    pub fn span_id(&self) -> [u8; 8] {
        self.span_id
    }

    /// The trace id as 32 lowercase hex digits.
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    /// The span id as 16 lowercase hex digits.
    pub fn span_id_hex(&self) -> String {
        hex(&self.span_id)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One bucket's most recent exemplar: the ids, the observed value and when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stored {
    pub(crate) exemplar: Exemplar,
    pub(crate) value: f64,
    /// Unix time in seconds.
    pub(crate) at: f64,
}

/// The exemplar slots of one histogram series, made on first use.
#[derive(Debug, Default)]
pub(crate) struct Slots {
    buckets: OnceLock<Box<[Mutex<Option<Stored>>]>>,
}

impl Slots {
    pub(crate) fn put(&self, buckets: usize, bucket: usize, exemplar: Exemplar, value: f64) {
        let slots = self
            .buckets
            .get_or_init(|| (0..buckets).map(|_| Mutex::new(None)).collect());
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        if let Some(slot) = slots.get(bucket) {
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(Stored {
                exemplar,
                value,
                at,
            });
        }
    }

    /// The exemplar of `bucket`, if one was recorded.
    pub(crate) fn get(&self, bucket: usize) -> Option<Stored> {
        *self
            .buckets
            .get()?
            .get(bucket)?
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
