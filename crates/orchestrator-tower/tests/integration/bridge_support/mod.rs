//! What the bridge tests share: an LLM client over a streamed provider, store-only
//! tracers with the bridge as the thread's subscriber, and a server around a handler.
#![allow(dead_code)] // each test file uses a part

use std::convert::Infallible;

use axum::body::Body;
use http::{Request, Response};
use http_body_util::BodyExt as _;
use orchestrator_tower::{GenAiRequest, OpenAiCompatible, Sampler, TelemetryLayer, Tracer};
use std::borrow::Cow;
use tower::{Layer as _, ServiceExt as _, service_fn};
use tracing_subscriber::prelude::*;

use crate::support::metrics;

/// A streamed OpenAI-style answer.
pub async fn provider(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    let body = "data: {\"model\":\"gpt-test\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n";
    Ok(Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from(body))
        .unwrap())
}

pub type LlmClient = orchestrator_tower::TelemetryService<
    tower::util::ServiceFn<fn(Request<Body>) -> ProviderFuture>,
    orchestrator_tower::Llm<OpenAiCompatible>,
>;
pub type ProviderFuture =
    std::pin::Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

pub fn llm_client(tracer: &Tracer) -> LlmClient {
    let f: fn(Request<Body>) -> ProviderFuture = |r| Box::pin(provider(r));
    TelemetryLayer::llm(tracer, OpenAiCompatible).layer(service_fn(f))
}

pub async fn call_llm(llm: LlmClient) {
    let mut call = Request::post("http://provider/v1/chat/completions")
        .body(Body::empty())
        .unwrap();
    call.extensions_mut().insert(GenAiRequest {
        operation: "chat",
        provider: Cow::Borrowed("openai"),
        model: Cow::Borrowed("gpt-test"),
        prompt: None,
    });
    let response = llm.oneshot(call).await.unwrap();
    let _ = response.into_body().collect().await;
}

pub fn request(traceparent: Option<&str>) -> Request<Body> {
    let mut builder = Request::post("/v1/chat");
    if let Some(tp) = traceparent {
        builder = builder.header("traceparent", tp);
    }
    builder.body(Body::empty()).unwrap()
}

// Multi-threaded: the receiver keeps answering while the test thread drops the tracer,
// whose shutdown flushes the queue synchronously.
/// A store-only tracer, sampling everything, with the bridge as the thread's subscriber.
pub fn local(sampler: Sampler) -> (Tracer, tracing::subscriber::DefaultGuard) {
    let (_, metrics) = metrics();
    let tracer = Tracer::builder(metrics).sampler(sampler).build().unwrap();
    let guard = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(tracer.tracing_layer()),
    );
    (tracer, guard)
}

pub fn server<F, Fut>(
    tracer: &Tracer,
    handler: F,
) -> impl tower::Service<Request<Body>, Response = Response<Body>, Error = Infallible>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    TelemetryLayer::server(tracer).layer(service_fn(move |_: Request<Body>| {
        let handler = handler.clone();
        async move {
            handler().await;
            Ok::<_, Infallible>(Response::new(Body::from("ok")))
        }
    }))
}

pub fn one_trace(tracer: &Tracer) -> Vec<orchestrator_tower::SpanRecord> {
    let traces = tracer.store().traces();
    assert_eq!(traces.len(), 1, "one trace stored");
    traces[0].spans.clone()
}
