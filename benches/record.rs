//! Recording one request's full set (requests counter, duration histogram, and the error
//! counter when it failed), through:
//! - this project's typed recorder (`RequestMetrics::record`), and the same for a request
//!   in a sampled trace, whose duration is also its bucket's exemplar;
//! - raw `metrics` macros into metrics-exporter-prometheus, with labels built per call as a
//!   middleware must (the route is not `'static`, the status is a number), and with
//!   `'static` labels as their best case;
//! - prometheus-client `Family::get_or_create` with a label struct.
//!
//! The `record_folded` group times an LLM call whose model name is new once the model cap
//! is full (a flood of unpriced junk names, issue 14 row 10), beside a priced model's call,
//! with a price table configured as a gateway has one.
//!
//! `cargo bench --bench record`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use orchestrator_telemetry::catalogue::buckets::REQUEST_DURATION_SECONDS;
use orchestrator_telemetry::{Metrics, Registry};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

const ROUTE: &str = "/v1/sessions/{id}/messages";
const METHOD: &str = "POST";
const DURATION: Duration = Duration::from_micros(123_456);

/// (status, failed): one successful and one failed request.
const CASES: [(u16, bool); 2] = [(200, false), (502, true)];

fn route() -> String {
    // As a middleware sees it: a runtime string (axum's MatchedPath), not a literal.
    black_box(ROUTE).to_owned()
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    component: &'static str,
    kind: &'static str,
}

/// The prometheus-client peer: the same three metrics as `Family`s of derived label sets.
struct PrometheusClient {
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
    errors: Family<ErrorLabels, Counter>,
}

impl PrometheusClient {
    fn new() -> Self {
        PrometheusClient {
            requests: Family::default(),
            durations: Family::new_with_constructor(|| {
                Histogram::new(REQUEST_DURATION_SECONDS.iter().copied())
            }),
            errors: Family::default(),
        }
    }

    fn record(&self, route: &str, status: u16, failed: bool) {
        let request = RequestLabels {
            route: route.to_owned(),
            method: METHOD,
            status,
        };
        self.requests.get_or_create(&request).inc();
        let route = RouteLabels {
            route: route.to_owned(),
            method: METHOD,
        };
        self.durations
            .get_or_create(&route)
            .observe(DURATION.as_secs_f64());
        if failed {
            let error = ErrorLabels {
                component: "api",
                kind: "server_error",
            };
            self.errors.get_or_create(&error).inc();
        }
    }
}

fn typed(c: &mut Criterion) {
    let mut group = c.benchmark_group("record_request");
    let route = route();
    let registry = Registry::new();
    let metrics = Metrics::new(&registry);
    for (status, _) in CASES {
        group.bench_with_input(
            BenchmarkId::new("orchestrator_typed", status),
            &status,
            |b, &status| {
                b.iter(|| {
                    metrics.requests().record(
                        black_box(&route),
                        black_box(METHOD),
                        black_box(status),
                        black_box(DURATION),
                    )
                })
            },
        );
    }

    // A request served in a sampled trace: its duration also becomes its bucket's exemplar
    // (issue 15 item 8; unsampled requests take the `orchestrator_typed` path above).
    let exemplar = orchestrator_telemetry::Exemplar::new([0x4b; 16], [0xf0; 8]);
    group.bench_function(
        BenchmarkId::new("orchestrator_typed_sampled_exemplar", 200),
        |b| {
            b.iter(|| {
                metrics.requests().record_maybe_exemplar(
                    black_box(&route),
                    black_box(METHOD),
                    black_box(200u16),
                    black_box(DURATION),
                    black_box(exemplar),
                )
            })
        },
    );

    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(REQUEST_DURATION_SECONDS)
        .expect("buckets")
        .build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    for (status, failed) in CASES {
        group.bench_with_input(BenchmarkId::new("metrics_macros_dynamic_labels", status), &status, |b, &status| {
            b.iter(|| {
                let route = black_box(&route);
                metrics::counter!("orchestrator_requests_total", "route" => route.clone(), "method" => METHOD, "status" => status.to_string())
                    .increment(1);
                metrics::histogram!("orchestrator_request_duration_seconds", "route" => route.clone(), "method" => METHOD)
                    .record(DURATION.as_secs_f64());
                if failed {
                    metrics::counter!("orchestrator_errors_total", "component" => "api", "kind" => "server_error").increment(1);
                }
            })
        });
        group.bench_with_input(BenchmarkId::new("metrics_macros_static_labels", status), &status, |b, _| {
            b.iter(|| {
                let status = if failed { "502" } else { "200" };
                metrics::counter!("orchestrator_requests_total", "route" => ROUTE, "method" => METHOD, "status" => status)
                    .increment(1);
                metrics::histogram!("orchestrator_request_duration_seconds", "route" => ROUTE, "method" => METHOD)
                    .record(DURATION.as_secs_f64());
                if failed {
                    metrics::counter!("orchestrator_errors_total", "component" => "api", "kind" => "server_error").increment(1);
                }
            })
        });
    }

    let peer = PrometheusClient::new();
    for (status, failed) in CASES {
        group.bench_with_input(
            BenchmarkId::new("prometheus_client_family", status),
            &status,
            |b, &status| b.iter(|| peer.record(black_box(&route), status, failed)),
        );
    }
    group.finish();
}

