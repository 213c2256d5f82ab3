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
//!
//! The unsampled difference is a few nanoseconds, below this machine's noise, so the bench
//! also runs one stack N times without criterion when `BRIDGE_STACK=NAME:N` is set, for an
//! instruction count under callgrind (`scripts/bridge-instructions`), and times the
//! unsampled pair in alternating rounds when `BRIDGE_PAIRED=ROUNDS` is set
//! (`BRIDGE_PAIRED=21 cargo bench --bench bridge`).

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

/// `BRIDGE_PAIRED=ROUNDS`: times the unsampled layer with and without the bridge in
/// alternating rounds of 20 000 requests each, in one process, and prints the median of the
/// paired differences per user span. On a shared machine, where two criterion rows drift
/// apart by more than this difference, pairing round by round cancels the drift.
fn paired() {
    let Ok(rounds) = std::env::var("BRIDGE_PAIRED") else {
        return;
    };
    let rounds: usize = rounds.parse().expect("a number of rounds");
    let tracer = tracer(Sampler::always_off());
    let mut service = TelemetryLayer::server(&tracer).layer(handler());
    let plain = tracing::Dispatch::new(tracing_subscriber::registry());
    // A layer that does nothing: what having any layer costs, apart from the bridge's code.
    let noop = tracing::Dispatch::new(
        tracing_subscriber::registry().with(tracing_subscriber::layer::Identity::new()),
    );
    let bridged =
        tracing::Dispatch::new(tracing_subscriber::registry().with(tracer.tracing_layer()));
    const N: u32 = 20_000;
    let mut time = |dispatch: &tracing::Dispatch| {
        tracing::dispatcher::with_default(dispatch, || {
            let start = std::time::Instant::now();
            for _ in 0..N {
                once(&mut service);
            }
            start.elapsed().as_nanos() as f64 / f64::from(N)
        })
    };
    let stacks = [&plain, &noop, &bridged];
    for stack in stacks {
        time(stack); // warm-up
    }
    let mut per: [Vec<f64>; 3] = Default::default();
    let (mut over_registry, mut over_noop) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Rotate which goes first, so that none always follows another.
        let mut t = [0.0; 3];
        for k in 0..3 {
            let i = (round + k) % 3;
            t[i] = time(stacks[i]);
        }
        for i in 0..3 {
            per[i].push(t[i]);
        }
        over_registry.push((t[2] - t[0]) / 2.0);
        over_noop.push((t[2] - t[1]) / 2.0);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let [mut a, mut b, mut c] = per;
    println!(
        "paired over {rounds} rounds, per unsampled request: registry + layer {:.1} ns, \
         + a no-op layer {:.1} ns, + the bridge {:.1} ns; per user span the bridge adds \
         {:.1} ns over the registry alone and {:.1} ns over a no-op layer (medians of paired \
         differences)",
        median(&mut a),
        median(&mut b),
        median(&mut c),
        median(&mut over_registry),
        median(&mut over_noop)
    );
    std::process::exit(0);
}

/// `BRIDGE_STACK=NAME:N`: runs N requests through the stack NAME and exits.
fn run_one_stack() {
    let Ok(spec) = std::env::var("BRIDGE_STACK") else {
        return;
    };
    let (name, n) = spec.split_once(':').expect("BRIDGE_STACK=NAME:N");
    let n: u64 = n.parse().expect("a count");
    let sampler = if name.ends_with("unsampled") {
        Sampler::always_off()
    } else {
        Sampler::always_on()
    };
    let tracer = tracer(sampler);
    let mut service = TelemetryLayer::server(&tracer).layer(handler());
    let dispatch = match name {
        "layer_unsampled" | "layer_sampled" => {
            tracing::Dispatch::new(tracing_subscriber::registry())
        }
        "bridge_unsampled" | "bridge_sampled" => {
            tracing::Dispatch::new(tracing_subscriber::registry().with(tracer.tracing_layer()))
        }
        // Any layer over the registry costs something (tracing-subscriber's `Layered` and
        // its clearing of closed spans): a layer that does nothing, to tell that from the
        // bridge's own code.
        "noop_unsampled" => tracing::Dispatch::new(
            tracing_subscriber::registry().with(tracing_subscriber::layer::Identity::new()),
        ),
        other => panic!("unknown stack {other}"),
    };
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..n {
            once(&mut service);
        }
    });
    std::process::exit(0);
}

fn bridge(c: &mut Criterion) {
    run_one_stack();
    paired();
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
