//! A call to an LLM provider, described with the OpenTelemetry GenAI semantic conventions.
//!
//! The layer learns the model and the usage through [`GenAi`], a small trait the user
//! implements for their client: it reads the request, and observes the response body chunk
//! by chunk (streamed answers report usage in their last events). The call ends at the last
//! chunk: its latency covers the whole answer and the time to first token is measured at the
//! first body chunk.

use std::borrow::Cow;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Buf;
use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame, SizeHint};
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use orchestrator_metrics::{LlmCall, LlmOutcome, Metrics, TokenUsage};
use pin_project::pin_project;

use super::content::ContentPolicy;
use super::{CallState, Kind, OnRequest, OnResponse, outcome_attributes};
use crate::cap::capped;
use crate::classify::{Ended, ErrorKind, Outcome};
use crate::context::TraceContext;
use crate::pending::Pending;
use crate::propagation;
use crate::span::Operation;
use std::sync::atomic::{AtomicU64, Ordering};

/// The most bytes of a prompt or a completion put on a span (`record_content`); longer
/// ones are cut at a character boundary and end in `…`. Spans wait in the keep-errors
/// buffer, so this bounds its memory too.
pub const MAX_CONTENT_BYTES: usize = 16 * 1024;

/// The most bytes of `gen_ai.response.model`, which the provider's answer sets.
pub const MAX_MODEL_BYTES: usize = 256;

/// What an LLM request is, as the adapter reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct GenAiRequest {
    /// `gen_ai.operation.name`: `chat`, `text_completion`, `embeddings`...
    pub operation: &'static str,
    /// `gen_ai.provider.name`: `openai`, `anthropic`...
    pub provider: Cow<'static, str>,
    /// `gen_ai.request.model`.
    pub model: Cow<'static, str>,
    /// The prompt, recorded only when the layer is told to record content.
    pub prompt: Option<String>,
}

/// What an LLM response told, as the adapter's observer saw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenAiResponse {
    /// `gen_ai.response.model`, if the provider named it.
    pub model: Option<String>,
    /// `gen_ai.usage.input_tokens` and `gen_ai.usage.output_tokens`.
    pub usage: Option<TokenUsage>,
    /// A failure the body reported (an error event in a 200 stream), as `error.type`.
    pub error: Option<ErrorKind>,
    /// The completion, recorded only when the layer is told to record content.
    pub completion: Option<String>,
    /// Why a usage the provider reported was refused (a negative, fractional or non-numeric
    /// count): counted, and the call is recorded without usage.
    pub refused_usage: Option<orchestrator_metrics::RejectReason>,
}

/// Watches a response body go by.
pub trait ResponseObserver: Send + 'static {
    /// Asked before the first chunk when the completion is recorded (`record_content` on a
    /// call that records a span): the observer assembles the answer's text, at most `limit`
    /// bytes, into [`GenAiResponse::completion`]. Ignored by default.
    fn capture_output(&mut self, limit: usize) {
        let _ = limit;
    }

    /// One body chunk.
    fn on_chunk(&mut self, chunk: &[u8]);
    /// The body ended; what it said.
    fn finish(&mut self) -> GenAiResponse;
}

/// The adapter between the layer and an LLM client's requests and responses.
pub trait GenAi: Clone + Send + Sync + 'static {
    /// The observer of one response body.
    type Observer: ResponseObserver;
    /// Reads the request (typically from an extension the client set, since the body is
    /// not read by the layer).
    fn request<B>(&self, request: &Request<B>) -> GenAiRequest;
    /// An observer for a response with these status and headers.
    fn observer(&self, status: u16, headers: &HeaderMap) -> Self::Observer;
}

/// Client middleware around an LLM provider's HTTP client.
#[derive(Clone)]
pub struct Llm<A> {
    adapter: A,
    record_content: bool,
    content: ContentPolicy,
}

impl<A: std::fmt::Debug> std::fmt::Debug for Llm<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llm")
            .field("adapter", &self.adapter)
            .field("record_content", &self.record_content)
            .field("content", &self.content)
            .finish()
    }
}

impl<A: GenAi> Llm<A> {
    /// LLM calls read through `adapter`. Prompts and completions are not recorded.
    pub fn new(adapter: A) -> Self {
        Llm {
            adapter,
            record_content: false,
            content: ContentPolicy::default(),
        }
    }

