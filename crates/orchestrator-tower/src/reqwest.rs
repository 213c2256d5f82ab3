//! `reqwest` clients, recorded like the layer's tower clients (feature `reqwest`).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::reqwest::{Body, Client, Error, Request, Response, ResponseBuilderExt as _};
use reqwest_middleware::{Middleware, Next};
use tower::Service;

use crate::classify::{ErrorKind, Outcome};
use crate::kind::{
    External, ExternalCall, GenAi, GenAiRequest, Kind as _, Llm, LlmCallState, OnRequest,
    OnResponse,
};
use crate::pending::Pending;
use crate::scope::in_call;
use crate::service::begin;
use crate::tracer::Tracer;

/// A `reqwest::Client` as a tower service of `http` requests, so that the layer can wrap
/// it: the bodies stay `reqwest::Body`, streamed as they come.
#[derive(Debug, Clone)]
pub struct ReqwestService {
    client: Client,
}

impl ReqwestService {
    /// The service over `client`.
    pub fn new(client: Client) -> Self {
        ReqwestService { client }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Service<http::Request<Body>> for ReqwestService {
    type Response = http::Response<Body>;
    type Error = Error;
    type Future = BoxFuture<Result<http::Response<Body>, Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let client = self.client.clone();
        Box::pin(async move {
            let response = client.execute(Request::try_from(request)?).await?;
            Ok(into_http(response))
        })
    }
}

/// Converts reqwest's response to `http`'s, keeping its URL (which
/// `reqwest::Response::url` reads back after the conversion the other way).
fn into_http(response: Response) -> http::Response<Body> {
    let url = response.url().clone();
    let (mut parts, body) = http::Response::from(response).into_parts();
    if let Ok(marker) = http::Response::builder().url(url).body(()) {
        parts.extensions.extend(marker.into_parts().0.extensions);
    }
    http::Response::from_parts(parts, body)
}

/// A [`reqwest_middleware::Middleware`] that records each request as a call of kind `K`:
/// `reqwest` clients, recorded like the layer's tower clients (feature `reqwest`).
///
/// [`TelemetryMiddleware`] is a [`reqwest_middleware`] middleware: every request of a
/// `reqwest_middleware::ClientWithMiddleware` is recorded as an LLM or external call, with the
/// same metrics and the same span as [`TelemetryLayer`](crate::TelemetryLayer), and gets a
/// `traceparent` header. Streamed answers are observed chunk by chunk as the caller reads
/// them (`bytes_stream()`, `chunk()`, `json()`), and the call ends at the last one.
///
/// ```no_run
/// use orchestrator_metrics::{Metrics, Registry};
/// use orchestrator_tower::{OpenAiCompatible, TelemetryMiddleware, Tracer};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let tracer = Tracer::builder(Metrics::new(&Registry::new())).build()?;
/// let openai = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(TelemetryMiddleware::llm(&tracer, "openai", OpenAiCompatible))
///     .build();
/// let answer = openai
///     .post("http://127.0.0.1:8080/v1/chat/completions")
///     .header("content-type", "application/json")
///     .body(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}"#)
///     .send()
///     .await?
///     .text()
///     .await?;
/// # drop(answer);
/// # Ok(())
/// # }
/// ```
///
/// The model is read from the request's [`GenAiRequest`] extension when the caller set one
/// (through `http::Request` and `reqwest::Request::try_from`), else from the `"model"` field
/// of a JSON body held in memory; the provider is the one the middleware was made for.
///
/// [`ReqwestService`] is the same client as a plain tower service of `http` requests, for
/// stacks built with `tower::ServiceBuilder`.
#[derive(Debug, Clone)]
pub struct TelemetryMiddleware<K> {
    kind: K,
    tracer: Tracer,
    provider: Cow<'static, str>,
    ask_for_usage: bool,
}

impl<A: GenAi> TelemetryMiddleware<Llm<A>> {
    /// Calls to the LLM provider `provider` (`gen_ai.provider.name`: `openai`,
    /// `anthropic`...), read by `adapter`.
    pub fn llm(tracer: &Tracer, provider: impl Into<Cow<'static, str>>, adapter: A) -> Self {
        Self::with(tracer, provider, Llm::new(adapter))
    }

    /// Calls to `provider` through `kind`, an [`Llm`] configured beyond its adapter
    /// ([`Llm::estimate_usage`], [`Llm::record_content`]...).
    pub fn with(tracer: &Tracer, provider: impl Into<Cow<'static, str>>, kind: Llm<A>) -> Self {
        TelemetryMiddleware {
            kind: kind.for_tracer(tracer),
            tracer: tracer.clone(),
            provider: provider.into(),
            ask_for_usage: true,
        }
    }

