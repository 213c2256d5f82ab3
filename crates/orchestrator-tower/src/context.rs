//! The trace context of the call in progress: ids, the sampling flag, and the slot through
//! which nested calls (a client call inside a server request) find their parent: a
//! thread-local that each call's future swaps its context into around every poll.

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

thread_local! {
    // The context of the call being polled on this thread. A scoped future swaps its own
    // context in around each poll and swaps the previous one back after, so the slot
    // follows the task that is running, as a task-local would, without a runtime.
    static CURRENT: Cell<Option<Current>> = const { Cell::new(None) };
}

/// Runs `f` with `slot`'s context as the current one. Afterwards (also if `f` unwinds) the
/// previous context is back in place and `slot` holds its own again.
pub(crate) fn enter<R>(slot: &mut Option<Current>, f: impl FnOnce() -> R) -> R {
    struct Leave<'a>(&'a mut Option<Current>);
    impl Drop for Leave<'_> {
        fn drop(&mut self) {
            let _ = CURRENT.try_with(|current| *self.0 = current.replace(self.0.take()));
        }
    }
    // Only while the thread is being torn down is the slot gone; `f` then runs without one.
    if CURRENT
        .try_with(|current| *slot = current.replace(slot.take()))
        .is_err()
    {
        return f();
    }
    let _leave = Leave(slot);
    f()
}

/// The context of the call the current task is inside, if any.
pub fn current() -> Option<TraceContext> {
    current_full().map(|c| c.context)
}

pub(crate) fn current_full() -> Option<Current> {
    CURRENT
        .try_with(|current| {
            let value = current.take();
            let copy = value.clone();
            current.set(value);
            copy
        })
        .ok()
        .flatten()
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

    fn scoped(span: u8) -> Option<Current> {
        Some(Current {
            context: TraceContext {
                trace_id: [1; 16],
                span_id: [span; 8],
                sampled: true,
                remote: false,
                tracestate: None,
            },
            recording: true,
        })
    }

    fn current_span() -> Option<u8> {
        current().map(|c| c.span_id[0])
    }

    #[test]
    fn enter_nests_and_restores_and_gives_the_slot_back() {
        assert_eq!(current_span(), None);
        let (mut outer, mut inner) = (scoped(1), scoped(2));
        enter(&mut outer, || {
            assert_eq!(current_span(), Some(1));
            enter(&mut inner, || assert_eq!(current_span(), Some(2)));
            assert_eq!(current_span(), Some(1));
        });
        assert_eq!(current_span(), None);
        assert_eq!(outer.map(|c| c.context.span_id[0]), Some(1));
        assert_eq!(inner.map(|c| c.context.span_id[0]), Some(2));
    }

    #[test]
    fn a_panic_inside_leaves_the_previous_context_in_place() {
        let (mut outer, mut inner) = (scoped(1), scoped(2));
        enter(&mut outer, || {
            let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                enter(&mut inner, || panic!("inside"));
            }));
            assert!(unwound.is_err());
            assert_eq!(current_span(), Some(1));
        });
        assert_eq!(current_span(), None);
        assert!(
            inner.is_some(),
            "the slot has its context back after the unwind"
        );
    }

    #[test]
    fn ids_are_non_zero_and_distinct() {
        let a = new_trace_id();
        let b = new_trace_id();
        assert_ne!(a, [0; 16]);
        assert_ne!(a, b);
        assert_ne!(new_span_id(), new_span_id());
    }
}
