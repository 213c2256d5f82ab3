//! Rendering 1k and 10k series (counters, and histograms with 12 buckets) in the text
//! format, through this project's registry, metrics-exporter-prometheus, and
//! prometheus-client's text encoder, filled with the same series.
//!
//! Then the in-process readers over 1k and 10k histograms (issue 16 item 6): one monitor
//! tick (the sampler watching a p95 over the family: read the registry, store the points)
//! and one live-history read (the latency family the page charts), through the registry's
//! snapshot, by visiting its series (what the history thread does), and by the
//! render-and-parse path they used before.
//!
//! Then one OTLP metrics push of the same registries (build, encode, bytes on the wire).
//!
//! `cargo bench --bench render`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use orchestrator_telemetry::Registry;
use orchestrator_telemetry::catalogue::{Group, LabelDef, MetricDef, MetricKind, Unit};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const SIZES: [usize; 2] = [1_000, 10_000];

const COUNTER: MetricDef = MetricDef {
    name: "bench_requests_total",
    kind: MetricKind::Counter,
    unit: Unit::Count,
    help: "Requests.",
    labels: &[
        LabelDef::guarded("route"),
        LabelDef::guarded("method"),
        LabelDef::guarded("status"),
    ],
    buckets: &[],
    group: Group::Core,
};

const HISTOGRAM: MetricDef = MetricDef {
    name: "bench_request_duration_seconds",
    kind: MetricKind::Histogram,
    unit: Unit::Seconds,
    help: "Request duration.",
    labels: &[LabelDef::guarded("route"), LabelDef::guarded("method")],
    buckets: BUCKETS,
    group: Group::Core,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CounterLabels {
    route: String,
    method: &'static str,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HistogramLabels {
    route: String,
    method: &'static str,
}

fn route(i: usize) -> String {
    format!("/api/v1/resource_{i}/items")
}

/// Each series gets a few observations spread over the buckets.
fn values(i: usize) -> [f64; 3] {
    [0.003 * (i % 7) as f64, 0.2 + 0.01 * (i % 13) as f64, 3.0]
}

fn ours(kind: MetricKind, n: usize) -> Registry {
    let registry = Registry::new();
    for i in 0..n {
        let r = route(i);
        match kind {
            MetricKind::Counter => registry
                .counter(&COUNTER, &[&r, "GET", "200"])
                .unwrap()
                .increment(i as u64),
            _ => {
                let h = registry.histogram(&HISTOGRAM, &[&r, "GET"]).unwrap();
                for v in values(i) {
                    h.observe(v).unwrap();
                }
            }
        }
    }
    registry
}

fn exporter(kind: MetricKind, n: usize) -> metrics_exporter_prometheus::PrometheusHandle {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .expect("buckets")
        .build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        for i in 0..n {
            match kind {
                MetricKind::Counter => metrics::counter!(COUNTER.name, "route" => route(i), "method" => "GET", "status" => "200")
                    .increment(i as u64),
                _ => {
                    let h = metrics::histogram!(HISTOGRAM.name, "route" => route(i), "method" => "GET");
                    for v in values(i) {
                        h.record(v);
                    }
                }
            }
        }
    });
    handle
}

fn client(kind: MetricKind, n: usize) -> prometheus_client::registry::Registry {
    let mut registry = prometheus_client::registry::Registry::default();
    match kind {
        MetricKind::Counter => {
            let family = Family::<CounterLabels, Counter>::default();
            for i in 0..n {
                family
                    .get_or_create(&CounterLabels {
                        route: route(i),
                        method: "GET",
                        status: "200",
                    })
                    .inc_by(i as u64);
            }
            registry.register("bench_requests", "Requests.", family);
        }
        _ => {
            let family = Family::<HistogramLabels, Histogram>::new_with_constructor(|| {
                Histogram::new(BUCKETS.iter().copied())
            });
            for i in 0..n {
                let h = family.get_or_create(&HistogramLabels {
                    route: route(i),
                    method: "GET",
                });
                for v in values(i) {
                    h.observe(v);
                }
            }
            registry.register(
                "bench_request_duration_seconds",
                "Request duration.",
                family,
            );
        }
    }
    registry
}

fn render(c: &mut Criterion) {
    for (kind, name) in [
        (MetricKind::Counter, "render_counters"),
        (MetricKind::Histogram, "render_histograms"),
    ] {
        let mut group = c.benchmark_group(name);
        group.sample_size(20);
        for n in SIZES {
            group.throughput(Throughput::Elements(n as u64));
            let registry = ours(kind, n);
            let mut buffer = String::new();
            group.bench_with_input(BenchmarkId::new("orchestrator", n), &n, |b, _| {
                b.iter(|| {
                    buffer.clear();
                    registry.render_into(&mut buffer);
                    black_box(buffer.len())
                })
            });
            let handle = exporter(kind, n);
            group.bench_with_input(
                BenchmarkId::new("metrics_exporter_prometheus", n),
                &n,
                |b, _| b.iter(|| black_box(handle.render().len())),
            );
            let registry = client(kind, n);
            let mut buffer = String::new();
            group.bench_with_input(BenchmarkId::new("prometheus_client", n), &n, |b, _| {
                b.iter(|| {
                    buffer.clear();
                    prometheus_client::encoding::text::encode(&mut buffer, &registry)
                        .expect("encode");
                    black_box(buffer.len())
                })
            });
        }
        group.finish();
    }
}

