//! The service: decides sampling before any span work, then hands the call to the kind.

use std::task::{Context, Poll};
use std::time::SystemTime;

use opentelemetry::trace::{SpanId, TraceContextExt as _, TraceId};
use quanta::Instant;

use tower::Service;

use crate::context::{self, Current, TraceContext, new_span_id, new_trace_id};
use crate::future::ResponseFuture;
use crate::kind::{CallState, Kind, OnRequest, OnResponse};
use crate::pending::{OpenSpan, Pending};
use crate::tracer::Tracer;

/// A service wrapped by [`TelemetryLayer`](crate::TelemetryLayer).
#[derive(Debug, Clone)]
pub struct TelemetryService<S, K> {
    inner: S,
    kind: K,
    tracer: Tracer,
}

impl<S, K> TelemetryService<S, K> {
    pub(crate) fn new(inner: S, kind: K, tracer: Tracer) -> Self {
        TelemetryService {
            inner,
            kind,
            tracer,
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

/// A new span's place in its trace, decided before any span work.
pub(crate) struct Child {
    /// The span's own context (a fresh span id), and whether it is recorded.
    pub(crate) current: Current,
    /// The parent span, if any.
    pub(crate) parent: Option<[u8; 8]>,
    /// Whether the parent is in another process.
    pub(crate) parent_is_remote: bool,
}

/// Decides a new span under `remote` (a server's incoming `traceparent`) or else `local`
/// (the call or bridged span it runs in), or as a root: the one place where sampling, the
/// cap on caller-forced traces and the keep-errors policy are applied, for the layer's calls
/// and the bridged `tracing` spans alike.
pub(crate) fn decide(
    tracer: &Tracer,
    remote: Option<&TraceContext>,
    local: Option<&Current>,
) -> Child {
    // Outside any of our calls, OpenTelemetry's current span (the user's own server
    // instrumentation, a job started under an OpenTelemetry span) is the parent: its trace
    // and its sampling decision continue, as an incoming `traceparent`'s do.
    let foreign = if remote.is_none() && local.is_none() {
        opentelemetry_parent()
    } else {
        None
    };
    let remote = remote.or(foreign.as_ref());
    let parent: Option<&TraceContext> = remote.or(local.map(|c| &c.context));
    let trace_id = parent.map_or_else(new_trace_id, |p| p.trace_id.to_bytes());
    let mut sampled = tracer.sampler().should_sample(parent, &trace_id);
    // Sampled only because the caller said so: bounded per second.
    if sampled
        && parent.is_some_and(|p| p.remote)
        && !tracer.sampler().samples_new(&trace_id)
        && !tracer.admit_forced()
    {
        sampled = false;
    }
    let recording = match local {
        Some(current) => current.recording,
        None => sampled || tracer.defers_decision(),
    };
    let context = TraceContext {
        trace_id: TraceId::from_bytes(trace_id),
        span_id: SpanId::from_bytes(new_span_id()),
        sampled,
        remote: false,
        tracestate: parent.and_then(|p| p.tracestate.clone()),
    };
    let otel = tracer.shares_opentelemetry_context().then(|| {
        let span = opentelemetry::trace::SpanContext::from(&context);
        opentelemetry::Context::map_current(|cx| cx.with_remote_span_context(span))
    });
    // A local root that records keeps its trace's spend (its span's roll-up, and what
    // `keep_expensive` decides on); an unrecorded one allocates nothing for it.
    let lineage = match local {
        Some(current) => current.lineage.clone(),
        None => crate::agent::Lineage {
            agent: None,
            spend: recording.then(Default::default),
        },
    };
    Child {
        current: Current {
            context,
            recording,
            tenant: local.and_then(|c| c.tenant.clone()),
            otel,
            lineage,
        },
        parent: parent.map(|p| p.span_id.to_bytes()),
        // A foreign parent is outside this tracer's trees too: this span is the root of
        // what it assembles and exports.
        parent_is_remote: parent.is_some_and(|p| p.remote) || foreign.is_some(),
    }
}

/// OpenTelemetry's current span context, when it is a valid one (none, or the no-op span's,
/// is no parent). Reading it allocates nothing.
fn opentelemetry_parent() -> Option<TraceContext> {
    opentelemetry::Context::map_current(|cx| {
        if !cx.has_active_span() {
            return None;
        }
        TraceContext::try_from(cx.span().span_context()).ok()
    })
}

/// Starts a call: its parent is `remote` or else the call this one runs in; the sampling
/// decision comes first, and nothing allocates for tracing unless it is yes. `make` reads
/// the call's state, given the call's own context. Returns the pending call and the context
/// its children run in.
pub(crate) fn begin<C: CallState>(
    tracer: &Tracer,
    remote: Option<TraceContext>,
    make: impl FnOnce(&TraceContext, bool) -> C,
) -> (Pending<C>, Current) {
    let start = Instant::now();
    let local = match remote {
        Some(_) => None,
        None => context::current_full(),
    };
    let mut child = decide(tracer, remote.as_ref(), local.as_ref());
    let context = &child.current.context;
    let mut call = make(context, child.current.recording);
    // A call that names its tenant (a server reading a header) bills its children to it;
    // others inherit their parent's and learn it.
    match call.tenant() {
        Some(tenant) => child.current.tenant = Some(tenant.clone()),
        None => call.inherit_tenant(child.current.tenant.as_ref()),
    }
    call.inherit(&mut child.current.lineage);
    let span = child.current.recording.then(|| {
        Box::new(OpenSpan {
            trace_id: context.trace_id.to_bytes(),
            span_id: context.span_id.to_bytes(),
            parent: child.parent,
            parent_is_remote: child.parent_is_remote,
            sampled: context.sampled,
            start: SystemTime::now(),
        })
    });
    let pending = Pending::new(call, span, tracer.clone(), start);
    (pending, child.current)
}

impl<S, K, Req, Res> Service<Req> for TelemetryService<S, K>
where
    S: Service<Req, Response = Res>,
    K: Kind + OnRequest<Req> + OnResponse<Res>,
{
    type Response = K::Output;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, K>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Req) -> Self::Future {
        let remote = self.kind.parent(&request);
        let kind = &self.kind;
        let (pending, current) = begin(&self.tracer, remote, |context, recording| {
            kind.on_recorded_request(&mut request, context, recording)
        });
        // The context is current while the inner service's `call` runs (it may call clients
        // before returning its future) and around every poll of that future.
        let mut current = Some(current);
        let inner = context::enter(&mut current, || self.inner.call(request));
        ResponseFuture::new(inner, current, self.kind.clone(), pending)
    }
}
