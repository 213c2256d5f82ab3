//! The bridge under bad input: hostile spans are capped and counted, a span closed in
//! another task is exported, two bridges export once, and `in_current_trace` outside any
//! call is a no-op.

use crate::bridge_support;
use crate::support;

use bridge_support::{call_llm, llm_client, local, one_trace, request, server};
use orchestrator_tower::{Sampler, SpanLimits, TraceFutureExt as _, Tracer};
use support::metrics;
use tower::ServiceExt as _;
use tracing_subscriber::prelude::*;

#[tokio::test]
async fn hostile_spans_are_capped_and_counted() {
    let (registry, metrics) = metrics();
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_on())
        .build()
        .unwrap();
    let limits = SpanLimits {
        max_attributes: 4,
        max_events: 10,
        max_value_bytes: 1024,
    };
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(tracer.tracing_layer().limits(limits)),
    );
    let huge = "é".repeat(512 * 1024); // 1 MiB
    {
        let span =
            tracing::info_span!("hostile", a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, big = %huge);
        let _entered = span.enter();
        for i in 0..1_000 {
            tracing::info!(i, "event");
        }
    }
    let spans = one_trace(&tracer);
    let span = &spans[0];
    assert_eq!(span.attributes.len(), 4);
    assert_eq!(span.events.len(), 10);
    // 3 attributes over the count (the 1 MiB one among them), 990 events.
    assert_eq!(span.dropped_attributes, 3 + 990);
    let counted = support::sum(&registry, "orchestrator_telemetry_dropped_total", |s| {
        s.label("queue") == Some("span_attributes")
    });
    assert_eq!(counted, 993.0);

    // A 1 MiB value within the count is truncated to the byte cap, at a char boundary.
    let _guard2 = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(tracer.tracing_layer()),
    );
    drop(tracing::info_span!("big", value = %huge));
    let big = tracer.store().traces().last().unwrap().spans[0].clone();
    let value = big.attribute("value").unwrap().as_str();
    assert!(
        value.len() <= 1024 && value.ends_with('…'),
        "{} bytes",
        value.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_span_closed_in_another_task_is_exported_when_closed() {
    let (tracer, _guard) = local(Sampler::always_on());
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    let handler = move || {
        let dispatch = dispatch.clone();
        async move {
            let span = tracing::info_span!("handed_over");
            // Closed in another task, on whichever worker runs it, before the request ends.
            tokio::spawn(async move {
                tracing::dispatcher::with_default(&dispatch, || drop(span));
            })
            .await
            .unwrap();
        }
    };
    server(&tracer, handler)
        .oneshot(request(None))
        .await
        .unwrap();
    let spans = one_trace(&tracer);
    assert_eq!(spans.len(), 2);
    assert!(
        spans
            .iter()
            .any(|s| s.name == "handed_over" && !s.is_local_root())
    );
}

#[tokio::test]
async fn two_bridges_on_one_registry_export_each_span_once() {
    let (_, metrics) = metrics();
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_on())
        .build()
        .unwrap();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::registry()
            .with(tracer.tracing_layer())
            .with(tracer.tracing_layer()),
    );
    tracing::info_span!("once").in_scope(|| tracing::info!("inside"));
    let spans = one_trace(&tracer);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].events.len(), 1);
}

#[tokio::test]
async fn in_current_trace_outside_any_call_is_a_no_op() {
    let (tracer, _guard) = local(Sampler::always_on());
    let outside = async { orchestrator_tower::current() }
        .in_current_trace()
        .await;
    assert!(outside.is_none());
    call_llm(llm_client(&tracer)).in_current_trace().await;
    let spans = one_trace(&tracer);
    assert_eq!(spans.len(), 1, "the call is a root of its own");
}