    /// Whether a streamed request is rewritten to ask for its usage (on by default): the
    /// OpenAI-compatible adapter adds `"stream_options":{"include_usage":true}` to a JSON
    /// body with `"stream":true` to `…/chat/completions` or `…/completions` that does not
    /// set `include_usage` itself, so the caller receives one more chunk before `[DONE]`
    /// (an empty `choices` and the usage). Off, such a stream reports no usage, and its
    /// call is counted in `orchestrator_llm_unreported_usage_total{usage="missing"}`.
    pub fn inject_stream_usage(mut self, inject: bool) -> Self {
        self.ask_for_usage = inject;
        self
    }
}

impl TelemetryMiddleware<External> {
    /// Calls to the external API `target`.
    pub fn external(tracer: &Tracer, target: &str) -> Self {
        TelemetryMiddleware {
            kind: External::new(target),
            tracer: tracer.clone(),
            provider: Cow::Owned(target.to_owned()),
            ask_for_usage: false,
        }
    }
}

/// Describes the call when the caller set no [`GenAiRequest`]: the operation from the path
/// (`/v1/embeddings` is `embeddings`), the model from the JSON body's `"model"`, else from
/// the path (Gemini, Azure deployments). The body is kept as the prompt when an estimator
/// needs it.
#[expect(
    clippy::ptr_arg,
    reason = "a borrowed `Cow` is cloned without allocating"
)]
fn describe(request: &mut http::Request<Body>, provider: &Cow<'static, str>, keep_body: bool) {
    let prompt = keep_body
        .then(|| request.body().as_bytes())
        .flatten()
        .map(|b| String::from_utf8_lossy(b).into_owned());
    if let Some(info) = request.extensions_mut().get_mut::<GenAiRequest>() {
        if info.prompt.is_none() {
            info.prompt = prompt;
        }
        return;
    }
    let body_model = request
        .body()
        .as_bytes()
        .and_then(|b| serde_json::from_slice::<ModelField>(b).ok())
        .map(|m| m.model);
    let mut info = crate::kind::describe_path(request.uri().path(), provider.clone(), body_model);
    info.prompt = prompt;
    request.extensions_mut().insert(info);
}

/// Rewrites the body as the adapter asks (see [`GenAi::ask_for_usage`]), keeping any
/// `content-length` the caller set true.
fn ask_for_usage<A: GenAi>(adapter: &A, request: &mut http::Request<Body>) {
    let path = request.uri().path();
    let Some(body) = request
        .body()
        .as_bytes()
        .and_then(|b| adapter.ask_for_usage(path, b))
    else {
        return;
    };
    if request.headers().contains_key(http::header::CONTENT_LENGTH) {
        request
            .headers_mut()
            .insert(http::header::CONTENT_LENGTH, body.len().into());
    }
    *request.body_mut() = Body::from(body);
}

#[derive(serde::Deserialize)]
struct ModelField {
    model: String,
}

/// What the middleware needs of a kind: read an `http` request, end the call from the
/// `http` response, and hand back a reqwest response.
trait ReqwestKind: OnRequest<http::Request<Body>> + Sync {
    /// Describes the request and rewrites it if the kind needs to (`ask`: ask the provider
    /// for the usage).
    #[expect(
        clippy::ptr_arg,
        reason = "a borrowed `Cow` is cloned without allocating"
    )]
    fn prepare(
        &self,
        _request: &mut http::Request<Body>,
        _provider: &Cow<'static, str>,
        _ask: bool,
    ) {
    }
    fn end(&self, response: http::Response<Body>, pending: Pending<Self::Call>) -> Response;
    /// Admits the call under the enforcing budgets, putting the hold in the request for
    /// the call's state; LLM calls only.
    fn admit(
        &self,
        _request: &mut http::Request<Body>,
        _tracer: &Tracer,
    ) -> Result<(), orchestrator_metrics::BudgetExceeded> {
        Ok(())
    }
}

impl<A> ReqwestKind for Llm<A>
where
    A: GenAi,
    A::Observer: Sync,
{
    fn prepare(&self, request: &mut http::Request<Body>, provider: &Cow<'static, str>, ask: bool) {
        describe(request, provider, self.estimates());
        if ask {
            ask_for_usage(self.adapter(), request);
        }
    }

    fn end(&self, response: http::Response<Body>, pending: Pending<LlmCallState>) -> Response {
        Response::from(self.on_response(response, pending).map(Body::wrap))
    }

    fn admit(
        &self,
        request: &mut http::Request<Body>,
        tracer: &Tracer,
    ) -> Result<(), orchestrator_metrics::BudgetExceeded> {
        // Nothing refuses calls: the body is not read for a bound no one checks.
        if !crate::budget::enforcing(tracer) {
            return Ok(());
        }
        let Some(info) = request.extensions().get::<GenAiRequest>() else {
            return Ok(());
        };
        let bound = request
            .extensions()
            .get::<orchestrator_metrics::CallBound>()
            .copied()
            .or_else(|| request.body().as_bytes().map(crate::budget::bound_of_body))
            .unwrap_or_default();
        if let Some(held) = crate::budget::admit(tracer, info, bound)? {
            request.extensions_mut().insert(held);
        }
        Ok(())
    }
}

impl ReqwestKind for External {
    fn end(&self, response: http::Response<Body>, pending: Pending<ExternalCall>) -> Response {
        Response::from(self.on_response(response, pending))
    }
}

#[async_trait::async_trait]
impl<K: ReqwestKind> Middleware for TelemetryMiddleware<K> {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let mut request = http::Request::<Body>::try_from(request)?;
        self.kind
            .prepare(&mut request, &self.provider, self.ask_for_usage);
        // Refused by a budget: nothing is sent, and the caller can match the refusal
        // (`Error::Middleware(e)`, `e.downcast_ref::<BudgetExceeded>()`).
        self.kind
            .admit(&mut request, &self.tracer)
            .map_err(reqwest_middleware::Error::middleware)?;
        let (pending, current) = begin(&self.tracer, None, |context, recording| {
            self.kind
                .on_recorded_request(&mut request, context, recording)
        });
        let request = Request::try_from(request)?;
        // The rest of the chain runs inside the call (its spans, if any, are children).
        let sent = in_call(next.run(request, extensions), current).await;
        match sent {
            Ok(response) => Ok(self.kind.end(into_http(response), pending)),
            Err(error) => {
                pending.finish(Outcome::Failed(ErrorKind::Other));
                Err(error)
            }
        }
    }
}
