//! `otel-collector/config.yaml`: OTLP in, a memory limiter and a batch processor; for
//! traces an optional tail-sampling processor (errors, slow traces, 10 % of the rest) and
//! OTLP out to Jaeger; for metrics (replicas that push instead of being scraped) Prometheus
//! remote write into the bundle's Prometheus, or OTLP out to another backend.
//!
//! The components and keys are those documented by the Collector (contrib 0.128):
//! `exporter/prometheusremotewriteexporter` (`endpoint`,
//! `resource_to_telemetry_conversion.enabled`) and `exporter/otlpexporter` (`endpoint`,
//! `tls.insecure`).

use orchestrator_support::yaml::{Yaml, map};

use super::{BundleOptions, CollectorMetrics};

fn list(items: &[&str]) -> Yaml {
    Yaml::List(items.iter().map(|s| Yaml::from(*s)).collect())
}

pub(crate) fn config(o: &BundleOptions) -> String {
    let tail_sampling = map([
        ("decision_wait", "10s".into()),
        ("num_traces", Yaml::Int(50_000)),
        (
            "policies",
            Yaml::List(vec![
                map([
                    ("name", "errors".into()),
                    ("type", "status_code".into()),
                    ("status_code", map([("status_codes", list(&["ERROR"]))])),
                ]),
                map([
                    ("name", "slow".into()),
                    ("type", "latency".into()),
                    ("latency", map([("threshold_ms", Yaml::Int(1000))])),
                ]),
                map([
                    ("name", "ten-percent".into()),
                    ("type", "probabilistic".into()),
                    (
                        "probabilistic",
                        map([("sampling_percentage", Yaml::Int(10))]),
                    ),
                ]),
            ]),
        ),
    ]);
    let mut processors = vec!["memory_limiter"];
    if o.tail_sampling {
        processors.push("tail_sampling");
    }
    processors.push("batch");
    let (metrics_exporter, metrics_config) = match &o.collector_metrics {
        CollectorMetrics::RemoteWrite => (
            "prometheusremotewrite",
            map([
                ("endpoint", "http://prometheus:9090/api/v1/write".into()),
                // `service.instance.id` becomes the `instance` label, `service.name` the
                // `job`; the other resource attributes become labels too.
                (
                    "resource_to_telemetry_conversion",
                    map([("enabled", Yaml::Bool(true))]),
                ),
            ]),
        ),
        CollectorMetrics::Otlp(endpoint) => {
            ("otlp/metrics", map([("endpoint", endpoint.clone().into())]))
        }
    };
    map([
        (
            "receivers",
            map([(
                "otlp",
                map([(
                    "protocols",
                    map([
                        ("grpc", map([("endpoint", "0.0.0.0:4317".into())])),
                        ("http", map([("endpoint", "0.0.0.0:4318".into())])),
                    ]),
                )]),
            )]),
        ),
        (
            "processors",
            map([
                (
                    "memory_limiter",
                    map([
                        ("check_interval", "1s".into()),
                        ("limit_percentage", Yaml::Int(80)),
                        ("spike_limit_percentage", Yaml::Int(25)),
                    ]),
                ),
                (
                    "batch",
                    map([
                        ("send_batch_size", Yaml::Int(512)),
                        ("timeout", "5s".into()),
                    ]),
                ),
                ("tail_sampling", tail_sampling),
            ]),
        ),
        (
            "exporters",
            map([
                (
                    "otlp/jaeger",
                    map([
                        ("endpoint", "jaeger:4317".into()),
                        ("tls", map([("insecure", Yaml::Bool(true))])),
                    ]),
                ),
                (metrics_exporter, metrics_config),
            ]),
        ),
        (
            "service",
            map([(
                "pipelines",
                map([
                    (
                        "traces",
                        map([
                            ("receivers", list(&["otlp"])),
                            ("processors", list(&processors)),
                            ("exporters", list(&["otlp/jaeger"])),
                        ]),
                    ),
                    (
                        "metrics",
                        map([
                            ("receivers", list(&["otlp"])),
                            ("processors", list(&["memory_limiter", "batch"])),
                            ("exporters", list(&[metrics_exporter])),
                        ]),
                    ),
                ]),
            )]),
        ),
    ])
    .render()
}
