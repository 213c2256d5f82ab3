//! A call to an LLM provider, described with the OpenTelemetry GenAI semantic conventions.
//!
//! The layer learns the model and the usage through [`GenAi`], a small trait the user
//! implements for their client: it reads the request, and observes the response body chunk
//! by chunk (streamed answers report usage in their last events). The call ends where its
//! protocol ends it (see [`LlmBody`]): its latency covers the whole answer and the time to
//! first token is measured at the first body chunk. A non-2xx status is the call's outcome
//! from the moment its headers arrive, whether or not the body is read.

mod body;
mod config;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, Request, Response};
use http_body::Body;
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use orchestrator_metrics::{LlmCall, LlmOutcome, Metrics, TokenUsage};

pub use body::LlmBody;
pub(crate) use body::Reading;
pub(crate) use body::{PROVIDER_ERROR, status_failure};
pub use config::Llm;

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
    /// `gen_ai.response.finish_reasons`, as the provider wrote them (`stop`, `tool_calls`,
    /// `tool_use`, `STOP`...).
    pub finish_reasons: Vec<String>,
    /// The tool calls the model asked for: `tool_call` parts of `gen_ai.output.messages`.
    pub tool_calls: Vec<super::ToolCall>,
}

/// How far an answer has got, by its protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// The observer does not follow its protocol's events (the default for an observer of
    /// your own): the call ends with the body, or is cancelled when it is dropped first.
    #[default]
    Unknown,
    /// More of the answer is to come; a body dropped now is a cancelled call, and a stream
    /// that ends now was cut (`incomplete_stream`).
    Open,
    /// The answer is whole, but the protocol may still send its usage (OpenAI's chunk with
    /// a `finish_reason`, before the usage chunk): a body dropped now is the success it
    /// was, and a later usage is still read while the body is.
    Answered,
    /// The protocol's last event arrived (`data: [DONE]`, `message_stop`,
    /// `response.completed`, an error event...): the call ends here, and what follows is
    /// not read.
    Done,
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
    /// How far the answer has got after the chunks seen so far. An observer that does not
    /// follow its protocol says [`Progress::Unknown`] (the default), and its calls end with
    /// the body.
    fn progress(&self) -> Progress {
        Progress::Unknown
    }
    /// The body ended (or was dropped); what it said.
    fn finish(&mut self) -> GenAiResponse;
    /// Whether a value an SDK parsed from an answer (a stream chunk, a whole response, an
    /// error body) has this provider's shape; one that has not is ignored for accounting
    /// and counted once per call (`reason="unrecognised_chunk"`). By default, any object.
    fn recognises(&self, value: &serde_json::Value) -> bool {
        value.is_object()
    }
}

/// Estimates the usage of a call whose provider reported none, from the request (its
/// `prompt` holds the request body the client sent, when known) and the answer's text.
pub type UsageEstimator = Arc<dyn Fn(&GenAiRequest, &str) -> Option<TokenUsage> + Send + Sync>;

/// The adapter between the layer and an LLM client's requests and responses.
pub trait GenAi: Clone + Send + Sync + 'static {
    /// The observer of one response body.
    type Observer: ResponseObserver;
    /// Reads the request (typically from an extension the client set, since the body is
    /// not read by the layer).
    fn request<B>(&self, request: &Request<B>) -> GenAiRequest;
    /// An observer for a response with these status and headers.
    fn observer(&self, status: u16, headers: &HeaderMap) -> Self::Observer;

    /// The JSON body of a request to `path`, rewritten to ask the provider for what the
    /// observer needs (OpenAI-compatible streams: `stream_options.include_usage`), or `None`
    /// to send it as it is (the default). Asked by clients that hold the body
    /// ([`TelemetryMiddleware`](crate::TelemetryMiddleware)) unless told not to.
    fn ask_for_usage(&self, path: &str, body: &[u8]) -> Option<Vec<u8>> {
        let _ = (path, body);
        None
    }
}