    /// Records prompts and completions on the spans of recorded calls
    /// (`gen_ai.input.messages`, `gen_ai.output.messages`, semantic conventions v1.37:
    /// JSON arrays of messages with text parts; streamed answers are assembled from their
    /// deltas). Off by default: they may hold personal data. When on, the text goes through
    /// the redaction hook (by default [`redact_pii`](crate::redact_pii)) and is capped at
    /// 16 KiB per attribute, marked `…` where cut. Unsampled calls capture nothing.
    pub fn record_content(mut self, record: bool) -> Self {
        self.record_content = record;
        self
    }

    /// Replaces the redaction hook: it gets the captured text and returns what is recorded,
    /// before anything is stored or exported. A hook that panics costs the attribute (it is
    /// dropped and counted in `orchestrator_telemetry_dropped_total{queue="span_attributes"}`),
    /// never the request.
    pub fn redact(
        mut self,
        hook: impl Fn(&str) -> std::borrow::Cow<'_, str> + Send + Sync + 'static,
    ) -> Self {
        self.content.redact = Some(std::sync::Arc::new(hook));
        self
    }

    /// Records content as captured, without redaction (for data known to hold none).
    pub fn without_redaction(mut self) -> Self {
        self.content.redact = None;
        self
    }

    /// The byte cap of each recorded attribute (default [`MAX_CONTENT_BYTES`], 16 KiB).
    pub fn content_limit(mut self, bytes: usize) -> Self {
        self.content.limit = bytes;
        self
    }
}

/// The state of one LLM call.
#[derive(Debug)]
pub struct LlmCallState {
    pub(crate) request: GenAiRequest,
    /// How content is recorded; `None`: not recorded (off, or the call records no span).
    pub(crate) content: Option<ContentPolicy>,
    /// Attributes the last `attributes` left out (a panicking redaction hook).
    pub(crate) dropped: AtomicU64,
    /// The tenant the call is billed to, inherited from the call it runs in.
    pub(crate) tenant: Option<std::sync::Arc<str>>,
    pub(crate) status: Option<u16>,
    pub(crate) streamed: bool,
    pub(crate) time_to_first_token: Option<Duration>,
    pub(crate) response: GenAiResponse,
}

impl LlmCallState {
    fn outcome(&self, ended: &Ended) -> LlmOutcome {
        LlmOutcome::from(&ended.outcome)
    }
}

impl CallState for LlmCallState {
    const OPERATION: Operation = Operation::LlmRequest;
    const SPAN_KIND: SpanKind = SpanKind::Client;

    fn record(&self, ended: &Ended, metrics: &Metrics) {
        let mut call = LlmCall::new(
            &self.request.provider,
            &self.request.model,
            self.outcome(ended),
            ended.duration,
        )
        .with_exemplar(ended.exemplar);
        if let (true, Some(ttft)) = (self.streamed, self.time_to_first_token) {
            call = call.with_time_to_first_token(ttft);
        }
        if let Some(usage) = self.response.usage {
            call = call.with_usage(usage);
        }
        if let Some(reason) = self.response.refused_usage {
            metrics.llm().refuse_usage(reason);
        }
        let cost = metrics.llm().record(&call);
        if let (Some(tenant), Some(usage)) = (&self.tenant, &self.response.usage) {
            metrics.tenants().record_llm(tenant, usage, cost);
        }
    }

    fn inherit_tenant(&mut self, tenant: Option<&std::sync::Arc<str>>) {
        self.tenant = tenant.cloned();
    }

