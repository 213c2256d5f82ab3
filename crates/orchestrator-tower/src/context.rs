//! The trace context of the call in progress: ids, the sampling flag, and the slot through
//! which nested calls (a client call inside a server request) find their parent: a
//! thread-local that each call's future swaps its context into around every poll.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::{RngCore as _, SeedableRng as _};

use http::HeaderValue;
use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

/// The identity of one span and of its trace, as carried by W3C `traceparent`.
///
/// The ids are OpenTelemetry's own [`TraceId`] and [`SpanId`], which display as lower-case
/// hex (32 and 16 digits), the form logs and trace backends use. Convert to and from
/// [`SpanContext`] to link with code that uses the OpenTelemetry API:
///
/// ```
/// use opentelemetry::trace::{SpanContext, TraceContextExt as _};
/// use orchestrator_tower::TraceContext;
///
/// # let context = TraceContext::new_root(true);
/// let otel: SpanContext = SpanContext::from(&context);
/// assert_eq!(otel.trace_id(), context.trace_id);
/// let back = TraceContext::try_from(&otel).expect("a valid span context");
/// assert_eq!(back.span_id, context.span_id);
/// println!("trace_id={} span_id={}", context.trace_id, context.span_id);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// The trace id, never [`TraceId::INVALID`].
    pub trace_id: TraceId,
    /// The span id, never [`SpanId::INVALID`].
    pub span_id: SpanId,
    /// The W3C `sampled` flag: whether the trace is exported.
    pub sampled: bool,
    /// Whether the context came from another process (an incoming `traceparent`).
    pub remote: bool,
    /// The W3C `tracestate` that came with it, passed on untouched.
    pub tracestate: Option<HeaderValue>,
}

impl TraceContext {
    /// A context for a new local root span with fresh random ids, sampled or not.
    pub fn new_root(sampled: bool) -> Self {
        TraceContext {
            trace_id: TraceId::from_bytes(new_trace_id()),
            span_id: SpanId::from_bytes(new_span_id()),
            sampled,
            remote: false,
            tracestate: None,
        }
    }
}

/// The context as OpenTelemetry's [`SpanContext`] (flags from `sampled`, `tracestate`
/// parsed when it is valid, else empty).
impl From<&TraceContext> for SpanContext {
    fn from(context: &TraceContext) -> Self {
        let flags = if context.sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        let state = context
            .tracestate
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<TraceState>().ok())
            .unwrap_or_default();
        SpanContext::new(
            context.trace_id,
            context.span_id,
            flags,
            context.remote,
            state,
        )
    }
}

/// Why a [`SpanContext`] cannot be a [`TraceContext`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the span context is invalid: its trace id or span id is all zeros")]
pub struct InvalidSpanContext;

/// A context to parent this crate's calls to a span of the OpenTelemetry API (run them
/// inside it with [`TraceContext::scope`] or [`TraceFutureExt::in_trace`](crate::TraceFutureExt::in_trace)).
impl TryFrom<&SpanContext> for TraceContext {
    type Error = InvalidSpanContext;

    fn try_from(context: &SpanContext) -> Result<Self, Self::Error> {
        if !context.is_valid() {
            return Err(InvalidSpanContext);
        }
        let state = context.trace_state().header();
        Ok(TraceContext {
            trace_id: context.trace_id(),
            span_id: context.span_id(),
            sampled: context.is_sampled(),
            remote: context.is_remote(),
            tracestate: (!state.is_empty())
                .then(|| HeaderValue::from_str(&state).ok())
                .flatten(),
        })
    }
}

/// What a call running inside the layer leaves for the calls it makes.
#[derive(Debug, Clone)]
pub(crate) struct Current {
    /// The context children are parented to.
    pub(crate) context: TraceContext,
    /// Whether spans of this trace are being built (sampled, or deferred by the
    /// keep-errors policy).
    pub(crate) recording: bool,
    /// The tenant the calls made inside are billed to, inherited by children.
    pub(crate) tenant: Option<Arc<str>>,
    /// The same context as OpenTelemetry's, made its current one around each poll
    /// (`TracerBuilder::opentelemetry_context`); `None` when not asked for.
    pub(crate) otel: Option<opentelemetry::Context>,
    /// The agent run the calls made inside belong to, and the trace's spend.
    pub(crate) lineage: crate::agent::Lineage,
}

impl Current {
    /// A context given from outside (an OpenTelemetry span, a saved context): recorded
    /// when sampled.
    pub(crate) fn of(context: TraceContext) -> Self {
        let recording = context.sampled;
        Current {
            context,
            recording,
            tenant: None,
            otel: None,
            lineage: Default::default(),
        }
    }
}

/// The current call of a thread, and whether it records, readable without moving the
/// context out (the bridge asks that for every `tracing` span and event).
struct Slot {
    current: Cell<Option<Current>>,
    // 0: no call; 1: a call that is not recorded; 2: a recorded call.
    state: Cell<u8>,
}

impl Slot {
    fn replace(&self, new: Option<Current>) -> Option<Current> {
        self.state.set(match &new {
            None => 0,
            Some(c) if c.recording => 2,
            Some(_) => 1,
        });
        self.current.replace(new)
    }
}

thread_local! {
    // The context of the call being polled on this thread. A scoped future swaps its own
    // context in around each poll and swaps the previous one back after, so the slot
    // follows the task that is running, as a task-local would, without a runtime.
    static CURRENT: Slot = const {
        Slot {
            current: Cell::new(None),
            state: Cell::new(0),
        }
    };
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
    // Made OpenTelemetry's current context too when asked for; detached (below, before the
    // slot is given back) in the reverse order of attaching.
    let otel = slot
        .as_ref()
        .and_then(|c| c.otel.clone())
        .map(opentelemetry::Context::attach);
    // Only while the thread is being torn down is the slot gone; `f` then runs without one.
    if CURRENT
        .try_with(|current| *slot = current.replace(slot.take()))
        .is_err()
    {
        return f();
    }
    let _leave = Leave(slot);
    let _otel = otel;
    f()
}

