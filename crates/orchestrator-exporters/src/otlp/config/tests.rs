use std::collections::HashMap;
use std::time::Duration;

use super::*;

fn read(vars: &[(&str, &str)]) -> Result<MetricsExporters, MetricsConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    MetricsExporters::from_vars(&move |n: &str| map.get(n).cloned())
}

fn otlp(vars: &[(&str, &str)]) -> OtlpMetricsConfig {
    let mut all = vec![("OTEL_METRICS_EXPORTER", "otlp")];
    all.extend_from_slice(vars);
    read(&all).unwrap().otlp.expect("otlp configured")
}

#[test]
fn unset_is_prometheus_only_and_the_list_is_read() {
    let none = read(&[]).unwrap();
    assert!(none.prometheus && none.otlp.is_none());
    let empty = read(&[("OTEL_METRICS_EXPORTER", " ")]).unwrap();
    assert!(empty.prometheus && empty.otlp.is_none(), "empty is unset");
    let both = read(&[("OTEL_METRICS_EXPORTER", "otlp,prometheus")]).unwrap();
    assert!(both.prometheus && both.otlp.is_some());
    let off = read(&[("OTEL_METRICS_EXPORTER", "none")]).unwrap();
    assert!(!off.prometheus && off.otlp.is_none());
    let err = read(&[("OTEL_METRICS_EXPORTER", "statsd")]).unwrap_err();
    assert!(err.to_string().contains("OTEL_METRICS_EXPORTER"), "{err}");
    assert!(read(&[("OTEL_METRICS_EXPORTER", "none,otlp")]).is_err());
}

#[test]
fn no_endpoint_is_the_protocols_default() {
    assert_eq!(otlp(&[]).endpoint, "http://localhost:4318/v1/metrics");
    let grpc = otlp(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]);
    assert_eq!(
        (grpc.protocol, grpc.endpoint.as_str()),
        (OtlpProtocol::Grpc, "http://localhost:4317")
    );
}

#[test]
fn the_metrics_variables_win_over_the_general_ones() {
    let c = otlp(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
        ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "700"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x-general=1"),
        ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "api-key=s%20ecret"),
    ]);
    assert_eq!(c.endpoint, "http://collector:4318/v1/metrics");
    assert_eq!(c.timeout, Duration::from_millis(700));
    assert_eq!(c.headers.len(), 1);
    assert_eq!(c.headers[0].0, "api-key");
    assert_eq!(c.headers[0].1.expose(), "s ecret");
    assert!(!format!("{c:?}").contains("ecret"), "headers are secrets");
    let own = otlp(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://general:4318"),
        (
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            "https://own:4318/custom",
        ),
        ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT_UNUSED", ""),
    ]);
    assert_eq!(own.endpoint, "https://own:4318/custom", "used as given");
    let empty = otlp(&[
        ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", ""),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://general:4318"),
    ]);
    assert_eq!(
        empty.endpoint, "http://general:4318/v1/metrics",
        "empty is unset"
    );
}

#[test]
fn intervals_and_temporality_are_read() {
    let c = otlp(&[
        ("OTEL_METRIC_EXPORT_INTERVAL", "15000"),
        ("OTEL_METRIC_EXPORT_TIMEOUT", "5000"),
        ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "Delta"),
    ]);
    assert_eq!(c.interval, Duration::from_secs(15));
    assert_eq!(c.export_timeout, Duration::from_secs(5));
    assert_eq!(c.temporality, Temporality::Delta);
    let d = otlp(&[]);
    assert_eq!(
        (d.interval, d.export_timeout, d.timeout, d.temporality),
        (
            Duration::from_secs(60),
            Duration::from_secs(30),
            Duration::from_secs(10),
            Temporality::Cumulative
        )
    );
}

/// The bad-input rows: each a typed error naming the variable and the value.
#[test]
fn malformed_values_are_errors_naming_the_variable_and_value() {
    for value in ["0", "-5", "abc", "1.5"] {
        let err = read(&[
            ("OTEL_METRICS_EXPORTER", "otlp"),
            ("OTEL_METRIC_EXPORT_INTERVAL", value),
        ])
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("OTEL_METRIC_EXPORT_INTERVAL") && text.contains(value),
            "{text}"
        );
    }
    let err = read(&[
        ("OTEL_METRICS_EXPORTER", "otlp"),
        (
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            "sideways",
        ),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("sideways") && err.contains("cumulative, delta or lowmemory"),
        "{err}"
    );
    let err = read(&[
        ("OTEL_METRICS_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json"),
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"), "{err}");
    let err = read(&[
        ("OTEL_METRICS_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "secretvalue"),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("OTEL_EXPORTER_OTLP_HEADERS") && !err.contains("secretvalue"),
        "{err}"
    );
}
