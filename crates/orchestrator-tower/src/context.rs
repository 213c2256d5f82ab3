//! The trace context of the call in progress: ids, the sampling flag, and the task-local
//! slot through which nested calls (a client call inside a server request) find their parent.

use std::cell::Cell;
use std::hash::{BuildHasher, RandomState};

use http::HeaderValue;

/// The identity of one span and of its trace, as carried by W3C `traceparent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// The 16-byte trace id, never all zeros.
    pub trace_id: [u8; 16],
    /// The 8-byte span id, never all zeros.
    pub span_id: [u8; 8],
    /// The W3C `sampled` flag: whether the trace is exported.
    pub sampled: bool,
    /// Whether the context came from another process (an incoming `traceparent`).
    pub remote: bool,
    /// The W3C `tracestate` that came with it, passed on untouched.
    pub tracestate: Option<HeaderValue>,
}

/// What a call running inside the layer leaves for the calls it makes.
#[derive(Debug, Clone)]
pub(crate) struct Current {
    /// The context children are parented to.
    pub(crate) context: TraceContext,
    /// Whether spans of this trace are being built (sampled, or deferred by the
    /// keep-errors policy).
    pub(crate) recording: bool,
}

tokio::task_local! {
    pub(crate) static CURRENT: Current;
}

/// The context of the call the current task is inside, if any.
pub fn current() -> Option<TraceContext> {
    CURRENT.try_with(|c| c.context.clone()).ok()
}

pub(crate) fn current_full() -> Option<Current> {
    CURRENT.try_with(Current::clone).ok()
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    // A per-thread random seed: RandomState is seeded from the OS once per thread.
    RandomState::new().hash_one(std::thread::current().id()) | 1
}

/// A xorshift64* step: fast, allocation-free, and good enough for ids (they need to be
/// unique and uniform in their low bits, which the ratio sampler reads, not secret).
fn next_u64() -> u64 {
    RNG.with(|cell| {
        let mut x = cell.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        cell.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

/// A new random, non-zero trace id.
pub fn new_trace_id() -> [u8; 16] {
    loop {
        let (hi, lo) = (next_u64(), next_u64());
        if hi | lo != 0 {
            let mut id = [0; 16];
            id[..8].copy_from_slice(&hi.to_be_bytes());
            id[8..].copy_from_slice(&lo.to_be_bytes());
            return id;
        }
    }
}

/// A new random, non-zero span id.
pub fn new_span_id() -> [u8; 8] {
    loop {
        let id = next_u64();
        if id != 0 {
            return id.to_be_bytes();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_non_zero_and_distinct() {
        let a = new_trace_id();
        let b = new_trace_id();
        assert_ne!(a, [0; 16]);
        assert_ne!(a, b);
        assert_ne!(new_span_id(), new_span_id());
    }
}