fn folded(c: &mut Criterion) {
    use orchestrator_telemetry::{LlmCall, LlmOutcome, ModelPrice, PriceTable, TokenUsage};
    let registry = Registry::new();
    // As a gateway runs it: a price table (whose models are reserved, never folded) and a
    // flood of unpriced junk names.
    let price = ModelPrice::new(0.15, 0.075, 0.6).expect("price");
    let prices = ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3-mini"]
        .into_iter()
        .fold(PriceTable::new(), |t, m| t.with_price("openai", m, price))
        .with_price("anthropic", "claude-sonnet-4", price);
    let metrics = Metrics::builder().prices(prices).build(&registry);
    // Fill the model cap (100) with junk names first.
    for i in 0..100 {
        let name = format!("junk-{i}");
        metrics.llm().record(&LlmCall::new(
            "openai",
            &name,
            LlmOutcome::Success,
            DURATION,
        ));
    }
    // 1,024 names, stepped through with a mask: a `%` by the length would put a 64-bit
    // division (tens of cycles) in the timed loop.
    const FLOOD: usize = 1024;
    let names: Vec<String> = (0..FLOOD).map(|i| format!("flood-{i}")).collect();
    let usage = TokenUsage::new(300, 80);
    let mut group = c.benchmark_group("record_folded");
    let mut i = 0;
    group.bench_function("orchestrator_llm_folded_model", |b| {
        b.iter(|| {
            i = (i + 1) & (FLOOD - 1);
            let call = LlmCall::new(
                "openai",
                black_box(&names[i]),
                LlmOutcome::Success,
                DURATION,
            )
            .with_usage(usage);
            black_box(metrics.llm().record(&call))
        })
    });
    // The guard's own folded path: a new value once the cap is full.
    let guard = orchestrator_telemetry::CardinalityGuard::new(
        &registry,
        &orchestrator_telemetry::CardinalityLimits::default(),
    );
    for i in 0..100 {
        let _ = guard.admit(
            orchestrator_telemetry::GuardedLabel::Model,
            &format!("junk-{i}"),
        );
    }
    let mut j = 0;
    group.bench_function("guard_admit_folded", |b| {
        b.iter(|| {
            j = (j + 1) & (FLOOD - 1);
            black_box(guard.admit(
                orchestrator_telemetry::GuardedLabel::Model,
                black_box(&names[j]),
            ))
        })
    });
    group.bench_function("orchestrator_llm_priced_model", |b| {
        b.iter(|| {
            let call = LlmCall::new(
                "openai",
                black_box("gpt-4o-mini"),
                LlmOutcome::Success,
                DURATION,
            )
            .with_usage(usage);
            black_box(metrics.llm().record(&call))
        })
    });
    // The same call once something reads the GenAI conventions' families (an OTLP push,
    // or `/metrics` exposing them): their duration and two token observations besides.
    registry.record_gen_ai();
    group.bench_function("orchestrator_llm_priced_model_gen_ai", |b| {
        b.iter(|| {
            let call = LlmCall::new(
                "openai",
                black_box("gpt-4o-mini"),
                LlmOutcome::Success,
                DURATION,
            )
            .with_usage(usage);
            black_box(metrics.llm().record(&call))
        })
    });
    group.finish();
}

/// Two threads recording the same request series at once, as two Tokio workers serving the
/// same route do: the time for `iters` records on each thread, so one iteration is two
/// records made in parallel. With one shared atomic per number, the two cores pass its cache
/// line back and forth; each thread writing its own stripe does not.
fn contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("record_contended");
    let route = route();
    let registry = Registry::new();
    let metrics = Metrics::new(&registry);
    let in_parallel = |iters: u64, record: &(dyn Fn() + Sync)| {
        let start = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            let run = || {
                start.wait();
                let t = std::time::Instant::now();
                for _ in 0..iters {
                    record();
                }
                t.elapsed()
            };
            let other = s.spawn(run);
            let here = run();
            here.max(other.join().expect("recording thread"))
        })
    };
    group.bench_function("orchestrator_typed_2_threads", |b| {
        b.iter_custom(|iters| {
            in_parallel(iters, &|| {
                metrics
                    .requests()
                    .record(black_box(&route), METHOD, 200u16, DURATION)
            })
        })
    });
    let peer = PrometheusClient::new();
    group.bench_function("prometheus_client_family_2_threads", |b| {
        b.iter_custom(|iters| in_parallel(iters, &|| peer.record(black_box(&route), 200, false)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = typed, folded, contended
}
criterion_main!(benches);
