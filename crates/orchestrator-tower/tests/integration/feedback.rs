//! Issue 15, item 7 (the trace part): feedback recorded with the context saved from the
//! answered request lands in the score histogram and, for a sampled trace, as a `feedback`
//! span in that trace, a child of the judged span, decoded by a real OTLP receiver.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use http::{Request, Response};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use orchestrator_metrics::RejectReason;
use orchestrator_tower::{
    BatchConfig, Feedback, OtlpConfig, Protocol, Sampler, TelemetryLayer, TraceContext, Tracer,
    current,
};
use support::{metrics, sum};
use tower::{Layer as _, ServiceExt as _, service_fn};

/// Serves one request and returns the context its handler saw.
async fn answered(tracer: &Tracer) -> TraceContext {
    let saved = Arc::new(Mutex::new(None));
    let slot = saved.clone();
    let service = TelemetryLayer::server(tracer).layer(service_fn(move |_: Request<Body>| {
        let slot = slot.clone();
        async move {
            *slot.lock().unwrap() = current();
            Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
        }
    }));
    let response = service
        .oneshot(Request::get("/v1/answer").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    saved
        .lock()
        .unwrap()
        .take()
        .expect("the handler ran inside the request's context")
}

#[tokio::test(flavor = "multi_thread")]
async fn feedback_joins_the_judged_trace_as_a_child_span() {
    let (addr, received) = support::grpc_receiver().await;
    let (registry, metrics) = metrics();
    let mut otlp = OtlpConfig::new(format!("http://{addr}"), Protocol::Grpc);
    otlp.batch = BatchConfig {
        scheduled_delay: Duration::from_millis(50),
        ..BatchConfig::default()
    };
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_on())
        .otlp(otlp)
        .build()
        .unwrap();
    let judged = answered(&tracer).await;
    tracer
        .record_feedback(&judged, Feedback::Satisfaction, 9.0)
        .unwrap();
    assert_eq!(
        tracer.record_feedback(&judged, Feedback::Quality, 120.0),
        Err(RejectReason::OutOfRange)
    );
    let spans = received.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(
        spans.len(),
        2,
        "the request's span and one feedback span: {spans:#?}"
    );
    let server = spans.iter().find(|s| s.name.starts_with("GET")).unwrap();
    let feedback = spans
        .iter()
        .find(|s| s.name == "feedback satisfaction")
        .unwrap();
    assert_eq!(feedback.trace_id, server.trace_id, "in the judged trace");
    assert_eq!(
        feedback.parent_span_id, server.span_id,
        "a child of the judged span"
    );
    let score = feedback
        .attributes
        .iter()
        .find(|kv| kv.key == "feedback.score")
        .and_then(|kv| kv.value.as_ref()?.value.clone());
    assert_eq!(score, Some(Value::DoubleValue(9.0)));
    assert_eq!(
        sum(
            &registry,
            "orchestrator_user_satisfaction_score_count",
            |_| true
        ),
        1.0
    );
    // The score is its bucket's exemplar, pointing at the feedback span (issue 15 item 7).
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let exemplar = format!(
        r#"# {{trace_id="{}",span_id="{}"}} 9 "#,
        hex(&feedback.trace_id),
        hex(&feedback.span_id)
    );
    let openmetrics = registry.render_openmetrics();
    assert!(
        openmetrics.lines().any(
            |l| l.starts_with("orchestrator_user_satisfaction_score_bucket")
                && l.contains(&exemplar)
        ),
        "{exemplar} not in\n{openmetrics}"
    );
    let _ = tokio::task::spawn_blocking(move || tracer.shutdown()).await;
}

#[tokio::test]
async fn feedback_on_an_unsampled_trace_is_only_a_metric() {
    let (registry, metrics) = metrics();
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_off())
        .build()
        .unwrap();
    let judged = answered(&tracer).await;
    tracer
        .record_feedback(&judged, Feedback::Quality, 80.0)
        .unwrap();
    assert!(tracer.store().is_empty());
    assert!(
        !registry.render_openmetrics().contains("trace_id"),
        "an unsampled trace leaves no exemplar"
    );
    assert_eq!(
        sum(&registry, "orchestrator_quality_score_count", |_| true),
        1.0
    );
}
