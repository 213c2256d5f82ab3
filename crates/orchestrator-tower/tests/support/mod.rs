//! Shared pieces of the middleware tests: services to wrap, and real OTLP receivers built
//! from the official `opentelemetry-proto` definitions (gRPC through tonic, HTTP/protobuf).
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::routing::post;
use http::{HeaderMap, Request, Response};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::Span;
use orchestrator_metrics::{Metrics, ModelPrice, PriceTable, Registry, exposition};
use orchestrator_tower::{Sampler, Tracer};
use prost::Message as _;

/// Every span a receiver got, with the resource attributes of its batch.
#[derive(Clone, Default)]
pub struct Received {
    pub spans: Arc<Mutex<Vec<Span>>>,
    pub requests: Arc<Mutex<usize>>,
    pub service_names: Arc<Mutex<Vec<String>>>,
}

impl Received {
    fn take(&self, request: ExportTraceServiceRequest) {
        *self.requests.lock().unwrap() += 1;
        for resource in request.resource_spans {
            if let Some(r) = &resource.resource {
                for kv in &r.attributes {
                    if kv.key == "service.name" {
                        self.service_names
                            .lock()
                            .unwrap()
                            .push(format!("{:?}", kv.value));
                    }
                }
            }
            for scope in resource.scope_spans {
                self.spans.lock().unwrap().extend(scope.spans);
            }
        }
    }

    pub fn spans(&self) -> Vec<Span> {
        self.spans.lock().unwrap().clone()
    }

    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Span> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let spans = self.spans();
            if spans.len() >= n || tokio::time::Instant::now() > deadline {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The trace service of the receivers, recording into a [`Received`].
pub struct Grpc(pub Received);

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.take(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// An OTLP/gRPC receiver on a loopback port.
pub async fn grpc_receiver() -> (SocketAddr, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Received::default();
    let service = TraceServiceServer::new(Grpc(received.clone()));
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .unwrap();
    });
    (addr, received)
}

/// An OTLP/HTTP-protobuf receiver on a loopback port (`POST /v1/traces`).
pub async fn http_receiver() -> (SocketAddr, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Received::default();
    let state = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                assert_eq!(headers["content-type"], "application/x-protobuf");
                let request = ExportTraceServiceRequest::decode(body).expect("a valid OTLP body");
                state.take(request);
                let response = ExportTraceServiceResponse {
                    partial_success: None,
                };
                (
                    [("content-type", "application/x-protobuf")],
                    response.encode_to_vec(),
                )
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, received)
}

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

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A tracer over a fresh registry pricing with `prices`, sampling with `sampler`.
pub fn priced_tracer(prices: PriceTable, sampler: Sampler) -> (Registry, Tracer) {
    let registry = Registry::new();
    let metrics = Metrics::builder().prices(prices).build(&registry);
    let tracer = Tracer::builder(metrics).sampler(sampler).build().unwrap();
    (registry, tracer)
}

/// Claude Sonnet 4's published prices, as `anthropic`/`claude-sonnet-4` (see
/// orchestrator-metrics' `tests/pricing.rs`): $3 input, $0.30 cache reads, $3.75 cache
/// writes, $15 output per million tokens.
pub fn sonnet_4_prices() -> PriceTable {
    let price = ModelPrice::new(3.0, 0.30, 15.0)
        .unwrap()
        .with_cache_write(3.75)
        .unwrap();
    PriceTable::new().with_price("anthropic", "claude-sonnet-4", price)
}
