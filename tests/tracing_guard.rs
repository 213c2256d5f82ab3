//! The facade's guard flushes the span queue: on `shutdown()` and when dropped, every queued
//! span reaches a real OTLP/gRPC receiver, even when the scheduled delay has not passed.

use orchestrator_testkit::otlp;

use std::time::Duration;

use axum::body::Body;
use orchestrator_telemetry::Telemetry;
use orchestrator_telemetry::orchestrator_tower::{
    BatchConfig, OtlpConfig, Protocol, Sampler, TelemetryLayer,
};
use tower::{Layer as _, ServiceExt as _, service_fn};

async fn run(explicit_shutdown: bool) {
    let (addr, received) = otlp::grpc_receiver().await;
    let mut config = OtlpConfig::new(format!("http://{addr}"), Protocol::Grpc);
    config.batch = BatchConfig {
        scheduled_delay: Duration::from_secs(3600),
        ..BatchConfig::default()
    };
    let telemetry = Telemetry::builder()
        .without_listener()
        .without_process_collector()
        .without_monitor()
        .ignore_otel_env()
        .sampler(Sampler::always_on())
        .service_name("guard-test")
        .otlp(config)
        .build()
        .unwrap();
    let service = TelemetryLayer::server(telemetry.tracer()).layer(service_fn(
        |_: http::Request<Body>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(Body::from("ok")))
        },
    ));
    for _ in 0..30 {
        let request = http::Request::post("/v1/chat").body(Body::empty()).unwrap();
        service.clone().oneshot(request).await.unwrap();
    }
    drop(service);
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
