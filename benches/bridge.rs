//! The `tracing` bridge's cost per request, in one run: a request whose handler opens two
//! nested user spans (`plan` > `moderate`) and logs one event, through six stacks:
//! - `bare`: no subscriber, no layer (the span macros find no subscriber);
//! - `registry`: `tracing_subscriber::registry()` alone, no layer;
//! - `layer_unsampled` / `layer_sampled`: the registry, and this project's server layer
//!   with a sampler that says no / yes, without the bridge;
//! - `bridge_unsampled` / `bridge_sampled`: the same with `Tracer::tracing_layer()` added
//!   to the registry, so the two user spans and the event are bridged when sampled;
//! - `bridge_10`: layer and bridge at a 10 % parent-based ratio;
//! - `tower_http_otel_10`: tower-http's `TraceLayer` under `tracing-opentelemetry` at
//!   10 %, which also turns the user spans into OpenTelemetry spans.
//!
//! Per user span, the bridge costs `(bridge_x − layer_x) / 2`.
//!
//! `cargo bench --bench bridge`

mod common;

use common::{Body, bare, once, otel_dispatch, tracer};
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use orchestrator_telemetry::orchestrator_tower::{Sampler, TelemetryLayer};
use tower::{Layer, Service, ServiceExt as _};
use tower_http::trace::TraceLayer;
use tracing_subscriber::layer::SubscriberExt as _;

/// The handler: two nested user spans and one event, around the bare service.
fn handler() -> impl Service<
    Request<Body>,
    Response = Response<Body>,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<Response<Body>, std::convert::Infallible>>,
> + Clone {
    bare().map_request(|request: Request<Body>| {
        let plan = tracing::info_span!("plan", steps = 2);
        let _plan = plan.enter();
        let moderate = tracing::info_span!("moderate");
        let _moderate = moderate.enter();
        tracing::info!(tokens = 12, "planning the answer");
        request
    })
}

fn bridge(c: &mut Criterion) {
    let mut group = c.benchmark_group("bridge");
    let mut service = handler();
    tracing::dispatcher::with_default(&tracing::Dispatch::none(), || {
        group.bench_function("bare", |b| b.iter(|| once(&mut service)));
    });
    let registry = tracing::Dispatch::new(tracing_subscriber::registry());
    tracing::dispatcher::with_default(&registry, || {
        group.bench_function("registry", |b| b.iter(|| once(&mut service)));
    });
    for (name, sampler) in [
        ("unsampled", Sampler::always_off()),
        ("sampled", Sampler::always_on()),
        ("10", Sampler::parent_based_ratio(0.1).expect("valid ratio")),
    ] {
        let tracer = tracer(sampler);
        let mut service = TelemetryLayer::server(&tracer).layer(handler());
        if name != "10" {
            tracing::dispatcher::with_default(&registry, || {
                group.bench_function(format!("layer_{name}"), |b| b.iter(|| once(&mut service)));
            });
        }
        let bridged =
            tracing::Dispatch::new(tracing_subscriber::registry().with(tracer.tracing_layer()));
        tracing::dispatcher::with_default(&bridged, || {
            group.bench_function(format!("bridge_{name}"), |b| b.iter(|| once(&mut service)));
        });
    }
    let (dispatch, provider) = otel_dispatch(0.1);
    let mut service = TraceLayer::new_for_http().layer(handler());
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("tower_http_otel_10", |b| b.iter(|| once(&mut service)));
    });
    let _ = provider.shutdown();
    group.finish();
}

criterion_group!(benches, bridge);
criterion_main!(benches);
