//! Sampling, propagation, metrics for every request, and the keep-errors policy, through
//! the real layer around real services.

use crate::support;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use http::{HeaderMap, Request, Response};
use orchestrator_tower::{DbOperation, Sampler, TelemetryLayer, Tracer, propagation};
use support::{answer, hex, metrics, request, sum};
use tower::{Layer, Service, ServiceExt, service_fn};

#[tokio::test]
async fn ten_percent_of_20000_roots_are_sampled_and_metrics_count_all() {
    let (registry, metrics) = metrics();
    let tracer = Tracer::builder(metrics)
        .store_capacity(20_000)
        .build()
        .unwrap();
    let service = TelemetryLayer::server(&tracer).layer(service_fn(|_: Request<Body>| answer(200)));
    for _ in 0..20_000 {
        service.clone().oneshot(request(None)).await.unwrap();
    }
    let sampled = tracer.store().len() as f64 / 20_000.0;
    assert!(
        (sampled - 0.10).abs() <= 0.01,
        "sampled fraction {sampled} is not 10 % ± 1 pp"
    );
    // Every stored trace is a sampled root with a distinct trace id.
    let traces = tracer.store().traces();
    let mut ids: Vec<_> = traces.iter().map(|t| t.trace_id()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), traces.len());
    assert!(
        traces
            .iter()
            .all(|t| t.spans.len() == 1 && t.spans[0].sampled)
    );
    // Metrics count every request, sampled or not.
    let total = sum(&registry, "orchestrator_requests_total", |_| true);
    assert_eq!(total, 20_000.0);
    let histogram = sum(
        &registry,
        "orchestrator_request_duration_seconds_count",
        |_| true,
    );
    assert_eq!(histogram, 20_000.0);
}

#[derive(Clone, Copy)]
struct Query;

impl DbOperation for Query {
    fn operation(&self) -> &'static str {
        "SELECT"
    }
}

type Captured = Arc<Mutex<Vec<HeaderMap>>>;

/// A server whose handler calls an external API (capturing the outgoing headers) and a
/// database, each through its own client layer.
fn app(
    tracer: &Tracer,
    captured: Captured,
    fail_every: Option<u64>,
) -> impl Service<Request<Body>, Response = Response<Body>, Error = Infallible, Future = impl Send> + Clone
{
    let external = TelemetryLayer::external(tracer, "moderation-api").layer(service_fn(
        move |req: Request<Body>| {
            let captured = captured.clone();
            async move {
                captured.lock().unwrap().push(req.headers().clone());
                answer(200).await
            }
        },
    ));
    let database = TelemetryLayer::database(tracer, "sqlite")
        .layer(service_fn(|_: Query| async { Ok::<_, Infallible>(1u32) }));
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let handler = service_fn(move |req: Request<Body>| {
        let external = external.clone();
        let database = database.clone();
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        async move {
            external
                .oneshot(
                    Request::get("http://moderation/check")
                        .body(Body::empty())
                        .unwrap(),
                )
                .await?;
            database.oneshot(Query).await?;
            let slow = req.headers().contains_key("x-slow");
            if slow {
                tokio::time::sleep(Duration::from_millis(80)).await;
            }
            let fail = fail_every.is_some_and(|k| n.is_multiple_of(k));
            answer(if fail { 500 } else { 200 }).await
        }
    });
    TelemetryLayer::server(tracer).layer(handler)
}

const SAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const UNSAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

