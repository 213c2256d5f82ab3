//! OTLP over TLS with certificates generated in the test: the official receivers (tonic
//! with rustls for gRPC; a TLS HTTP server decoding `opentelemetry-proto` for HTTP/protobuf)
//! get the spans when the exporter trusts the test CA, and refuse them otherwise; mutual TLS;
//! headers for API keys; bad TLS variables are errors naming the variables and paths.

use crate::support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use http::Request;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer;
use orchestrator_http::{Secret, TlsFiles};
use orchestrator_testkit::pki::TestPki;
use orchestrator_testkit::server::RecordingServer;
use orchestrator_tower::{
    BatchConfig, ExportConfigError, OtlpConfig, Protocol, Sampler, TelemetryLayer, Tracer,
};
use prost::Message as _;
use support::{Received, answer, metrics, request, sum};
use tonic::transport::{Certificate, Identity, ServerTlsConfig};
use tower::{Layer, ServiceExt, service_fn};

fn tracer(otlp: OtlpConfig) -> (orchestrator_metrics::Registry, Tracer) {
    let (registry, metrics) = metrics();
    let mut otlp = otlp;
    otlp.batch = BatchConfig {
        max_queue_size: 2048,
        scheduled_delay: Duration::from_millis(50),
        max_export_batch_size: 64,
        export_timeout: Duration::from_secs(5),
    };
    otlp.timeout = Some(Duration::from_secs(2));
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_on())
        .service_name("otlp-tls-test")
        .otlp(otlp)
        .build()
        .unwrap();
    (registry, tracer)
}

/// Sends `n` requests through the layer; every one answers 200 whatever the exporter does.
async fn requests(tracer: &Tracer, n: usize) {
    let service = TelemetryLayer::server(tracer).layer(service_fn(|_: Request<Body>| answer(200)));
    for _ in 0..n {
        let response = tokio::time::timeout(
            Duration::from_secs(1),
            service.clone().oneshot(request(None)),
        )
        .await
        .expect("the request path never waits on the exporter")
        .unwrap();
        assert_eq!(response.status(), 200);
    }
}

/// Shuts the tracer down (exporting what is queued) off the runtime's threads.
async fn shutdown(tracer: &Tracer) {
    let tracer = tracer.clone();
    tokio::task::spawn_blocking(move || tracer.shutdown())
        .await
        .unwrap()
        .ok();
}

fn dropped(registry: &orchestrator_metrics::Registry) -> f64 {
    sum(registry, "orchestrator_telemetry_dropped_total", |s| {
        s.label("queue") == Some("spans")
    })
}

/// An OTLP/gRPC receiver over TLS (tonic with rustls), demanding a client certificate when
/// `client_auth`.
async fn grpc_tls_receiver(pki: &TestPki, client_auth: bool) -> (SocketAddr, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Received::default();
    let service = TraceServiceServer::new(support::Grpc(received.clone()));
    let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(
        &pki.server_cert_pem,
        &pki.server_key_pem,
    ));
    if client_auth {
        tls = tls.client_ca_root(Certificate::from_pem(&pki.ca_pem));
    }
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .tls_config(tls)
            .unwrap()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .unwrap();
    });
    (addr, received)
}

/// An OTLP/HTTP receiver over TLS: decodes each body with the official definitions.
fn http_tls_receiver(pki: &TestPki, client_auth: bool) -> RecordingServer {
    RecordingServer::start("127.0.0.1:0", Some(pki.server_config(client_auth)), |r| {
        assert_eq!(r.path, "/v1/traces");
        assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
        ExportTraceServiceRequest::decode(r.body.as_slice()).expect("a valid OTLP body");
        (200, String::new())
    })
}

fn http_spans(server: &RecordingServer) -> usize {
    server
        .requests()
        .iter()
        .map(|r| {
            ExportTraceServiceRequest::decode(r.body.as_slice())
                .unwrap()
                .resource_spans
                .iter()
                .flat_map(|rs| &rs.scope_spans)
                .map(|s| s.spans.len())
                .sum::<usize>()
        })
        .sum()
}

fn ca(pki: &TestPki) -> TlsFiles {
    TlsFiles::new().ca("ca", pki.path("ca.pem"))
}

