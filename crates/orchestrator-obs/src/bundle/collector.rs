//! `otel-collector/config.yaml`: OTLP in, a memory limiter and a batch processor, an
//! optional tail-sampling processor (errors, slow traces, 10 % of the rest), OTLP out to
//! Jaeger.

use orchestrator_support::yaml::{Yaml, map};

use super::BundleOptions;

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
            map([(
                "otlp/jaeger",
                map([
                    ("endpoint", "jaeger:4317".into()),
                    ("tls", map([("insecure", Yaml::Bool(true))])),
                ]),
            )]),
        ),
        (
            "service",
            map([(
                "pipelines",
                map([(
                    "traces",
                    map([
                        ("receivers", list(&["otlp"])),
                        ("processors", list(&processors)),
                        ("exporters", list(&["otlp/jaeger"])),
                    ]),
                )]),
            )]),
        ),
    ])
    .render()
}
