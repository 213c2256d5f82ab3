//! Real OTLP metrics receivers built from the official `opentelemetry-proto` definitions:
//! gRPC through tonic (plain, or TLS with rustls) and HTTP/protobuf through axum, recording
//! every request, and answering as a test tells them (accept, reject some points, fail,
//! never answer).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::routing::post;
use http::HeaderMap;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use prost::Message as _;

/// How the receiver answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Answer {
    /// Takes everything.
    #[default]
    Accept,
    /// Takes the request, rejecting this many points with this message.
    Reject(i64, String),
    /// Fails (gRPC `UNAVAILABLE`, HTTP 503), recording nothing.
    Fail,
    /// Never answers (the request is recorded as seen, not kept).
    Hang,
}

/// What a receiver got, and how it answers.
#[derive(Clone, Default)]
pub struct MetricsReceived {
    /// The requests taken, in arrival order.
    pub requests: Arc<Mutex<Vec<ExportMetricsServiceRequest>>>,
    /// The headers of every request that arrived (taken or not).
    pub headers: Arc<Mutex<Vec<HeaderMap>>>,
    answer: Arc<Mutex<Answer>>,
}

impl MetricsReceived {
    /// Answers the next requests this way.
    pub fn answer(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    /// The requests taken so far.
    pub fn requests(&self) -> Vec<ExportMetricsServiceRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// The requests once there are `n`, or when `within` has passed.
    pub fn wait_for(&self, n: usize, within: Duration) -> Vec<ExportMetricsServiceRequest> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let requests = self.requests();
            if requests.len() >= n || std::time::Instant::now() > deadline {
                return requests;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Records one request; the answer, or `None` to hang.
    fn take(
        &self,
        headers: HeaderMap,
        request: ExportMetricsServiceRequest,
    ) -> Option<Result<ExportMetricsServiceResponse, ()>> {
        self.headers.lock().unwrap().push(headers);
        let answer = self.answer.lock().unwrap().clone();
        match answer {
            Answer::Accept => {
                self.requests.lock().unwrap().push(request);
                Some(Ok(ExportMetricsServiceResponse {
                    partial_success: None,
                }))
            }
            Answer::Reject(rejected, message) => {
                self.requests.lock().unwrap().push(request);
                Some(Ok(ExportMetricsServiceResponse {
                    partial_success: Some(ExportMetricsPartialSuccess {
                        rejected_data_points: rejected,
                        error_message: message,
                    }),
                }))
            }
            Answer::Fail => Some(Err(())),
            Answer::Hang => None,
        }
    }
}

struct Grpc(MetricsReceived);

#[tonic::async_trait]
impl MetricsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let headers = request.metadata().clone().into_headers();
        match self.0.take(headers, request.into_inner()) {
            Some(Ok(response)) => Ok(tonic::Response::new(response)),
            Some(Err(())) => Err(tonic::Status::unavailable("the test receiver is down")),
            None => std::future::pending().await,
        }
    }
}

/// An OTLP/gRPC metrics receiver on a loopback port; over TLS with `tls` (the server's
/// identity, and the client CA when clients must present a certificate).
pub async fn grpc_metrics_receiver(
    tls: Option<tonic::transport::ServerTlsConfig>,
) -> (SocketAddr, MetricsReceived) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = MetricsReceived::default();
    let service = MetricsServiceServer::new(Grpc(received.clone()));
    tokio::spawn(async move {
        let mut server = tonic::transport::Server::builder();
        if let Some(tls) = tls {
            server = server.tls_config(tls).unwrap();
        }
        server
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .unwrap();
    });
    (addr, received)
}

/// An OTLP/HTTP-protobuf metrics receiver on a loopback port (`POST /v1/metrics`).
pub async fn http_metrics_receiver() -> (SocketAddr, MetricsReceived) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = MetricsReceived::default();
    let state = received.clone();
    let app = axum::Router::new().route(
        "/v1/metrics",
        post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                assert_eq!(headers["content-type"], "application/x-protobuf");
                let request = ExportMetricsServiceRequest::decode(body).expect("a valid OTLP body");
                match state.take(headers, request) {
                    Some(Ok(response)) => (
                        http::StatusCode::OK,
                        [("content-type", "application/x-protobuf")],
                        response.encode_to_vec(),
                    ),
                    Some(Err(())) => (
                        http::StatusCode::SERVICE_UNAVAILABLE,
                        [("content-type", "text/plain")],
                        b"down".to_vec(),
                    ),
                    None => std::future::pending().await,
                }
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, received)
}
