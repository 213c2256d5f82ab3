//! What the layer does for each kind of call: what it reads from the request, what it
//! records when the call ends, and what the span says.
//!
//! | kind | span kind | metrics | span name |
//! |---|---|---|---|
//! | [`Server`] | server | requests, duration, errors | `{method} {route}` |
//! | [`Llm`] | client | LLM requests, latency, tokens, time to first token, cost | `{operation} {model}` |
//! | [`Database`] | client | dependency duration | `{operation} {target}` |
//! | [`Cache`] | client | cache operations (hit/miss), dependency duration | `{operation} {cache}` |
//! | [`External`] | client | dependency duration | `{method} {target}` |

mod answer;
mod anthropic;
mod cache;
pub(crate) mod content;
pub use content::OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT;
pub(crate) use content::consent_from_vars;
mod database;
mod external;
mod gemini;
mod llm;
mod openai;
mod route;
mod server;
mod tools;

use std::borrow::Cow;

use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use orchestrator_metrics::Metrics;

pub use answer::MAX_BUFFERED;
pub use anthropic::{AnthropicMessages, AnthropicObserver};
pub use cache::{Cache, CacheCall, CacheRequest, CacheResponse};
pub use database::{Database, DatabaseCall, DbOperation};
pub use external::{External, ExternalCall};
pub use gemini::{Gemini, GeminiObserver};
pub use llm::{
    GenAi, GenAiRequest, GenAiResponse, Llm, LlmBody, LlmCallState, MAX_CONTENT_BYTES,
    MAX_MODEL_BYTES, Progress, ResponseObserver, UsageEstimator,
};
pub(crate) use llm::{Reading, status_failure};
pub use openai::{OpenAiCompatible, OpenAiObserver};
#[cfg(feature = "reqwest")]
pub(crate) use route::describe as describe_path;
pub use server::{Server, ServerCall, Tenant, UNMATCHED};
pub use tools::ToolCall;

use crate::classify::{Ended, Outcome};
use crate::context::TraceContext;
use crate::pending::Pending;
use crate::span::Operation;

/// Appends `http.response.status_code` (when there was an answer) and `error.type` (when
/// the call failed or was cancelled).
pub(crate) fn outcome_attributes(
    status: Option<u16>,
    ended: &Ended,
    attributes: &mut Vec<KeyValue>,
) {
    if let Some(status) = status {
        attributes.push(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
    }
    if let Some(kind) = ended.outcome.error_type() {
        attributes.push(KeyValue::new("error.type", kind));
    }
}

/// The state of one call, from its request to its end: what it records.
pub trait CallState: Send + 'static {
    /// The category of the call.
    const OPERATION: Operation;
    /// The OpenTelemetry span kind.
    const SPAN_KIND: SpanKind;

    /// Records the call's metrics (every call, sampled or not).
    fn record(&self, ended: &Ended, metrics: &Metrics);

    /// The span name (only asked for sampled calls).
    fn name(&self) -> Cow<'static, str>;

    /// Appends the span's attributes (only asked for sampled calls).
    fn attributes(&self, ended: &Ended, attributes: &mut Vec<KeyValue>);

    /// The tenant this call names (a server reading it from a header or an extension); its
    /// children inherit it.
    fn tenant(&self) -> Option<&std::sync::Arc<str>> {
        None
    }

    /// Told the tenant inherited from the parent call, if any (an LLM call bills it).
    fn inherit_tenant(&mut self, tenant: Option<&std::sync::Arc<str>>) {
        let _ = tenant;
    }

    /// Told what the call it runs in passes on (the agent run it is part of, the trace's
    /// spend), and may change what its own children inherit (an agent run makes itself
    /// theirs). Nothing by default.
    fn inherit(&mut self, lineage: &mut crate::agent::Lineage) {
        let _ = lineage;
    }

    /// Told the tenant its context names once its inner service answered (`set_tenant`
    /// in a handler): a server that knew none counts the request for it.
    fn learn_tenant(&mut self, tenant: &std::sync::Arc<str>) {
        let _ = tenant;
    }

    /// How the call ends if it is dropped before it ended: `None` (the default) is
    /// cancelled. A call that already knows its answer says so, with the duration up to that
    /// point: an LLM answer past its protocol's end (a drop after `data: [DONE]` is the
    /// success it was), a non-2xx status (a failure from the moment its headers arrived,
    /// whether or not its body is read).
    fn settled(&self) -> Option<(Outcome, std::time::Duration)> {
        None
    }

    /// Told how the call ends, just before it is recorded (an LLM call estimates the usage
    /// its provider did not report, when the user gave an estimator).
    fn ending(&mut self, outcome: &Outcome) {
        let _ = outcome;
    }

    /// Attributes left out by the last [`attributes`](Self::attributes) (a redaction hook
    /// that panicked, say), counted in
    /// `orchestrator_telemetry_dropped_total{queue="span_attributes"}`.
    fn dropped_attributes(&self) -> u64 {
        0
    }
}

/// A kind of call the layer can wrap.
pub trait Kind: Clone + Send + Sync + 'static {
    /// The per-call state.
    type Call: CallState;

    /// The kind as a layer or middleware of `tracer` uses it: what its code left undecided
    /// takes the tracer's settings (an LLM kind's content consent). As it is by default.
    fn for_tracer(self, tracer: &crate::Tracer) -> Self {
        let _ = tracer;
        self
    }
}

/// How a kind reads its request.
pub trait OnRequest<Req>: Kind {
    /// The caller's context carried by the request (a server reads `traceparent`).
    fn parent(&self, _request: &Req) -> Option<TraceContext> {
        None
    }

    /// Reads what the call needs from the request, and writes propagation headers into
    /// outgoing ones. `context` is the call's own context (its span id, the decision).
    fn on_request(&self, request: &mut Req, context: &TraceContext) -> Self::Call;

    /// As [`on_request`](Self::on_request), told whether the call records a span (sampled,
    /// or kept for errors): a kind that copies data only a span needs (a recorded prompt)
    /// does it only then. The layer and the reqwest middleware call this one.
    fn on_recorded_request(
        &self,
        request: &mut Req,
        context: &TraceContext,
        recording: bool,
    ) -> Self::Call {
        let _ = recording;
        self.on_request(request, context)
    }
}

/// How a kind ends its call from the response.
pub trait OnResponse<Res>: Kind {
    /// The response handed back to the caller.
    type Output;

    /// Ends the call (or, for streamed bodies, hands `pending` to the body, which ends it
    /// at the last chunk).
    fn on_response(&self, response: Res, pending: Pending<Self::Call>) -> Self::Output;
}