thread_local! {
    static SUPPRESSED: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as the telemetry's own (the OTLP export thread): the bridge starts no
/// trace from spans opened on it.
pub(crate) fn suppress_on_this_thread() {
    let _ = SUPPRESSED.try_with(|s| s.set(true));
}

/// Whether this thread is the telemetry's own.
pub(crate) fn suppressed() -> bool {
    SUPPRESSED.try_with(Cell::get).unwrap_or(true)
}

/// Makes `new` the current context and returns the one it replaces (`None` while the
/// thread is being torn down).
pub(crate) fn swap(new: Option<Current>) -> Option<Option<Current>> {
    CURRENT.try_with(|current| current.replace(new)).ok()
}

/// The context of the call the current task is inside, if any: the innermost of the
/// layer's calls (server or client) and bridged `tracing` spans that is being polled or
/// entered on this thread.
///
/// Unsampled requests have a context too (their trace id is what logs carry); its
/// `sampled` flag says whether the trace is exported.
///
/// ```
/// assert!(orchestrator_tower::current().is_none()); // outside any traced call
/// ```
pub fn current() -> Option<TraceContext> {
    current_full().map(|c| c.context)
}

/// The ids of the current call, without cloning the rest of its context.
pub(crate) fn current_ids() -> Option<(TraceId, SpanId)> {
    CURRENT
        .try_with(|slot| {
            let value = slot.current.take();
            let ids = value
                .as_ref()
                .map(|c| (c.context.trace_id, c.context.span_id));
            slot.current.set(value);
            ids
        })
        .ok()
        .flatten()
}

/// Whether the current call (if any) is recording spans, without cloning its context:
/// `None` outside any call.
pub(crate) fn current_recording() -> Option<bool> {
    match CURRENT.try_with(|slot| slot.state.get()) {
        Ok(1) => Some(false),
        Ok(2) => Some(true),
        _ => None,
    }
}

/// Bills the calls made from now on inside the current call (LLM calls, their spend and
/// tokens) to `tenant`: `orchestrator_tenant_llm_cost_usd_total{tenant}` and
/// `orchestrator_tenant_llm_tokens_total{tenant,...}`. The tenant is inherited by every call
/// made inside the current one, and by work spawned with
/// [`in_current_trace`](crate::TraceFutureExt::in_current_trace). Inside a server request
/// that no header or extension named a tenant for, the request is counted for it in
/// `orchestrator_tenant_requests_total`.
///
/// Outside any call there is nothing to bill: it returns `false` and logs a warning (once
/// per process). Such calls' spend is still in the service-wide series
/// (`orchestrator_llm_cost_usd_total`), under no tenant; to bill a call made outside a
/// request, name its tenant on the guard ([`LlmCallGuard::tenant`](crate::LlmCallGuard::tenant)).
///
/// Servers usually get the tenant from a header (`TelemetryLayer::server(..).tenant_header`)
/// or a [`Tenant`](crate::Tenant) request extension instead; this is for a tenant known only
/// once the request is read (an API key looked up in a database, say).
pub fn set_tenant(tenant: impl Into<Arc<str>>) -> bool {
    let tenant = tenant.into();
    let set = CURRENT
        .try_with(|slot| {
            let mut value = slot.current.take();
            let set = value.as_mut().map(|c| c.tenant = Some(tenant)).is_some();
            slot.current.set(value);
            set
        })
        .unwrap_or(false);
    if !set {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            tracing::warn!(
                "set_tenant called outside any traced request or call: nothing to bill, so the spend that follows is counted under no tenant (service-wide only); name the tenant on the call instead (LlmCallGuard::tenant), or call set_tenant inside the request"
            );
        });
    }
    set
}

pub(crate) fn current_full() -> Option<Current> {
    CURRENT
        .try_with(|slot| {
            let value = slot.current.take();
            let copy = value.clone();
            slot.current.set(value);
            copy
        })
        .ok()
        .flatten()
}

thread_local! {
    // Xoshiro256++ (`rand`'s `SmallRng`), seeded per thread from the OS: 256 bits of state,
    // so the two 64-bit draws of a trace id carry 128 bits of entropy (W3C's `random` flag
    // asks for at least the right-most 7 bytes) at a few nanoseconds a draw. A
    // xorshift64* made the whole trace id from 64 bits of state: ids collided at about 2^32
    // traces.
    static RNG: RefCell<SmallRng> = RefCell::new(SmallRng::from_os_rng());
}

fn next_u64() -> u64 {
    RNG.try_with(|rng| rng.borrow_mut().next_u64())
        .unwrap_or_else(|_| SmallRng::from_os_rng().next_u64())
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
                trace_id: TraceId::from_bytes([1; 16]),
                span_id: SpanId::from_bytes([span; 8]),
                sampled: true,
                remote: false,
                tracestate: None,
            },
            recording: true,
            tenant: None,
            otel: None,
            lineage: Default::default(),
        })
    }

    fn current_span() -> Option<u8> {
        current().map(|c| c.span_id.to_bytes()[0])
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
        assert_eq!(outer.map(|c| c.context.span_id.to_bytes()[0]), Some(1));
        assert_eq!(inner.map(|c| c.context.span_id.to_bytes()[0]), Some(2));
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
