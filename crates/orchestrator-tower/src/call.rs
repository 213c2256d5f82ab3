//! Calls recorded by hand, for clients that are not tower services.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use orchestrator_metrics::{CacheOp, LlmOutcome, TokenUsage};

use crate::classify::{ErrorKind, Outcome};
use crate::context::{self, Current, TraceContext};
use crate::kind::content::ContentPolicy;
use crate::kind::{CacheCall, CallState, DatabaseCall, ExternalCall, GenAiRequest, LlmCallState};
use crate::pending::Pending;
use crate::scope::{InTrace, in_call};
use crate::service::begin;
use crate::tracer::Tracer;

/// A call in progress, recorded by hand, for clients that are not tower services (an LLM
/// SDK, a database driver): the same metrics and the same span as the layer records for the
/// same call.
///
/// ```
/// use orchestrator_metrics::{LlmOutcome, Metrics, Registry, TokenUsage};
/// use orchestrator_tower::Tracer;
///
/// let tracer = Tracer::builder(Metrics::new(&Registry::new())).build()?;
/// let mut call = tracer.llm_call("openai", "gpt-4o-mini");
/// // ... send the request; at the first streamed chunk:
/// call.first_token();
/// // ... at the end of the answer:
/// call.finish(LlmOutcome::Success, Some(TokenUsage::new(512, 128)));
/// # Ok::<(), orchestrator_tower::TracerError>(())
/// ```
///
/// A guard dropped without being finished (the future holding it was cancelled, the SDK
/// call panicked) records the call as cancelled. `finish` takes the guard by value, so a
/// call cannot end twice.
///
/// Made by [`Tracer::llm_call`], [`Tracer::database_call`], [`Tracer::cache_call`] and
/// [`Tracer::external_call`].
#[derive(Debug)]
pub struct CallGuard<C: CallState> {
    // Dropped before `pending`, which records the call: an agent run's shared state is
    // then held by nothing else and goes back to its pool.
    current: Current,
    pub(crate) pending: Pending<C>,
}

/// A call to an LLM provider recorded by hand.
pub type LlmCallGuard = CallGuard<LlmCallState>;
/// A database query recorded by hand.
pub type DatabaseCallGuard = CallGuard<DatabaseCall>;
/// A cache operation recorded by hand.
pub type CacheCallGuard = CallGuard<CacheCall>;
/// A call to an external API recorded by hand.
pub type ExternalCallGuard = CallGuard<ExternalCall>;

impl<C: CallState> CallGuard<C> {
    pub(crate) fn start(tracer: &Tracer, make: impl FnOnce(&TraceContext, bool) -> C) -> Self {
        let (pending, current) = begin(tracer, None, make);
        CallGuard { pending, current }
    }

    /// The call's own context: write it as `traceparent` on the request the SDK sends
    /// ([`propagation::inject`](crate::propagation::inject)), so the provider's spans join
    /// the trace.
    pub fn context(&self) -> &TraceContext {
        &self.current.context
    }

    /// How long the call has been running.
    pub fn elapsed(&self) -> Duration {
        self.pending.elapsed()
    }

    /// Runs `fut` with this call as the current one: calls made inside are its children.
    pub fn instrument<F: Future>(&self, fut: F) -> InTrace<F> {
        in_call(fut, self.current.clone())
    }

    /// Runs `f` with this call as the current one.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut current = Some(self.current.clone());
        context::enter(&mut current, f)
    }

    /// The context the call's children run in.
    pub(crate) fn current(&self) -> &Current {
        &self.current
    }

    /// Whether the call records a span (sampled, or kept for a tail policy).
    pub(crate) fn records(&self) -> bool {
        self.current.recording
    }

    /// Ends the call as failed, for this reason (its `error.type`: `timeout`, `500`...).
    pub fn fail(self, kind: ErrorKind) {
        self.end(Outcome::Failed(kind));
    }

    /// Ends the call with `outcome`.
    pub fn end(self, outcome: Outcome) {
        let CallGuard { current, pending } = self;
        drop(current);
        pending.finish(outcome);
    }
}

impl Tracer {
    /// Starts recording a call to an LLM provider (`gen_ai.provider.name`) for `model`
    /// (`gen_ai.request.model`), as [`TelemetryLayer::llm`](crate::TelemetryLayer::llm)
    /// does for tower clients. The operation is `chat`; see [`LlmCallGuard::operation`].
    pub fn llm_call(
        &self,
        provider: impl Into<Cow<'static, str>>,
        model: impl Into<Cow<'static, str>>,
    ) -> LlmCallGuard {
        let request = GenAiRequest {
            operation: "chat",
            provider: provider.into(),
            model: model.into(),
            prompt: None,
        };
        // The guard's caller gives content explicitly (`record_prompt`); kept only when the
        // tracer has consent and the call records a span.
        let consent = self.records_content();
        CallGuard::start(self, |_, recording| {
            LlmCallState::new(request, (consent && recording).then(ContentPolicy::default))
        })
    }