/// The state of one LLM call.
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
    /// The outcome the call has if dropped now, and its duration then (see
    /// [`CallState::settled`]).
    pub(crate) settled: Option<(Outcome, Duration)>,
    pub(crate) estimator: Option<UsageEstimator>,
    /// Whether `response.usage` is the estimator's.
    pub(crate) estimated: bool,
    /// A value handed to the answer did not have the provider's shape.
    pub(crate) unrecognised: bool,
    /// Recorded around an SDK call whose retries the recording cannot see.
    pub(crate) includes_retries: bool,
    /// The agent run the call is a step of, and the trace's spend: both get its cost.
    pub(crate) lineage: crate::agent::Lineage,
    /// The cost priced when the call was recorded, as `f64` bits (NaN: none), for the span.
    pub(crate) cost: AtomicU64,
    /// What the enforcing budgets hold for the call: released when the state goes, after
    /// the call was recorded and its cost charged.
    pub(crate) held: Option<crate::budget::Held>,
}

impl std::fmt::Debug for LlmCallState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmCallState")
            .field("request", &self.request)
            .field("status", &self.status)
            .field("streamed", &self.streamed)
            .field("time_to_first_token", &self.time_to_first_token)
            .field("response", &self.response)
            .field("settled", &self.settled)
            .field("estimated", &self.estimated)
            .finish_non_exhaustive()
    }
}

impl LlmCallState {
    /// A call described by `request`, before anything is known of its answer.
    pub(crate) fn new(request: GenAiRequest, content: Option<ContentPolicy>) -> Self {
        LlmCallState {
            request,
            content,
            dropped: AtomicU64::new(0),
            tenant: None,
            status: None,
            streamed: false,
            time_to_first_token: None,
            response: GenAiResponse::default(),
            settled: None,
            estimator: None,
            estimated: false,
            unrecognised: false,
            includes_retries: false,
            lineage: Default::default(),
            cost: AtomicU64::new(f64::NAN.to_bits()),
            held: None,
        }
    }

    /// The provider answered with `status` after `at`: a non-2xx status settles the call's
    /// outcome now, whether or not its body is ever read.
    pub(crate) fn answered(&mut self, status: u16, at: Duration) {
        self.status = Some(status);
        if let Some(kind) = status_failure(status) {
            self.settled = Some((Outcome::Failed(kind), at));
        }
    }

    /// The metrics' outcome: a failed call with a non-2xx status is counted by its status
    /// (a 429 is `rate_limited` whatever `error.type` its body named), so every way of
    /// reading the answer counts it alike.
    fn outcome(&self, ended: &Ended) -> LlmOutcome {
        match (&ended.outcome, self.status.and_then(status_failure)) {
            (Outcome::Failed(_), Some(kind)) => LlmOutcome::from(&Outcome::Failed(kind)),
            (outcome, _) => LlmOutcome::from(outcome),
        }
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
        .with_operation(self.request.operation)
        .with_exemplar(ended.exemplar);
        if let (true, Some(ttft)) = (self.streamed, self.time_to_first_token) {
            call = call.with_time_to_first_token(ttft);
        }
        if let Some(usage) = self.response.usage {
            call = if self.estimated {
                call.with_estimated_usage(usage)
            } else {
                call.with_usage(usage)
            };
        }
        if let Some(reason) = self.response.refused_usage {
            metrics.llm().refuse_usage(reason);
        }
        if self.unrecognised {
            metrics
                .llm()
                .refuse_usage(orchestrator_metrics::RejectReason::UnrecognisedChunk);
        }
        let cost = metrics.llm().record(&call);
        if let (Some(tenant), Some(usage)) = (&self.tenant, &self.response.usage) {
            metrics.tenants().record_llm(tenant, usage, cost);
        }
        let usage = self.response.usage.as_ref();
        if let Some(run) = &self.lineage.agent {
            run.add_llm(usage, cost);
        }
        if let Some(spend) = &self.lineage.spend {
            spend.add_llm(usage, cost);
        }
        if let Some(cost) = cost {
            self.cost.store(cost.to_bits(), Ordering::Relaxed);
        }
    }

    fn inherit(&mut self, lineage: &mut crate::agent::Lineage) {
        if let Some(run) = &lineage.agent {
            run.step();
        }
        self.lineage.clone_from(lineage);
    }

    fn inherit_tenant(&mut self, tenant: Option<&std::sync::Arc<str>>) {
        self.tenant = tenant.cloned();
    }

    fn settled(&self) -> Option<(Outcome, Duration)> {
        self.settled
    }

