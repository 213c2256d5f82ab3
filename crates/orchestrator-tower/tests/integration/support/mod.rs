//! Shared pieces of the middleware tests: services to wrap, and (from `orchestrator-testkit`)
//! real OTLP receivers built from the official `opentelemetry-proto` definitions.
#![allow(dead_code, unused_imports)]

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::body::Body;
use http::{Request, Response};
use orchestrator_metrics::{Metrics, ModelPrice, PriceTable, Registry, exposition};
// Not every test binary uses every receiver.
pub use orchestrator_testkit::otlp::{Grpc, Received, grpc_receiver, hex, http_receiver};
use orchestrator_tower::{Operation, Sampler, SpanRecord, Tracer};

/// A port that refuses connections (bound, then closed).
pub fn refusing_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A port that accepts connections and never answers.
pub fn silent_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream); // kept open, never read nor written
        }
    });
    addr
}

/// Registry and recorders.
pub fn metrics() -> (Registry, Metrics) {
    let registry = Registry::new();
    let metrics = Metrics::new(&registry);
    (registry, metrics)
}

/// The sum of a counter family's samples matching `keep`.
pub fn sum(registry: &Registry, series: &str, keep: impl Fn(&exposition::Sample) -> bool) -> f64 {
    exposition::parse(&registry.render())
        .expect("valid exposition")
        .sum_where(series, keep)
}

/// A bare service answering `status`.
pub async fn answer(status: u16) -> Result<Response<Body>, Infallible> {
    Ok(Response::builder()
        .status(status)
        .body(Body::from("ok"))
        .unwrap())
}

/// A request to `/v1/chat`, with an optional `traceparent`.
pub fn request(traceparent: Option<&str>) -> Request<Body> {
    let mut builder = Request::post("/v1/chat");
    if let Some(tp) = traceparent {
        builder = builder.header("traceparent", tp);
    }
    builder.body(Body::empty()).unwrap()
}

/// A tracer over a fresh registry pricing with `prices`, sampling with `sampler`.
pub fn priced_tracer(prices: PriceTable, sampler: Sampler) -> (Registry, Tracer) {
    let registry = Registry::new();
    let metrics = Metrics::builder().prices(prices).build(&registry);
    let tracer = Tracer::builder(metrics).sampler(sampler).build().unwrap();
    (registry, tracer)
}

/// Claude Sonnet 4's published prices, as `anthropic`/`claude-sonnet-4` (see
/// orchestrator-metrics' `tests/integration/pricing.rs`): $3 input, $0.30 cache reads, $3.75 cache
/// writes, $15 output per million tokens.
pub fn sonnet_4_prices() -> PriceTable {
    let price = ModelPrice::new(3.0, 0.30, 15.0)
        .unwrap()
        .with_cache_write(3.75)
        .unwrap();
    PriceTable::new().with_price("anthropic", "claude-sonnet-4", price)
}

/// The LLM spans the tracer's store holds.
pub fn llm_spans(tracer: &Tracer) -> Vec<SpanRecord> {
    tracer
        .store()
        .traces()
        .iter()
        .flat_map(|t| t.spans.clone())
        .filter(|s| s.operation == Operation::LlmRequest)
        .collect()
}
