//! Per-request overhead of tracing middleware over a bare tower service, in one run:
//! - `bare`: the service alone;
//! - `orchestrator_unsampled` / `orchestrator_sampled`: this project's `TelemetryLayer`
//!   (server kind) with a sampler that says no / yes. Both also record the request's metrics
//!   (counter and duration histogram), which the peers do not;
//! - `orchestrator_unsampled_otel_context`: the same unsampled, with
//!   `opentelemetry_context(true)` (the call is OpenTelemetry's current context while it
//!   runs);
//! - `tower_http_otel_100` / `tower_http_otel_10`: tower-http's `TraceLayer::new_for_http()`
//!   under a `tracing-opentelemetry` layer whose SDK tracer samples 100 % / 10 %
//!   (parent-based trace-id ratio), spans batched to an exporter that discards them.
//!
//! The `clock` group times the two clocks a call could be timed with (`std::time::Instant`
//! and `quanta`'s TSC clock, which the layer uses).
//!
//! Before timing, it counts heap allocations per request of each variant (a counting global
//! allocator, 10 000 requests after warm-up) and prints them.
//!
//! `cargo bench --bench middleware`

mod common;

use orchestrator_testkit::alloc::{Counting, allocations};
use std::hint::black_box;

use common::{Body, bare, once, otel_dispatch, sharing_tracer, tracer};
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use orchestrator_telemetry::orchestrator_tower::{Sampler, TelemetryLayer};
use tower::{Layer, Service};
use tower_http::trace::TraceLayer;

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_per_request<S, B>(mut service: S) -> f64
where
    S: Service<Request<Body>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
{
    const N: u64 = 10_000;
    for _ in 0..1_000 {
        once(&mut service);
    }
    let before = allocations();
    for _ in 0..N {
        once(&mut service);
    }
    (allocations() - before) as f64 / N as f64
}

fn count_allocations() {
    let unsampled = tracer(Sampler::always_off());
    let sampled = tracer(Sampler::always_on());
    println!("allocations per request (10 000 requests after warm-up):");
    println!(
        "  bare                      {:>6.2}",
        allocations_per_request(bare())
    );
    println!(
        "  orchestrator_unsampled    {:>6.2}",
        allocations_per_request(TelemetryLayer::server(&unsampled).layer(bare()))
    );
    println!(
        "  orchestrator_sampled      {:>6.2}",
        allocations_per_request(TelemetryLayer::server(&sampled).layer(bare()))
    );
    let sharing = sharing_tracer(Sampler::always_off());
    println!(
        "  orchestrator_unsampled_otel_context {:>6.2}",
        allocations_per_request(TelemetryLayer::server(&sharing).layer(bare()))
    );
    for (name, ratio) in [("tower_http_otel_100", 1.0), ("tower_http_otel_10", 0.1)] {
        let (dispatch, provider) = otel_dispatch(ratio);
        let per = tracing::dispatcher::with_default(&dispatch, || {
            allocations_per_request(TraceLayer::new_for_http().layer(bare()))
        });
        println!("  {name:<25} {per:>6.2}");
        let _ = provider.shutdown();
    }
}

fn middleware(c: &mut Criterion) {
    count_allocations();
    let mut group = c.benchmark_group("middleware");
    let mut service = bare();
    group.bench_function("bare", |b| b.iter(|| once(&mut service)));

    let unsampled = tracer(Sampler::always_off());
    let mut service = TelemetryLayer::server(&unsampled).layer(bare());
    group.bench_function("orchestrator_unsampled", |b| b.iter(|| once(&mut service)));

    let sampled = tracer(Sampler::always_on());
    let mut service = TelemetryLayer::server(&sampled).layer(bare());
    group.bench_function("orchestrator_sampled", |b| b.iter(|| once(&mut service)));

    let sharing = sharing_tracer(Sampler::always_off());
    let mut service = TelemetryLayer::server(&sharing).layer(bare());
    group.bench_function("orchestrator_unsampled_otel_context", |b| {
        b.iter(|| once(&mut service))
    });

    // The peers at the same sampling: this layer with a 10 % ratio (parent-based, like
    // theirs), and tower-http + tracing-opentelemetry at 100 % and 10 %.
    let ratio = tracer(Sampler::parent_based_ratio(0.1).expect("valid ratio"));
    let mut service = TelemetryLayer::server(&ratio).layer(bare());
    group.bench_function("orchestrator_10", |b| b.iter(|| once(&mut service)));

    for (name, ratio) in [("tower_http_otel_100", 1.0), ("tower_http_otel_10", 0.1)] {
        let (dispatch, provider) = otel_dispatch(ratio);
        let mut service = TraceLayer::new_for_http().layer(bare());
        tracing::dispatcher::with_default(&dispatch, || {
            group.bench_function(name, |b| b.iter(|| once(&mut service)));
        });
        let _ = provider.shutdown();
    }
    group.finish();
}

/// The two clocks a call could be timed with: the layer reads one twice per request.
fn clock(c: &mut Criterion) {
    let _ = quanta::Instant::now(); // calibrate outside the timing, as the tracer does
    let mut group = c.benchmark_group("clock");
    group.bench_function("std_instant_now", |b| {
        b.iter(|| black_box(std::time::Instant::now()))
    });
    group.bench_function("quanta_instant_now", |b| {
        b.iter(|| black_box(quanta::Instant::now()))
    });
    group.finish();
}

criterion_group!(benches, middleware, clock);
criterion_main!(benches);
