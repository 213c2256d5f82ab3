//! `reqwest` clients, recorded like the layer's tower clients (feature `reqwest`).
//!
//! [`TracedClient`] wraps a `reqwest::Client`: every request goes through
//! [`TelemetryLayer`](crate::TelemetryLayer) of the LLM or external kind, so it gets the
//! same metrics, the same span and a `traceparent` header; streamed answers are observed
//! chunk by chunk as the caller reads them (`bytes_stream()`, `chunk()`, `json()`), and the
//! call ends at the last one.
//!
//! ```no_run
//! use orchestrator_metrics::{Metrics, Registry};
//! use orchestrator_tower::{OpenAiCompatible, TracedClient, Tracer};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let tracer = Tracer::builder(Metrics::new(&Registry::new())).build()?;
//! let openai = TracedClient::llm(&tracer, reqwest::Client::new(), "openai", OpenAiCompatible);
//! let request = reqwest::Client::new()
//!     .post("http://127.0.0.1:8080/v1/chat/completions")
//!     .header("content-type", "application/json")
//!     .body(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}"#)
//!     .build()?;
//! let answer = openai.execute(request).await?.text().await?;
//! # drop(answer);
//! # Ok(())
//! # }
//! ```
//!
//! The model is read from the request's [`GenAiRequest`] extension when the caller set one
//! (through `http::Request` and `reqwest::Request::try_from`), else from the `"model"` field
//! of a JSON body held in memory; the provider is the one the client was made for.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::reqwest::{Body, Client, Error, Request, Response, ResponseBuilderExt as _};
use tower::{Layer as _, Service, ServiceExt as _};

use crate::kind::{External, GenAi, GenAiRequest, Llm};
use crate::layer::TelemetryLayer;
use crate::service::TelemetryService;
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
            let url = response.url().clone();
            let (mut parts, body) = http::Response::from(response).into_parts();
            // Keep the URL, which `reqwest::Response::url` reads back.
            if let Ok(marker) = http::Response::builder().url(url).body(()) {
                parts.extensions.extend(marker.into_parts().0.extensions);
            }
            Ok(http::Response::from_parts(parts, body))
        })
    }
}

/// A `reqwest::Client` whose calls are recorded; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct TracedClient<K> {
    service: TelemetryService<ReqwestService, K>,
    provider: Cow<'static, str>,
}

impl<A> TracedClient<Llm<A>>
where
    A: GenAi,
    A::Observer: Sync,
{
    /// Calls to the LLM provider `provider` (`gen_ai.provider.name`: `openai`,
    /// `anthropic`...) through `client`, read by `adapter`.
    pub fn llm(
        tracer: &Tracer,
        client: Client,
        provider: impl Into<Cow<'static, str>>,
        adapter: A,
    ) -> Self {
        TracedClient {
            service: TelemetryLayer::llm(tracer, adapter).layer(ReqwestService::new(client)),
            provider: provider.into(),
        }
    }

    /// Sends `request` and records it as an LLM call. The response is the provider's, its
    /// body observed as it is read.
    pub async fn execute(&self, request: Request) -> Result<Response, Error> {
        let mut request = http::Request::<Body>::try_from(request)?;
        if request.extensions().get::<GenAiRequest>().is_none() {
            let model = request
                .body()
                .as_bytes()
                .and_then(|b| serde_json::from_slice::<ModelField>(b).ok())
                .map_or(Cow::Borrowed("_OTHER"), |m| Cow::Owned(m.model));
            request.extensions_mut().insert(GenAiRequest {
                operation: "chat",
                provider: self.provider.clone(),
                model,
                prompt: None,
            });
        }
        let response = self.service.clone().oneshot(request).await?;
        Ok(Response::from(response.map(Body::wrap)))
    }
}

#[derive(serde::Deserialize)]
struct ModelField {
    model: String,
}

impl TracedClient<External> {
    /// Calls to the external API `target` through `client`.
    pub fn external(tracer: &Tracer, client: Client, target: &str) -> Self {
        TracedClient {
            service: TelemetryLayer::external(tracer, target).layer(ReqwestService::new(client)),
            provider: Cow::Owned(target.to_owned()),
        }
    }

    /// Sends `request` and records it as an external call.
    pub async fn execute(&self, request: Request) -> Result<Response, Error> {
        let request = http::Request::<Body>::try_from(request)?;
        let response = self.service.clone().oneshot(request).await?;
        Ok(Response::from(response))
    }
}