#[tokio::test]
async fn children_follow_a_sampled_parent_and_the_trace_id_propagates() {
    let (_registry, metrics) = metrics();
    // Ratio 0: only the parent's decision can sample.
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::parent_based_ratio(0.0).unwrap())
        .build()
        .unwrap();
    let captured = Captured::default();
    let service = app(&tracer, captured.clone(), None);
    service.oneshot(request(Some(SAMPLED))).await.unwrap();

    let traces = tracer.store().traces();
    assert_eq!(traces.len(), 1);
    let spans = &traces[0].spans;
    assert_eq!(spans.len(), 3, "server, external and database spans");
    let root = traces[0].root().unwrap();
    assert_eq!(hex(&root.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(
        root.parent_span_id.map(|p| hex(&p)).as_deref(),
        Some("00f067aa0ba902b7")
    );
    assert!(root.parent_is_remote);
    for child in spans.iter().filter(|s| !s.is_local_root()) {
        assert_eq!(child.trace_id, root.trace_id);
        assert_eq!(child.parent_span_id, Some(root.span_id));
    }
    // The outgoing request carries the trace, parented to the server span, sampled.
    let headers = captured.lock().unwrap().clone();
    let outgoing = propagation::extract(&headers[0]).expect("a traceparent");
    assert_eq!(outgoing.trace_id.to_bytes(), root.trace_id);
    assert_eq!(
        outgoing.span_id.to_bytes(),
        spans
            .iter()
            .find(|s| s.name.starts_with("GET"))
            .unwrap()
            .span_id
    );
    assert!(outgoing.sampled);
}

#[tokio::test]
async fn nothing_is_recorded_under_an_unsampled_parent_but_the_trace_id_still_propagates() {
    let (registry, metrics) = metrics();
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::parent_based_ratio(1.0).unwrap())
        .build()
        .unwrap();
    let captured = Captured::default();
    let service = app(&tracer, captured.clone(), None);
    for _ in 0..50 {
        service
            .clone()
            .oneshot(request(Some(UNSAMPLED)))
            .await
            .unwrap();
    }
    assert!(
        tracer.store().is_empty(),
        "no span under an unsampled parent"
    );
    let headers = captured.lock().unwrap().clone();
    assert_eq!(headers.len(), 50);
    for h in &headers {
        let tp = h["traceparent"].to_str().unwrap();
        assert!(
            tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
            "{tp}"
        );
        assert!(tp.ends_with("-00"), "{tp}");
        assert!(
            !tp.contains("00f067aa0ba902b7"),
            "parented to this process's call: {tp}"
        );
    }
    // Metrics are recorded for all of them, with every dependency.
    assert_eq!(
        sum(&registry, "orchestrator_requests_total", |_| true),
        50.0
    );
    let deps = |kind: &'static str| {
        sum(
            &registry,
            "orchestrator_dependency_duration_seconds_count",
            move |s| s.label("dependency") == Some(kind),
        )
    };
    assert_eq!((deps("external"), deps("database")), (50.0, 50.0));
}

#[tokio::test]
async fn keep_errors_and_slow_keeps_every_failed_trace_and_no_unsampled_success() {
    let (registry, metrics) = metrics();
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::parent_based_ratio(0.1).unwrap())
        .keep_errors_and_slow(Duration::from_millis(50))
        .store_capacity(10_000)
        .build()
        .unwrap();
    let service = app(&tracer, Captured::default(), Some(5));
    for _ in 0..2_000 {
        service.clone().oneshot(request(None)).await.unwrap();
    }
    let traces = tracer.store().traces();
    let failed: Vec<_> = traces.iter().filter(|t| t.root().unwrap().failed).collect();
    assert_eq!(failed.len(), 400, "every failed request's trace is kept");
    assert!(
        failed.iter().all(|t| t.spans.len() == 3),
        "with its children"
    );
    let succeeded: Vec<_> = traces
        .iter()
        .filter(|t| !t.root().unwrap().failed)
        .collect();
    // A success is kept when sampled or slow: on a loaded machine a request of this fast
    // service can pass the 50 ms threshold, and is then rightly kept.
    assert!(
        succeeded.iter().all(|t| {
            let root = t.root().unwrap();
            root.sampled || root.duration() >= Duration::from_millis(50)
        }),
        "unsampled fast successes dropped"
    );
    assert!(!succeeded.is_empty());
    assert_eq!(
        sum(&registry, "orchestrator_requests_total", |_| true),
        2_000.0
    );

    // A slow request under an unsampled parent is kept too.
    let before = tracer.store().len();
    let mut slow = request(Some(UNSAMPLED));
    slow.headers_mut().insert("x-slow", "1".parse().unwrap());
    service.clone().oneshot(slow).await.unwrap();
    let fast = request(Some(UNSAMPLED));
    service.oneshot(fast).await.unwrap();
    assert_eq!(tracer.store().len(), before + 1);
    let kept = tracer.store().traces().pop().unwrap();
    assert!(!kept.root().unwrap().sampled);
    assert!(kept.duration() >= Duration::from_millis(80));
    assert_eq!(tracer.dropped_spans(), 0);
}

#[tokio::test]
async fn a_dropped_request_is_recorded_as_cancelled() {
    let (registry, metrics) = metrics();
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_on())
        .build()
        .unwrap();
    let service = TelemetryLayer::server(&tracer).layer(service_fn(|_: Request<Body>| async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        answer(200).await
    }));
    let call = service.oneshot(request(None));
    assert!(
        tokio::time::timeout(Duration::from_millis(20), call)
            .await
            .is_err()
    );
    let cancelled = sum(&registry, "orchestrator_requests_total", |s| {
        s.label("status") == Some("cancelled")
    });
    assert_eq!(cancelled, 1.0);
    let root = tracer.store().traces()[0].root().unwrap().clone();
    assert_eq!(root.error_type, Some("cancelled"));
}
