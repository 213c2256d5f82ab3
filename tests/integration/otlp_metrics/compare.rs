//! Reading a pushed OTLP request back as Prometheus samples, to compare with the exposition
//! taken at the same instant.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Metric, metric, number_data_point};
use orchestrator_telemetry::orchestrator_metrics::catalogue::semconv;
use orchestrator_telemetry::orchestrator_metrics::exposition::{Exposition, FamilyType};

/// The attributes of a point, as the label pairs they came from (sorted).
pub fn labels(attributes: &[KeyValue], conventions: bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = attributes
        .iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                other => panic!("a string attribute, not {other:?}"),
            };
            let key = if conventions {
                semconv::ATTRIBUTES
                    .iter()
                    .find(|(_, a)| *a == kv.key)
                    .map(|(l, _)| l.to_string())
                    .unwrap_or_else(|| panic!("{} is in the mapping table", kv.key))
            } else {
                kv.key.clone()
            };
            (key, value)
        })
        .collect();
    out.sort();
    out
}

/// The value of the exposition sample `name{labels}` (empty labels ignored, `le` compared
/// as a number).
fn sample(
    exposition: &Exposition,
    name: &str,
    labels: &[(String, String)],
    le: Option<f64>,
) -> f64 {
    let found: Vec<f64> = exposition
        .samples(name)
        .filter(|s| {
            let mut own: Vec<(String, String)> = s
                .labels
                .iter()
                .filter(|(k, v)| !v.is_empty() && k != "le")
                .cloned()
                .collect();
            own.sort();
            let le_matches = match le {
                None => true,
                Some(bound) => s.labels.iter().any(|(k, v)| {
                    k == "le"
                        && (v.parse::<f64>().ok() == Some(bound)
                            || (v == "+Inf" && bound.is_infinite()))
                }),
            };
            own == labels && le_matches
        })
        .map(|s| s.value)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one sample {name}{labels:?} le={le:?}, found {found:?}"
    );
    found[0]
}

/// The metrics of a request.
pub fn metrics(request: &ExportMetricsServiceRequest) -> Vec<&Metric> {
    request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .collect()
}

fn double(value: Option<number_data_point::Value>) -> f64 {
    match value {
        Some(number_data_point::Value::AsDouble(v)) => v,
        other => panic!("a double, not {other:?}"),
    }
}

/// Checks every pushed point against the exposition; returns the points compared.
pub fn check_equal(request: &ExportMetricsServiceRequest, exposition: &Exposition) -> usize {
    let mut compared = 0;
    for metric in metrics(request) {
        let conventions = semconv::GEN_AI_METRICS
            .iter()
            .find(|m| m.otlp_name == metric.name);
        let family = conventions.map_or(metric.name.as_str(), |m| m.def.name);
        let numbers = match metric.data.as_ref().expect("data") {
            metric::Data::Sum(sum) => {
                assert!(sum.is_monotonic, "{family}: counters are monotonic sums");
                &sum.data_points
            }
            metric::Data::Gauge(gauge) => &gauge.data_points,
            metric::Data::Histogram(h) => {
                for p in &h.data_points {
                    let l = labels(&p.attributes, conventions.is_some());
                    assert_eq!(p.bucket_counts.len(), p.explicit_bounds.len() + 1);
                    let mut cumulative = 0;
                    let bounds = p.explicit_bounds.iter().copied().chain([f64::INFINITY]);
                    for (count, bound) in p.bucket_counts.iter().zip(bounds) {
                        cumulative += count;
                        let bucket = format!("{family}_bucket");
                        assert_eq!(
                            cumulative as f64,
                            sample(exposition, &bucket, &l, Some(bound)),
                            "{family}{l:?} le={bound}"
                        );
                    }
                    let count = sample(exposition, &format!("{family}_count"), &l, None);
                    assert_eq!(p.count as f64, count, "{family}{l:?} count");
                    let sum = sample(exposition, &format!("{family}_sum"), &l, None);
                    assert_eq!(p.sum, Some(sum), "{family}{l:?} sum");
                    compared += 1;
                }
                continue;
            }
            other => panic!("{family}: an unexpected data type {other:?}"),
        };
        for p in numbers {
            let l = labels(&p.attributes, conventions.is_some());
            let expected = sample(exposition, family, &l, None);
            assert_eq!(double(p.value), expected, "{family}{l:?}");
            compared += 1;
        }
    }
    compared
}

/// The series of the exposition that the push should carry (with `conventions_only`, the
/// seed series the conventions stand for left out).
pub fn exposition_series(exposition: &Exposition, conventions_only: bool) -> usize {
    exposition
        .families
        .iter()
        .map(|f| match f.kind {
            FamilyType::Histogram => f
                .samples
                .iter()
                .filter(|s| s.name.ends_with("_count"))
                .filter(|s| {
                    let token_type = s
                        .labels
                        .iter()
                        .find(|(k, _)| k == "token_type")
                        .map(|(_, v)| v.as_str());
                    !(conventions_only && semconv::has_counterpart(&f.name, token_type))
                })
                .count(),
            _ if conventions_only && semconv::has_counterpart(&f.name, None) => 0,
            _ => f.samples.len(),
        })
        .sum()
}
