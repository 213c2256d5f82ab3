//! Hostile callers of the orchestrator (issue 14): a client cannot force 100 % tracing, and
//! trace ids carry 128 bits of entropy.

use crate::support;

use axum::body::Body;
use http::Request;
use orchestrator_tower::{Sampler, TelemetryLayer, Tracer, new_trace_id};
use support::{answer, metrics, request, sum};
use tower::{Layer, ServiceExt, service_fn};

/// A `traceparent` with a random trace id, saying "sampled".
fn forcing() -> String {
    let id: String = new_trace_id().iter().map(|b| format!("{b:02x}")).collect();
    format!("00-{id}-00f067aa0ba902b7-01")
}

async fn send(tracer: &Tracer, n: usize) {
    let service = TelemetryLayer::server(tracer).layer(service_fn(|_: Request<Body>| answer(200)));
    for _ in 0..n {
        service
            .clone()
            .oneshot(request(Some(&forcing())))
            .await
            .unwrap();
    }
}

/// Issue 14, row 7: with `untrusted_remote_parents`, callers sending `-01` on every request
/// are sampled at the service's own ratio; the trace id is still theirs.
#[tokio::test]
async fn an_untrusting_edge_samples_forced_requests_at_its_own_ratio() {
    let (_, metrics) = metrics();
    let tracer = Tracer::builder(metrics)
        .sampler(
            Sampler::parent_based_ratio(0.1)
                .unwrap()
                .untrusted_remote_parents(),
        )
        .store_capacity(10_000)
        .build()
        .unwrap();
    send(&tracer, 5_000).await;
    let sampled = tracer.store().len() as f64 / 5_000.0;
    assert!((sampled - 0.1).abs() < 0.02, "sampled {sampled}");
    // Kept traces still hang under the caller's span, in the caller's trace.
    let trace = &tracer.store().traces()[0];
    assert_eq!(
        trace.spans[0].parent_span_id,
        Some([0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7])
    );
    assert!(trace.spans[0].parent_is_remote);
}

/// Issue 14, row 7: trusting callers (the default), the traces they force beyond the
/// service's own ratio are capped per second, and what the cap refuses is counted.
#[tokio::test]
async fn forced_traces_are_capped_per_second_and_counted() {
    let (registry, metrics) = metrics();
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::parent_based_ratio(0.0).unwrap())
        .max_forced_traces_per_second(50)
        .store_capacity(10_000)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    send(&tracer, 2_000).await;
    let seconds = started.elapsed().as_secs() + 1; // windows touched, at most
    let kept = tracer.store().len() as u64;
    assert!(
        kept >= 50 && kept <= 50 * (seconds + 1),
        "{kept} kept in {seconds} windows"
    );
    let refused = sum(&registry, "orchestrator_telemetry_dropped_total", |s| {
        s.label("queue") == Some("forced_traces")
    });
    assert_eq!(refused as u64 + kept, 2_000, "every refusal counted");
    // Lifted cap: the parent decides, all of them.
    let (_, metrics) = support::metrics();
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::parent_based_ratio(0.0).unwrap())
        .max_forced_traces_per_second(u32::MAX)
        .store_capacity(10_000)
        .build()
        .unwrap();
    send(&tracer, 500).await;
    assert_eq!(tracer.store().len(), 500);
}

/// Issue 14, row 12: the two halves of a trace id are independent. With the xorshift64*
/// the ids came from, the low half followed from the high half (invert the output
/// multiplier, step the generator once); that prediction must now fail.
#[test]
fn a_trace_id_is_not_one_generator_state() {
    const M: u64 = 0x2545_f491_4f6c_dd1d;
    // The inverse of M modulo 2^64, by Newton's iteration.
    let mut inverse: u64 = M;
    for _ in 0..6 {
        inverse = inverse.wrapping_mul(2u64.wrapping_sub(M.wrapping_mul(inverse)));
    }
    assert_eq!(M.wrapping_mul(inverse), 1);
    let predicted = (0..10_000)
        .filter(|_| {
            let id = new_trace_id();
            let high = u64::from_be_bytes(id[..8].try_into().unwrap());
            let low = u64::from_be_bytes(id[8..].try_into().unwrap());
            let mut x = high.wrapping_mul(inverse);
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(M) == low
        })
        .count();
    assert_eq!(predicted, 0);
}
