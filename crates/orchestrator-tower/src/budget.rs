//! Enforcing budgets on the way out: a call's worst case is held before it is sent, or the
//! call is refused and never sent (see `orchestrator_metrics::LlmMetrics::reserve`).
//!
//! The hold travels to the call's state as a request extension and is released when the
//! call has been recorded (its real cost charged). Three ways in: the reqwest middleware
//! (which reads the body), [`BudgetLayer`] in front of [`TelemetryLayer::llm`]
//! (crate::TelemetryLayer::llm) for tower clients, and
//! [`Tracer::try_llm_call`](crate::Tracer::try_llm_call) for the manual guard.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Request;
use orchestrator_metrics::{BudgetExceeded, CallBound, Reservation};
use tower::{Layer, Service};

use crate::kind::GenAiRequest;
use crate::tracer::Tracer;

/// What an admitted call holds: on the enforcing budgets, and on the agent runs it is made
/// in that enforce their spend limit. Released when dropped, with the call's state.
#[derive(Debug)]
pub(crate) struct Holds {
    _budgets: Option<Reservation>,
    _runs: Option<crate::agent::RunHold>,
}

/// The holds of an admitted call, carried in its request's extensions to its state.
pub(crate) type Held = Arc<Holds>;

/// The tenant the current call (or request) is billed to, if any.
pub(crate) fn current_tenant() -> Option<Arc<str>> {
    crate::context::current_full().and_then(|c| c.tenant)
}

/// The bound of a JSON request body: its length, and the output cap it names
/// (`max_tokens`, `max_completion_tokens`, `max_output_tokens`, or Gemini's
/// `generationConfig.maxOutputTokens`). A cap that is not a whole number is no cap.
pub fn bound_of_body(body: &[u8]) -> CallBound {
    #[derive(serde::Deserialize, Default)]
    struct Caps {
        max_tokens: Option<serde_json::Value>,
        max_completion_tokens: Option<serde_json::Value>,
        max_output_tokens: Option<serde_json::Value>,
        #[serde(rename = "generationConfig")]
        generation_config: Option<GenerationConfig>,
    }
    #[derive(serde::Deserialize, Default)]
    struct GenerationConfig {
        #[serde(rename = "maxOutputTokens")]
        max_output_tokens: Option<serde_json::Value>,
    }
    let caps: Caps = serde_json::from_slice(body).unwrap_or_default();
    let max_output_tokens = [
        caps.max_completion_tokens,
        caps.max_tokens,
        caps.max_output_tokens,
        caps.generation_config.and_then(|g| g.max_output_tokens),
    ]
    .into_iter()
    .flatten()
    .find_map(|v| v.as_u64());
    CallBound {
        input_bytes: body.len() as u64,
        max_output_tokens,
    }
}

/// Whether anything refuses calls (a budget, an agent's spend limit): when nothing does,
/// the ways in skip reading the request for its bound, and admission is nothing.
pub(crate) fn enforcing(tracer: &Tracer) -> bool {
    tracer.metrics().llm().enforces_budgets() || tracer.enforces_agent_cost()
}

/// Admits a call described by `info` under the tracer's enforcing budgets and the enforced
/// spend limits of the agent runs it is made in.
pub(crate) fn admit(
    tracer: &Tracer,
    info: &GenAiRequest,
    bound: CallBound,
) -> Result<Option<Held>, BudgetExceeded> {
    let tenant = current_tenant();
    admit_call(
        tracer,
        &info.provider,
        &info.model,
        tenant.as_deref(),
        bound,
    )
}

/// As [`admit`], for a call of `provider`/`model` billed to `tenant`.
pub(crate) fn admit_call(
    tracer: &Tracer,
    provider: &str,
    model: &str,
    tenant: Option<&str>,
    bound: CallBound,
) -> Result<Option<Held>, BudgetExceeded> {
    let llm = tracer.metrics().llm();
    let budgets = llm.reserve(provider, model, tenant, bound)?;
    let run = tracer
        .enforces_agent_cost()
        .then(|| crate::context::current_full().and_then(|c| c.lineage.agent))
        .flatten();
    let runs = match run {
        Some(run) => run
            .hold(llm.worst_cost(provider, model, bound))
            .inspect_err(|_| llm.record_refusal(provider, model))?,
        None => None,
    };
    Ok((budgets.is_some() || runs.is_some()).then(|| {
        Arc::new(Holds {
            _budgets: budgets,
            _runs: runs,
        })
    }))
}

/// Enforces the budgets on a tower LLM client: put it in front of
/// [`TelemetryLayer::llm`](crate::TelemetryLayer::llm). Each request is admitted before it is
/// sent, from its [`GenAiRequest`] extension (the provider and model) and its [`CallBound`]
/// extension (set it from the body you send: [`bound_of_body`]); without one, the body's
/// exact size hint and the default output cap. A refused call answers
/// `Err(BudgetExceeded)` (boxed: the service's error is `tower::BoxError`), and nothing is
/// sent.
///
/// A request without a `GenAiRequest` extension is passed on unchecked: the budgets price
/// a provider and a model.
#[derive(Debug, Clone)]
pub struct BudgetLayer {
    tracer: Tracer,
}

impl BudgetLayer {
    /// Enforces `tracer`'s budgets.
    pub fn new(tracer: &Tracer) -> Self {
        BudgetLayer {
            tracer: tracer.clone(),
        }
    }
}

impl<S> Layer<S> for BudgetLayer {
    type Service = BudgetService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BudgetService {
            inner,
            tracer: self.tracer.clone(),
        }
    }
}

/// The service of [`BudgetLayer`].
#[derive(Debug, Clone)]
pub struct BudgetService<S> {
    inner: S,
    tracer: Tracer,
}

type Boxed<T> = Pin<Box<dyn Future<Output = Result<T, tower::BoxError>> + Send>>;

impl<S, B> Service<Request<B>> for BudgetService<S>
where
    S: Service<Request<B>>,
    S::Error: Into<tower::BoxError>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    B: http_body::Body,
{
    type Response = S::Response;
    type Error = tower::BoxError;
    type Future = Boxed<S::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let info = enforcing(&self.tracer)
            .then(|| request.extensions().get::<GenAiRequest>())
            .flatten();
        if let Some(info) = info {
            let bound = request
                .extensions()
                .get::<CallBound>()
                .copied()
                .unwrap_or_else(|| CallBound {
                    input_bytes: request.body().size_hint().exact().unwrap_or(0),
                    max_output_tokens: None,
                });
            match admit(&self.tracer, info, bound) {
                Err(refused) => return Box::pin(std::future::ready(Err(refused.into()))),
                Ok(Some(held)) => {
                    request.extensions_mut().insert(held);
                }
                Ok(None) => {}
            }
        }
        let future = self.inner.call(request);
        Box::pin(async move { future.await.map_err(Into::into) })
    }
}
