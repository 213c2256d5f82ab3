//! The facade's guard flushes the span queue: on `shutdown()` and when dropped, every queued
//! span reaches a real OTLP/gRPC receiver, even when the scheduled delay has not passed. The
//! traces document reports the export's health.

use orchestrator_testkit::otlp;

use std::time::Duration;

use axum::body::Body;
use orchestrator_telemetry::orchestrator_api::ExportDoc;
use orchestrator_telemetry::orchestrator_tower::{
    BatchConfig, OtlpConfig, Protocol, Sampler, TelemetryLayer,
};
use orchestrator_telemetry::{Telemetry, TelemetryGuard};
use tower::{Layer as _, ServiceExt as _, service_fn};

/// Telemetry exporting every span to `endpoint` over gRPC, batches held for an hour (only a
/// flush or shutdown sends them), each export given `export_timeout`.
fn exporting(endpoint: String, export_timeout: Duration) -> TelemetryGuard {
    let mut config = OtlpConfig::new(endpoint, Protocol::Grpc);
    config.batch = BatchConfig {
        scheduled_delay: Duration::from_secs(3600),
        export_timeout,
        ..BatchConfig::default()
    };
    Telemetry::builder()
        .without_listener()
        .without_process_collector()
        .without_monitor()
        .ignore_otel_env()
        .tracing(move |t| {
            t.sampler(Sampler::always_on())
                .service_name("guard-test")
                .otlp(config)
        })
        .build()
        .unwrap()
}

/// Sends `n` requests through a server layer of `telemetry`'s tracer.
async fn requests(telemetry: &TelemetryGuard, n: usize) {
    let service = TelemetryLayer::server(telemetry.tracer()).layer(service_fn(
        |_: http::Request<Body>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(Body::from("ok")))
        },
    ));
    for _ in 0..n {
        let request = http::Request::post("/v1/chat").body(Body::empty()).unwrap();
        service.clone().oneshot(request).await.unwrap();
    }
}

async fn run(explicit_shutdown: bool) {
    let (addr, received) = otlp::grpc_receiver().await;
    let telemetry = exporting(
        format!("http://{addr}"),
        BatchConfig::default().export_timeout,
    );
    requests(&telemetry, 30).await;
    assert!(received.spans().is_empty(), "queued, not yet sent");
    tokio::task::spawn_blocking(move || {
        if explicit_shutdown {
            telemetry.shutdown();
        } else {
            drop(telemetry);
        }
    })
    .await
    .unwrap();
    assert_eq!(received.spans().len(), 30);
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_flushes_the_span_queue() {
    run(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dropping_the_guard_flushes_the_span_queue() {
    run(false).await;
}

/// Issue 16, trace export health: `/api/v1/traces` says how many spans reached the
/// collector, how many were lost, and the last export error. A real receiver first, then a
/// closed port.
#[tokio::test(flavor = "multi_thread")]
async fn the_traces_document_reports_export_health() {
    async fn exporting_to(endpoint: String, n: usize) -> ExportDoc {
        let telemetry = exporting(endpoint, Duration::from_secs(2));
        requests(&telemetry, n).await;
        tokio::task::spawn_blocking(move || {
            let _ = telemetry.tracer().force_flush();
            let doc = telemetry.documents().unwrap().traces;
            telemetry.shutdown();
            doc.analysis
                .export
                .expect("exporting: the export health is shown")
        })
        .await
        .unwrap()
    }

    let (addr, received) = otlp::grpc_receiver().await;
    let healthy = exporting_to(format!("http://{addr}"), 12).await;
    assert_eq!(received.spans().len(), 12);
    assert_eq!(
        (
            healthy.spans_exported,
            healthy.spans_dropped,
            healthy.last_error
        ),
        (12, 0, None)
    );

    // A port nothing listens on: every export fails, and the document says why.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let failing = exporting_to(format!("http://127.0.0.1:{port}"), 5).await;
    assert_eq!((failing.spans_exported, failing.spans_dropped), (0, 5));
    assert!(
        failing.last_error.is_some() && failing.last_error_at.is_some(),
        "{failing:?}"
    );
}
