//! What the middleware benches share: the bare service, one request driven through a
//! service, and the tower-http + tracing-opentelemetry peer.
#![allow(dead_code)] // each bench uses a part

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::hint::black_box;

use bytes::Bytes;
use futures_util::FutureExt as _;
use http::{Request, Response};
use http_body_util::Empty;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter};
use orchestrator_telemetry::orchestrator_tower::{Sampler, Tracer};
use orchestrator_telemetry::{Metrics, Registry};
use tower::{Service, service_fn};
use tracing_subscriber::layer::SubscriberExt as _;

pub type Body = Empty<Bytes>;

/// A service answering at once.
pub fn bare() -> impl Service<
    Request<Body>,
    Response = Response<Body>,
    Error = Infallible,
    Future = Ready<Result<Response<Body>, Infallible>>,
> + Clone {
    service_fn(|_: Request<Body>| ready(Ok(Response::new(Empty::new()))))
}

/// One request through `service`, polled to completion (every service here is ready at
/// once, so no executor is involved).
pub fn once<S, B>(service: &mut S)
where
    S: Service<Request<Body>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
{
    let mut request = Request::new(Empty::new());
    *request.method_mut() = http::Method::POST;
    let response = service
        .call(black_box(request))
        .now_or_never()
        .expect("ready")
        .expect("ok");
    black_box(response);
}

/// A tracer recording into a registry of its own, with no export.
pub fn tracer(sampler: Sampler) -> Tracer {
    let registry = Registry::new();
    Tracer::builder(Metrics::new(&registry))
        .sampler(sampler)
        .build()
        .expect("tracer")
}

/// A tracer whose calls are OpenTelemetry's current context while they run.
#[allow(dead_code)] // the middleware bench only
pub fn sharing_tracer(sampler: Sampler) -> Tracer {
    let registry = Registry::new();
    Tracer::builder(Metrics::new(&registry))
        .sampler(sampler)
        .opentelemetry_context(true)
        .build()
        .expect("tracer")
}

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        drop(batch);
        ready(Ok(()))
    }
}

/// The do-it-yourself peer: a `tracing-opentelemetry` layer whose SDK tracer samples
/// `ratio` (parent-based trace-id ratio), spans batched to an exporter that discards them.
pub fn otel_dispatch(ratio: f64) -> (tracing::Dispatch, SdkTracerProvider) {
    use opentelemetry_sdk::trace::Sampler as SdkSampler;
    let provider = SdkTracerProvider::builder()
        .with_sampler(SdkSampler::ParentBased(Box::new(
            SdkSampler::TraceIdRatioBased(ratio),
        )))
        .with_span_processor(BatchSpanProcessor::builder(Discard).build())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
    (tracing::Dispatch::new(subscriber), provider)
}