    /// As [`llm_call`](Self::llm_call), under the enforcing budgets (`Budget::enforce`):
    /// holds the call's worst case (`bound`: its prompt's size, its `max_tokens`) on the
    /// budgets of `tenant` (else the current request's tenant) and the service's, and on
    /// the agent runs it is made in that enforce their spend limit
    /// ([`AgentLimits::enforce_cost`](crate::AgentLimits::enforce_cost)), or refuses it
    /// before it starts, with the budget (or run) that has no room and when to retry.
    /// The hold is released once the call is recorded.
    ///
    /// ```
    /// use orchestrator_metrics::{Budget, BudgetPeriod, Metrics, ModelPrice, Policy, PriceTable, Registry};
    /// use orchestrator_tower::{CallBound, Tracer};
    ///
    /// let prices = PriceTable::new().with_price("openai", "gpt-4o", ModelPrice::new(2.5, 1.25, 10.0)?);
    /// let budget = Budget::new("acme", BudgetPeriod::Day, 0.01)?.enforce(Policy::Reject);
    /// let metrics = Metrics::builder().prices(prices).budget(budget).build(&Registry::new());
    /// let tracer = Tracer::builder(metrics).build()?;
    /// let bound = CallBound { input_bytes: 4_000, max_output_tokens: Some(2_000) }; // ≤ 0.03 USD
    /// let refused = tracer.try_llm_call("openai", "gpt-4o", Some("acme"), bound).unwrap_err();
    /// assert_eq!(refused.retry_after, None, "dearer than the whole budget");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_llm_call(
        &self,
        provider: impl Into<Cow<'static, str>>,
        model: impl Into<Cow<'static, str>>,
        tenant: Option<&str>,
        bound: orchestrator_metrics::CallBound,
    ) -> Result<LlmCallGuard, orchestrator_metrics::BudgetExceeded> {
        let (provider, model) = (provider.into(), model.into());
        let tenant: Option<Arc<str>> = tenant.map(Arc::from).or_else(crate::budget::current_tenant);
        let held = crate::budget::admit_call(self, &provider, &model, tenant.as_deref(), bound)?;
        let mut guard = self.llm_call(provider, model);
        if let Some(tenant) = tenant {
            guard.tenant(tenant);
        }
        guard.pending.call_mut().held = held;
        Ok(guard)
    }

    /// Starts recording a query to the database `system` (`sqlite`, `postgresql`...) with
    /// `operation` (`SELECT`...), as [`TelemetryLayer::database`](crate::TelemetryLayer::database).
    pub fn database_call(
        &self,
        system: impl Into<Arc<str>>,
        operation: &'static str,
    ) -> DatabaseCallGuard {
        let system = system.into();
        CallGuard::start(self, |_, _| DatabaseCall { system, operation })
    }

    /// Starts recording an operation on the cache `name`, as
    /// [`TelemetryLayer::cache`](crate::TelemetryLayer::cache).
    pub fn cache_call(&self, name: impl Into<Arc<str>>, op: CacheOp) -> CacheCallGuard {
        let name = name.into();
        CallGuard::start(self, |_, _| CacheCall {
            name,
            op,
            hit: None,
        })
    }

    /// Starts recording an HTTP call to the external API `target`, as
    /// [`TelemetryLayer::external`](crate::TelemetryLayer::external).
    pub fn external_call(&self, target: impl Into<Arc<str>>, method: Method) -> ExternalCallGuard {
        let target = target.into();
        CallGuard::start(self, |_, _| ExternalCall {
            target,
            method,
            status: None,
        })
    }
}

impl LlmCallGuard {
    /// `gen_ai.operation.name` (default `chat`): `text_completion`, `embeddings`...
    pub fn operation(&mut self, name: &'static str) -> &mut Self {
        self.pending.call_mut().request.operation = name;
        self
    }

    /// Marks the first streamed token now: the call is a streamed one, and its time to
    /// first token is the time since it started. Later calls are ignored.
    pub fn first_token(&mut self) -> &mut Self {
        let elapsed = self.pending.elapsed();
        let call = self.pending.call_mut();
        if call.time_to_first_token.is_none() {
            call.streamed = true;
            call.time_to_first_token = Some(elapsed);
        }
        self
    }