    fn ending(&mut self, outcome: &Outcome) {
        let unreported = matches!(outcome, Outcome::Completed(_))
            && self.response.usage.is_none()
            && self.response.refused_usage.is_none();
        if let (true, Some(estimate)) = (unreported, &self.estimator) {
            let text = self.response.completion.as_deref().unwrap_or_default();
            // A panicking estimator costs the estimate, never the call's record.
            let usage = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                estimate(&self.request, text)
            }));
            if let Ok(Some(usage)) = usage {
                self.response.usage = Some(usage);
                self.estimated = true;
            }
        }
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
            // Parts of the input count, named as the GenAI conventions name them; absent
            // when the provider reported none.
            for (name, n) in [
                ("gen_ai.usage.cache_read.input_tokens", usage.cached_input),
                (
                    "gen_ai.usage.cache_creation.input_tokens",
                    usage.cache_write_input,
                ),
            ] {
                if n > 0 {
                    attributes.push(KeyValue::new(name, tokens(n)));
                }
            }
            if self.estimated {
                attributes.push(KeyValue::new("gen_ai.usage.estimated", true));
            }
        }
        // The cost as semantic-conventions-genai PR 443 proposes it (not yet a convention):
        // on the inference span only, computed here from the price table.
        let cost = f64::from_bits(self.cost.load(Ordering::Relaxed));
        if !cost.is_nan() {
            attributes.push(KeyValue::new("gen_ai.usage.cost.amount", cost));
            attributes.push(KeyValue::new("gen_ai.usage.cost.currency", "USD"));
            attributes.push(KeyValue::new("gen_ai.usage.cost.source", "local"));
        }
        if self.includes_retries {
            attributes.push(KeyValue::new("orchestrator.llm.includes_retries", true));
        }
        if !self.response.finish_reasons.is_empty() {
            let reasons = self.response.finish_reasons.iter().cloned().map(Into::into);
            attributes.push(KeyValue::new(
                "gen_ai.response.finish_reasons",
                opentelemetry::Value::Array(opentelemetry::Array::String(reasons.collect())),
            ));
        }
        outcome_attributes(self.status, ended, attributes);
        if let Some(content) = &self.content {
            let finish_reason = if matches!(ended.outcome, Outcome::Completed(_)) {
                self.response.message_finish_reason()
            } else {
                "error"
            };
            let calls = &self.response.tool_calls[..];
            // A step that only asked for tools has no text, but its message has their calls.
            let output = self
                .response
                .completion
                .as_deref()
                .or((!calls.is_empty()).then_some(""));
            let texts = [
                (
                    "gen_ai.input.messages",
                    "user",
                    r.prompt.as_deref(),
                    None,
                    &[][..],
                ),
                (
                    "gen_ai.output.messages",
                    "assistant",
                    output,
                    Some(finish_reason),
                    calls,
                ),
            ];
            for (key, role, text, reason, calls) in texts {
                let Some(text) = text else { continue };
                match content.messages(role, text, reason, calls) {
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

    fn for_tracer(mut self, tracer: &crate::Tracer) -> Self {
        self.record_content = self.record_content.or(Some(tracer.records_content()));
        self
    }
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
        let capture = self.record_content == Some(true) && recording;
        if !capture && self.estimator.is_none() {
            // Dropped before the adapter copies the request: an unrecorded call never copies
            // its prompt (unless the estimator needs it).
            if let Some(info) = request.extensions_mut().get_mut::<GenAiRequest>() {
                info.prompt = None;
            }
        }
        let mut info = self.adapter.request(request);
        if !capture && self.estimator.is_none() {
            info.prompt = None;
        }
        let mut call = LlmCallState::new(info, capture.then(|| self.content.clone()));
        call.estimator = self.estimator.clone();
        // Admitted by the budgets in front (the reqwest middleware, `BudgetLayer`).
        call.held = request.extensions_mut().remove::<crate::budget::Held>();
        call
    }
}

impl<A: GenAi, B: Body> OnResponse<Response<B>> for Llm<A> {
    type Output = Response<LlmBody<B, A::Observer>>;

    fn on_response(&self, response: Response<B>, pending: Pending<LlmCallState>) -> Self::Output {
        let status = response.status().as_u16();
        let mut reading = Reading::start(&self.adapter, pending, status, response.headers());
        if response.body().is_end_stream() {
            reading.ended();
        }
        response.map(|inner| LlmBody { inner, reading })
    }
}

#[cfg(test)]
mod tests;