    fn name(&self) -> Cow<'static, str> {
        Cow::Owned(format!("{} {}", self.request.operation, self.request.model))
    }

    fn attributes(&self, ended: &Ended, attributes: &mut Vec<KeyValue>) {
        let r = &self.request;
        attributes.push(KeyValue::new("gen_ai.operation.name", r.operation));
        attributes.push(KeyValue::new("gen_ai.provider.name", r.provider.clone()));
        attributes.push(KeyValue::new("gen_ai.request.model", r.model.clone()));
        if let Some(model) = &self.response.model {
            attributes.push(KeyValue::new(
                "gen_ai.response.model",
                capped(model, MAX_MODEL_BYTES),
            ));
        }
        if let Some(usage) = self.response.usage {
            let tokens = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            attributes.push(KeyValue::new(
                "gen_ai.usage.input_tokens",
                tokens(usage.input),
            ));
            attributes.push(KeyValue::new(
                "gen_ai.usage.output_tokens",
                tokens(usage.output),
            ));
        }
        outcome_attributes(self.status, ended, attributes);
        if let Some(content) = &self.content {
            let finish_reason = if matches!(ended.outcome, Outcome::Completed(_)) {
                "stop"
            } else {
                "error"
            };
            let texts = [
                ("gen_ai.input.messages", "user", r.prompt.as_deref(), None),
                (
                    "gen_ai.output.messages",
                    "assistant",
                    self.response.completion.as_deref(),
                    Some(finish_reason),
                ),
            ];
            for (key, role, text, reason) in texts {
                let Some(text) = text else { continue };
                match content.messages(role, text, reason) {
                    Some(value) => attributes.push(KeyValue::new(key, value)),
                    None => {
                        self.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }

    fn dropped_attributes(&self) -> u64 {
        self.dropped.swap(0, Ordering::Relaxed)
    }
}

impl<A: GenAi> Kind for Llm<A> {
    type Call = LlmCallState;
}

impl<A: GenAi, B> OnRequest<Request<B>> for Llm<A> {
    fn on_request(&self, request: &mut Request<B>, context: &TraceContext) -> LlmCallState {
        self.on_recorded_request(request, context, context.sampled)
    }

    fn on_recorded_request(
        &self,
        request: &mut Request<B>,
        context: &TraceContext,
        recording: bool,
    ) -> LlmCallState {
        propagation::inject(context, request.headers_mut());
        let capture = self.record_content && recording;
        if !capture {
            // Dropped before the adapter copies the request: an unrecorded call never copies
            // its prompt.
            if let Some(info) = request.extensions_mut().get_mut::<GenAiRequest>() {
                info.prompt = None;
            }
        }
        let mut info = self.adapter.request(request);
        if !capture {
            info.prompt = None;
        }
        LlmCallState {
            request: info,
            content: capture.then(|| self.content.clone()),
            dropped: AtomicU64::new(0),
            tenant: None,
            status: None,
            streamed: false,
            time_to_first_token: None,
            response: GenAiResponse::default(),
        }
    }
}

impl<A: GenAi, B: Body> OnResponse<Response<B>> for Llm<A> {
    type Output = Response<LlmBody<B, A::Observer>>;

    fn on_response(
        &self,
        response: Response<B>,
        mut pending: Pending<LlmCallState>,
    ) -> Self::Output {
        let status = response.status().as_u16();
        let streamed = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        let call = pending.call_mut();
        call.status = Some(status);
        call.streamed = streamed;
        let mut observer = self.adapter.observer(status, response.headers());
        if let Some(content) = &call.content {
            observer.capture_output(content.limit.saturating_mul(2));
        }
        let mut pending = Some(pending);
        if response.body().is_end_stream() {
            end(&mut pending, &mut observer, None);
        }
        response.map(|inner| LlmBody {
            inner,
            observer,
            pending,
        })
    }
}

/// A response body that ends its LLM call at its last chunk. Dropped before the end, the
/// call is recorded as cancelled.
#[pin_project]
#[derive(Debug)]
pub struct LlmBody<B, O: ResponseObserver> {
    #[pin]
    inner: B,
    observer: O,
    pending: Option<Pending<LlmCallState>>,
}

fn end<O: ResponseObserver>(
    pending: &mut Option<Pending<LlmCallState>>,
    observer: &mut O,
    failure: Option<ErrorKind>,
) {
    let Some(mut pending) = pending.take() else {
        return;
    };
    let response = observer.finish();
    let call = pending.call_mut();
    let status = call.status.unwrap_or(200);
    let outcome = match (failure, response.error, status) {
        (Some(kind), _, _) | (None, Some(kind), _) => Outcome::Failed(kind),
        (None, None, 429) => Outcome::Failed(ErrorKind::RateLimited),
        (None, None, 500..) => Outcome::Failed(ErrorKind::Status(status)),
        (None, None, 400..) => Outcome::Failed(ErrorKind::ClientError),
        (None, None, _) => Outcome::Completed(Some(status)),
    };
    call.response = response;
    pending.finish(outcome);
}

impl<B: Body, O: ResponseObserver> Body for LlmBody<B, O> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref().filter(|d| d.has_remaining()) {
                    // Only the first chunk reads the clock.
                    if let Some(pending) = this.pending.as_mut()
                        && pending.call_mut().time_to_first_token.is_none()
                    {
                        let elapsed = pending.elapsed();
                        pending.call_mut().time_to_first_token = Some(elapsed);
                    }
                    this.observer.on_chunk(data.chunk());
                }
            }
            Some(Err(_)) => end(
                this.pending,
                this.observer,
                Some(ErrorKind::Named("transport")),
            ),
            None => end(this.pending, this.observer, None),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests;