    /// Records the prompt on the span (`gen_ai.input.messages`), redacted by the built-in
    /// hook ([`redact_pii`](crate::redact_pii)) and capped at 16 KiB. Nothing is kept when
    /// the call records no span.
    pub fn record_prompt(&mut self, prompt: &str) -> &mut Self {
        let call = self.pending.call_mut();
        if call.content.is_some() {
            call.request.prompt = Some(prompt.to_owned());
        }
        self
    }

    /// Records the completion on the span (`gen_ai.output.messages`), as
    /// [`record_prompt`](Self::record_prompt).
    pub fn record_completion(&mut self, completion: &str) -> &mut Self {
        let call = self.pending.call_mut();
        if call.content.is_some() {
            call.response.completion = Some(completion.to_owned());
        }
        self
    }

    /// Says the call was recorded around an SDK call that may retry inside it (an SDK
    /// without a hook for its HTTP attempts): its duration may hold several attempts and
    /// their backoff, and its outcome is the last attempt's. The span says so
    /// (`orchestrator.llm.includes_retries`), so a slow call is not read as one slow answer.
    pub fn includes_retries(&mut self) -> &mut Self {
        self.pending.call_mut().includes_retries = true;
        self
    }

    /// A finish reason as the provider wrote it (`stop`, `tool_calls`, `tool_use`): the
    /// span's `gen_ai.response.finish_reasons`. (An answer read through
    /// [`answer`](Self::answer) or [`sdk_answer`](Self::sdk_answer) has its adapter's.)
    pub fn finish_reason(&mut self, reason: &str) -> &mut Self {
        self.pending.call_mut().response.finish_reason(reason);
        self
    }

    /// A tool call the model asked for, with its id when the provider gave one: a
    /// `tool_call` part of the span's `gen_ai.output.messages` (recorded with content
    /// consent), and the output message's finish reason `tool_call`.
    pub fn tool_call(&mut self, id: Option<&str>, name: &str) -> &mut Self {
        self.pending.call_mut().response.tool_call(id, name);
        self
    }

    /// Bills this call's tokens and spend to `tenant`, whatever the request it runs in
    /// named, or outside any request (a background job, a queue consumer).
    pub fn tenant(&mut self, tenant: impl Into<Arc<str>>) -> &mut Self {
        self.pending.call_mut().tenant = Some(tenant.into());
        self
    }

    /// The HTTP status the provider answered with (`http.response.status_code`), as soon as
    /// its headers arrive. A non-2xx status settles the call: dropped without
    /// [`finish`](Self::finish) (an `error_for_status()?` that returns early), it is
    /// recorded as that status's failure (429 `rate_limited`, 408 and 504 `timeout`, other
    /// 4xx `client_error`, 5xx the status), not as cancelled.
    pub fn status(&mut self, status: u16) -> &mut Self {
        let at = self.pending.elapsed();
        self.pending.call_mut().answered(status, at);
        self
    }

    /// The model the provider says answered (`gen_ai.response.model`).
    pub fn response_model(&mut self, model: impl Into<String>) -> &mut Self {
        self.pending.call_mut().response.model = Some(model.into());
        self
    }

    /// Ends the call: its outcome and, when the provider reported it, its token usage
    /// (priced by the metrics' price table).
    pub fn finish(mut self, outcome: LlmOutcome, usage: Option<TokenUsage>) {
        let call = self.pending.call_mut();
        call.response.usage = usage;
        let status = call.status;
        let outcome = match outcome {
            LlmOutcome::Success => Outcome::Completed(status),
            LlmOutcome::RateLimited => Outcome::Failed(ErrorKind::RateLimited),
            LlmOutcome::Timeout => Outcome::Failed(ErrorKind::Timeout),
            LlmOutcome::Cancelled => Outcome::Cancelled,
            LlmOutcome::Error => Outcome::Failed(
                status
                    .and_then(crate::kind::status_failure)
                    .unwrap_or(ErrorKind::Other),
            ),
        };
        self.end(outcome);
    }
}

impl DatabaseCallGuard {
    /// Ends the query as completed.
    pub fn finish(self) {
        self.end(Outcome::Completed(None));
    }
}

impl CacheCallGuard {
    /// Ends the operation: for reads, whether the key was found (`None` for writes).
    pub fn finish(mut self, hit: Option<bool>) {
        self.pending.call_mut().hit = hit;
        self.end(Outcome::Completed(None));
    }
}

impl ExternalCallGuard {
    /// Ends the call with the HTTP status it got (5xx is a failure of the callee).
    pub fn finish(mut self, status: u16) {
        self.pending.call_mut().status = Some(status);
        self.end(Outcome::from_status(status));
    }
}
