//! Issue 14, row 2: shutdown accounts for every span. Spans waiting in the assembly buffer
//! for a root that never ends are counted as dropped, and an export in progress when
//! shutdown is asked does not make the rest vanish: one deadline for the whole shutdown,
//! and whatever is left is counted.

use crate::support;

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::{Request, Response};
use orchestrator_tower::{BatchConfig, OtlpConfig, Protocol, Sampler, TelemetryLayer, Tracer};
use support::{answer, metrics, request};
use tower::{Layer, ServiceExt, service_fn};

#[tokio::test(flavor = "multi_thread")]
async fn spans_waiting_for_a_root_at_shutdown_are_counted() {
    let (_, metrics) = metrics();
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_off())
        .keep_errors_and_slow(Duration::from_secs(1))
        .build()
        .unwrap();
    let client = TelemetryLayer::external(&tracer, "search")
        .layer(service_fn(|_: Request<Body>| answer(200)));
    let server = TelemetryLayer::server(&tracer).layer(service_fn(move |_: Request<Body>| {
        let client = client.clone();
        async move {
            // Two client calls end (and wait for their root), then the request hangs.
            for _ in 0..2 {
                client
                    .clone()
                    .oneshot(Request::get("http://search/").body(Body::empty()).unwrap())
                    .await?;
            }
            std::future::pending::<()>().await;
            Ok::<Response<Body>, Infallible>(Response::new(Body::empty()))
        }
    }));
    let hanging = tokio::spawn(server.oneshot(request(None)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(tracer.dropped_spans(), 0);
    tracer.shutdown().unwrap();
    assert_eq!(
        tracer.dropped_spans(),
        2,
        "the two children, never to be kept"
    );
    hanging.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_export_in_progress_does_not_hide_what_is_left() {
    let (_, metrics) = metrics();
    let mut otlp = OtlpConfig::new(format!("http://{}", support::silent_port()), Protocol::Grpc);
    // A collector that accepts and never answers: each export waits the whole timeout, and
    // the export in progress plus the drain (2 × 3 s) outlast the caller's wait (3 s + 2 s).
    otlp.batch = BatchConfig {
        max_queue_size: 2048,
        scheduled_delay: Duration::from_millis(20),
        max_export_batch_size: 4,
        export_timeout: Duration::from_secs(3),
    };
    otlp.timeout = Some(Duration::from_secs(3));
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_on())
        .otlp(otlp)
        .build()
        .unwrap();
    let server = TelemetryLayer::server(&tracer).layer(service_fn(|_: Request<Body>| answer(200)));
    for _ in 0..4 {
        server.clone().oneshot(request(None)).await.unwrap();
    }
    // The worker takes those four and is now waiting on the silent collector.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..10 {
        server.clone().oneshot(request(None)).await.unwrap();
    }
    let started = Instant::now();
    let shut = tokio::task::spawn_blocking({
        let tracer = tracer.clone();
        move || tracer.shutdown()
    })
    .await
    .unwrap();
    let took = started.elapsed();
    assert!(
        took <= Duration::from_secs(5) + Duration::from_millis(500),
        "{took:?}"
    );
    let _ = shut;
    assert_eq!(tracer.exported_spans(), 0);
    assert_eq!(
        tracer.dropped_spans(),
        14,
        "every span counted by the time shutdown returns"
    );
}
