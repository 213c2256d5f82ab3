//! Real OTLP receivers built from the official `opentelemetry-proto` definitions: gRPC
//! through tonic and HTTP/protobuf through axum, recording every span they get. Shared by the
//! middleware's, the demo's and the facade's tests (feature `otlp`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::routing::post;
use http::HeaderMap;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;

/// Every span a receiver got, with the resource attributes of its batch.
#[derive(Clone, Default)]
pub struct Received {
    /// The spans, in arrival order.
    pub spans: Arc<Mutex<Vec<Span>>>,
    /// Export requests received.
    pub requests: Arc<Mutex<usize>>,
    /// The `service.name` of each batch, as the attribute's debug text.
    pub service_names: Arc<Mutex<Vec<String>>>,
    /// Every resource attribute of every batch: its key, and its value's debug text.
    pub resource_attributes: Arc<Mutex<Vec<(String, String)>>>,
}

impl Received {
    fn take(&self, request: ExportTraceServiceRequest) {
        *self.requests.lock().unwrap() += 1;
        for resource in request.resource_spans {
            if let Some(r) = &resource.resource {
                for kv in &r.attributes {
                    self.resource_attributes
                        .lock()
                        .unwrap()
                        .push((kv.key.clone(), format!("{:?}", kv.value)));
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

    /// The spans so far.
    pub fn spans(&self) -> Vec<Span> {
        self.spans.lock().unwrap().clone()
    }

    /// The spans once there are `n`, or when `within` has passed.
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

/// Lower-case hex of an id.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