/// One OTLP metrics push of the same registries, beside the scrape above: building the
/// request from the cells (cumulative, and delta with its per-series baselines), and
/// building plus encoding it to the protobuf bytes sent. Prints the bytes on the wire.
fn otlp_push(c: &mut Criterion) {
    use orchestrator_telemetry::Temporality;
    use orchestrator_telemetry::orchestrator_exporters::otlp::Converter;
    use prost::Message as _;

    for (kind, name) in [
        (MetricKind::Counter, "otlp_push_counters"),
        (MetricKind::Histogram, "otlp_push_histograms"),
    ] {
        let mut group = c.benchmark_group(name);
        group.sample_size(20);
        for n in SIZES {
            group.throughput(Throughput::Elements(n as u64));
            let registry = ours(kind, n);
            let mut converter = Converter::new(Temporality::Cumulative, &[]);
            let bytes = converter.build(&registry).request.encode_to_vec().len();
            let mut text = String::new();
            registry.render_into(&mut text);
            eprintln!(
                "{name}/{n}: {bytes} bytes of OTLP protobuf, {} bytes of text exposition",
                text.len()
            );
            group.bench_with_input(BenchmarkId::new("build", n), &n, |b, _| {
                b.iter(|| black_box(converter.build(&registry).points))
            });
            group.bench_with_input(BenchmarkId::new("build_encode", n), &n, |b, _| {
                b.iter(|| black_box(converter.build(&registry).request.encode_to_vec().len()))
            });
            let mut delta = Converter::new(Temporality::Delta, &[]);
            group.bench_with_input(BenchmarkId::new("build_encode_delta", n), &n, |b, _| {
                b.iter(|| {
                    let built = delta.build(&registry);
                    delta.commit();
                    black_box(built.request.encode_to_vec().len())
                })
            });
        }
        group.finish();
    }
}

fn ticks(c: &mut Criterion) {
    use orchestrator_telemetry::exposition;
    use orchestrator_telemetry::orchestrator_query::{
        Expr, Sampler, Selector, StoreLimits, Window,
    };

    let p95 = Expr::histogram_quantile_of(
        0.95,
        Selector::buckets(&HISTOGRAM),
        Window::minutes(5).expect("a window"),
    )
    .expect("an expression");
    let mut group = c.benchmark_group("monitor_tick");
    group.sample_size(20);
    for n in SIZES {
        let registry = ours(MetricKind::Histogram, n);
        // Room for every series (15 per histogram): with the default 10,000-series limit,
        // most of a 10k-histogram family would be refused, and the bench would time drops.
        let mut sampler = Sampler::local(&registry).with_limits(StoreLimits {
            max_series: 200_000,
            max_total_points: 16_000_000,
            ..StoreLimits::default()
        });
        sampler.watch(&p95);
        sampler.fit_points_to(Duration::from_secs(15));
        let mut at = 0;
        // What the monitor does now: visit the family in place, each series' store slots
        // found once.
        group.bench_with_input(BenchmarkId::new("visit", n), &n, |b, _| {
            b.iter(|| {
                at += 15_000;
                black_box(sampler.sample(at).expect("a sample"))
            })
        });
        group.bench_with_input(BenchmarkId::new("render_parse", n), &n, |b, _| {
            b.iter(|| {
                at += 15_000;
                black_box(sampler.ingest(&registry.render(), at).expect("a sample"))
            })
        });
    }
    group.finish();
    let mut group = c.benchmark_group("history_read");
    group.sample_size(20);
    for n in SIZES {
        let registry = ours(MetricKind::Histogram, n);
        group.bench_with_input(BenchmarkId::new("snapshot", n), &n, |b, _| {
            b.iter(|| black_box(registry.snapshot(|f| f == HISTOGRAM.name).families.len()))
        });
        // What the history thread does now: merge the family's buckets series by series.
        group.bench_with_input(BenchmarkId::new("visit", n), &n, |b, _| {
            b.iter(|| {
                let mut merged = [0u64; 13];
                registry.visit_series(HISTOGRAM.name, |series| {
                    for (slot, (_, count)) in merged
                        .iter_mut()
                        .zip(series.buckets().into_iter().flatten())
                    {
                        *slot += count;
                    }
                });
                black_box(merged)
            })
        });
        group.bench_with_input(BenchmarkId::new("render_parse", n), &n, |b, _| {
            b.iter(|| {
                black_box(
                    exposition::parse(&registry.render())
                        .expect("parses")
                        .families
                        .len(),
                )
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    targets = render, ticks, otlp_push
}
criterion_main!(benches);