fn with_client_cert(pki: &TestPki) -> TlsFiles {
    ca(pki)
        .client_cert("cert", pki.path("client.pem"))
        .client_key("key", pki.path("client.key"))
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_over_tls_needs_the_ca_and_never_touches_requests() {
    let pki = TestPki::new();
    let (addr, received) = grpc_tls_receiver(&pki, false).await;
    let url = format!("https://localhost:{}", addr.port());

    let (registry, untrusting) = tracer(OtlpConfig::new(&url, Protocol::Grpc));
    requests(&untrusting, 20).await;
    shutdown(&untrusting).await;
    assert!(
        received.spans().is_empty(),
        "an untrusted server gets nothing"
    );
    assert_eq!(dropped(&registry), 20.0, "every span counted as dropped");

    let otlp = OtlpConfig::new(&url, Protocol::Grpc)
        .with_tls(&ca(&pki))
        .unwrap();
    let (registry, trusting) = tracer(otlp);
    requests(&trusting, 20).await;
    shutdown(&trusting).await;
    assert_eq!(
        received.wait_for(20, Duration::from_secs(5)).await.len(),
        20
    );
    assert_eq!(dropped(&registry), 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn http_protobuf_over_tls_needs_the_ca_and_sends_the_api_key_header() {
    let pki = TestPki::new();
    let server = http_tls_receiver(&pki, false);
    let (registry, untrusting) = tracer(OtlpConfig::new(server.url(), Protocol::HttpProtobuf));
    requests(&untrusting, 20).await;
    shutdown(&untrusting).await;
    assert!(server.requests().is_empty());
    assert_eq!(dropped(&registry), 20.0);

    let otlp = OtlpConfig::new(server.url(), Protocol::HttpProtobuf)
        .with_tls(&ca(&pki))
        .unwrap()
        .header("x-api-key", Secret::new("k3y-for-a-managed-backend"));
    assert!(
        !format!("{otlp:?}").contains("k3y"),
        "header values are secrets in Debug"
    );
    let (registry, trusting) = tracer(otlp);
    requests(&trusting, 20).await;
    shutdown(&trusting).await;
    assert_eq!(http_spans(&server), 20);
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.header("x-api-key") == Some("k3y-for-a-managed-backend"))
    );
    assert_eq!(dropped(&registry), 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn mutual_tls_spans_are_refused_without_the_client_certificate_and_arrive_with_it() {
    let pki = TestPki::new();
    // HTTP/protobuf.
    let server = http_tls_receiver(&pki, true);
    let (registry, anonymous) = tracer(
        OtlpConfig::new(server.url(), Protocol::HttpProtobuf)
            .with_tls(&ca(&pki))
            .unwrap(),
    );
    requests(&anonymous, 10).await;
    shutdown(&anonymous).await;
    assert!(server.requests().is_empty());
    assert!(server.handshake_failures() > 0);
    assert_eq!(dropped(&registry), 10.0);
    let (registry, identified) = tracer(
        OtlpConfig::new(server.url(), Protocol::HttpProtobuf)
            .with_tls(&with_client_cert(&pki))
            .unwrap(),
    );
    requests(&identified, 10).await;
    shutdown(&identified).await;
    assert_eq!(http_spans(&server), 10);
    assert_eq!(dropped(&registry), 0.0);

    // gRPC.
    let (addr, received) = grpc_tls_receiver(&pki, true).await;
    let url = format!("https://127.0.0.1:{}", addr.port());
    let (registry, anonymous) = tracer(
        OtlpConfig::new(&url, Protocol::Grpc)
            .with_tls(&ca(&pki))
            .unwrap(),
    );
    requests(&anonymous, 10).await;
    shutdown(&anonymous).await;
    assert!(received.spans().is_empty());
    assert_eq!(dropped(&registry), 10.0);
    let (registry, identified) = tracer(
        OtlpConfig::new(&url, Protocol::Grpc)
            .with_tls(&with_client_cert(&pki))
            .unwrap(),
    );
    requests(&identified, 10).await;
    shutdown(&identified).await;
    assert_eq!(
        received.wait_for(10, Duration::from_secs(5)).await.len(),
        10
    );
    assert_eq!(dropped(&registry), 0.0);
}

#[test]
fn tls_variables_are_read_and_bad_ones_name_the_variables_and_paths() {
    let pki = TestPki::new();
    let path = |name: &str| pki.path(name).display().to_string();
    let vars = |pairs: Vec<(&'static str, String)>| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        }
    };
    let endpoint = (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "https://collector:4318".to_owned(),
    );

    let good = vars(vec![
        endpoint.clone(),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", path("ca.pem")),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", path("client.pem")),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", path("client.key")),
    ]);
    let config = OtlpConfig::from_vars(&good).unwrap().unwrap();
    assert!(config.tls.ca_pem().is_some() && config.tls.identity_pem().is_some());

    let traces_specific = vars(vec![
        endpoint.clone(),
        ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", path("ca.pem")),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", path("missing.pem")),
    ]);
    assert!(
        OtlpConfig::from_vars(&traces_specific).is_ok(),
        "the _TRACES_ variable wins"
    );

    let missing = vars(vec![
        endpoint.clone(),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", path("missing.pem")),
    ]);
    let err = OtlpConfig::from_vars(&missing).unwrap_err();
    assert!(matches!(err, ExportConfigError::Tls(_)));
    let text = err.to_string();
    assert!(
        text.contains("OTEL_EXPORTER_OTLP_CERTIFICATE") && text.contains("missing.pem"),
        "{text}"
    );

    std::fs::write(
        pki.path("garbage.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64!\n",
    )
    .unwrap();
    let malformed = vars(vec![
        endpoint.clone(),
        ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", path("garbage.pem")),
    ]);
    let text = OtlpConfig::from_vars(&malformed).unwrap_err().to_string();
    assert!(
        text.contains("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE") && text.contains("garbage.pem"),
        "{text}"
    );

    let no_key = vars(vec![
        endpoint.clone(),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", path("client.pem")),
    ]);
    let text = OtlpConfig::from_vars(&no_key).unwrap_err().to_string();
    assert!(
        text.contains("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")
            && text.contains("OTEL_EXPORTER_OTLP_CLIENT_KEY"),
        "{text}"
    );

    let no_cert = vars(vec![
        endpoint,
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", path("client.key")),
    ]);
    let text = OtlpConfig::from_vars(&no_cert).unwrap_err().to_string();
    assert!(
        text.contains("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")
            && text.contains("OTEL_EXPORTER_OTLP_CLIENT_KEY"),
        "{text}"
    );
}
