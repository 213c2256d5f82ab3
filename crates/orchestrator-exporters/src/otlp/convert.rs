//! The registry as an OTLP `ExportMetricsServiceRequest`, built from the cells directly:
//! counters as monotonic sums, gauges, histograms as explicit-bucket histograms with their
//! exemplars, the GenAI conventions' families under their dotted names (the seed series they
//! stand for left out when asked), cumulative or delta.
//!
//! Delta is computed per series against the values of the last push that reached the
//! backend: a push that fails changes nothing, so the next one carries both intervals (its
//! start time says so). A series seen for the first time, made again (a new creation
//! time), or whose count went down reports its whole value since its creation.

use hashbrown::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, Gauge, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, exemplar, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use orchestrator_metrics::catalogue::{MetricKind, semconv};
use orchestrator_metrics::{FamilyRef, Registry, SeriesRef};

use super::config::Temporality;

/// A built request and how many data points it carries (what a failed push drops).
#[derive(Debug)]
pub struct Built {
    /// The request.
    pub request: ExportMetricsServiceRequest,
    /// Its data points.
    pub points: usize,
}

/// One series' values at a push.
#[derive(Debug, Clone, Default)]
struct Values {
    created: f64,
    time_ns: u64,
    /// A counter's value, or a histogram's bucket counts then its sum.
    values: Vec<f64>,
}

/// One series' values at the last push the backend took, and at the last one built (which
/// replace them once it is taken). The two buffers swap on commit, so a push allocates
/// nothing per known series.
#[derive(Debug, Default)]
struct Baseline {
    committed: Values,
    has_committed: bool,
    staged: Values,
    has_staged: bool,
}

/// A series, by family name and label text.
type SeriesKey = (Box<str>, Box<str>);

/// Finds a [`SeriesKey`] from borrowed text: no allocation per series and push.
#[derive(Hash)]
struct SeriesKeyRef<'a>(&'a str, &'a str);

impl hashbrown::Equivalent<SeriesKey> for SeriesKeyRef<'_> {
    fn equivalent(&self, key: &SeriesKey) -> bool {
        *key.0 == *self.0 && *key.1 == *self.1
    }
}

/// Turns registry reads into requests; keeps the delta baselines.
#[derive(Debug)]
pub struct Converter {
    temporality: Temporality,
    conventions_only: bool,
    resource: Vec<KeyValue>,
    baselines: HashMap<SeriesKey, Baseline>,
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..Default::default()
    }
}

fn nanos(seconds: f64) -> u64 {
    (seconds.max(0.0) * 1e9) as u64
}

/// UCUM for the catalogue's units.
fn ucum(unit: Option<&str>) -> &'static str {
    match unit {
        Some("seconds") => "s",
        Some("bytes") => "By",
        Some("usd") => "{USD}",
        Some("tokens") => "{token}",
        Some("score") => "{score}",
        Some("ratio") => "1",
        _ => "",
    }
}

impl Converter {
    /// A converter for `temporality`, describing the process with `resource` (key, value).
    pub fn new(temporality: Temporality, resource: &[(String, String)]) -> Self {
        Converter {
            temporality,
            conventions_only: false,
            resource: resource.iter().map(|(k, v)| kv(k, v)).collect(),
            baselines: HashMap::new(),
        }
    }

    /// Leaves out the seed series the conventions' metrics stand for.
    pub fn conventions_only(mut self, only: bool) -> Self {
        self.conventions_only = only;
        self
    }

    /// Reads `registry` now and builds the request.
    pub fn build(&mut self, registry: &Registry) -> Built {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        self.build_at(registry, now)
    }

    /// As [`build`](Self::build), with the time of the read given.
    pub fn build_at(&mut self, registry: &Registry, now_ns: u64) -> Built {
        let mut metrics = Vec::new();
        let mut points = 0;
        registry.visit_families(|family| {
            if let Some(metric) = self.metric(family, now_ns) {
                points += data_points(&metric);
                metrics.push(metric);
            }
        });
        let request = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: self.resource.clone(),
                    ..Default::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: "orchestrator-telemetry".to_owned(),
                        version: env!("CARGO_PKG_VERSION").to_owned(),
                        ..Default::default()
                    }),
                    metrics,
                    schema_url: semconv::SCHEMA_URL.to_owned(),
                }],
                schema_url: String::new(),
            }],
        };
        Built { request, points }
    }

    /// The push of the last built request reached the backend: its values become the
    /// baselines of the next deltas.
    pub fn commit(&mut self) {
        for baseline in self.baselines.values_mut() {
            if baseline.has_staged {
                std::mem::swap(&mut baseline.committed, &mut baseline.staged);
                baseline.has_committed = true;
                baseline.has_staged = false;
            }
        }
    }

    fn metric(&mut self, family: &FamilyRef<'_>, now_ns: u64) -> Option<Metric> {
        let conventions = semconv::find(family.name());
        let (name, unit) = match conventions {
            Some(m) => (m.otlp_name.to_owned(), m.otlp_unit),
            None => (family.name().to_owned(), ucum(family.unit())),
        };
        let temporality = if self.temporality.is_delta() {
            AggregationTemporality::Delta
        } else {
            AggregationTemporality::Cumulative
        } as i32;
        let mut numbers = Vec::new();
        let mut histograms = Vec::new();
        for series in family.series() {
            if self.conventions_only
                && conventions.is_none()
                && semconv::has_counterpart(family.name(), series.label("token_type").as_deref())
            {
                continue;
            }
            let attributes = attributes(&series, conventions.is_some());
            match family.kind() {
                MetricKind::Counter => {
                    let Some(value) = series.value() else {
                        continue;
                    };
                    let (start, value) = self.delta(family.name(), &series, now_ns, &[value]);
                    numbers.push(number(attributes, start, now_ns, value[0]));
                }
                MetricKind::Gauge => {
                    let Some(value) = series.value() else {
                        continue;
                    };
                    numbers.push(number(attributes, nanos(series.created()), now_ns, value));
                }
                MetricKind::Histogram => {
                    histograms.push(self.histogram(family.name(), &series, attributes, now_ns));
                }
            }
        }
        let data = match family.kind() {
            MetricKind::Counter if numbers.is_empty() => return None,
            MetricKind::Counter => metric::Data::Sum(Sum {
                data_points: numbers,
                aggregation_temporality: temporality,
                is_monotonic: true,
            }),
            MetricKind::Gauge if numbers.is_empty() => return None,
            MetricKind::Gauge => metric::Data::Gauge(Gauge {
                data_points: numbers,
            }),
            MetricKind::Histogram if histograms.is_empty() => return None,
            MetricKind::Histogram => metric::Data::Histogram(Histogram {
                data_points: histograms,
                aggregation_temporality: temporality,
            }),
        };
        Some(Metric {
            name,
            description: family.help(),
            unit: unit.to_owned(),
            data: Some(data),
            ..Default::default()
        })
    }

    fn histogram(
        &mut self,
        name: &str,
        series: &SeriesRef<'_>,
        attributes: Vec<KeyValue>,
        now_ns: u64,
    ) -> HistogramDataPoint {
        let mut bounds = Vec::new();
        let mut values = Vec::new();
        for (bound, count) in series.buckets().into_iter().flatten() {
            if bound.is_finite() {
                bounds.push(bound);
            }
            values.push(count as f64);
        }
        values.push(series.sum().unwrap_or(0.0));
        let (start, delta) = self.delta(name, series, now_ns, &values);
        let (sum, counts) = delta.split_last().unwrap_or((&0.0, &[]));
        let bucket_counts: Vec<u64> = counts.iter().map(|c| *c as u64).collect();
        let exemplars = (0..bucket_counts.len())
            .filter_map(|bucket| series.exemplar(bucket))
            .filter(|e| nanos(e.at) >= start)
            .map(|e| Exemplar {
                time_unix_nano: nanos(e.at),
                span_id: e.exemplar.span_id().to_vec(),
                trace_id: e.exemplar.trace_id().to_vec(),
                value: Some(exemplar::Value::AsDouble(e.value)),
                ..Default::default()
            })
            .collect();
        HistogramDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: now_ns,
            count: bucket_counts.iter().sum(),
            sum: Some(*sum),
            bucket_counts,
            explicit_bounds: bounds,
            exemplars,
            ..Default::default()
        }
    }

    /// The values to report and their start time: `values` themselves when cumulative, or
    /// the change since the series' baseline when delta (staging `values` as the next one).
    fn delta(
        &mut self,
        name: &str,
        series: &SeriesRef<'_>,
        now_ns: u64,
        values: &[f64],
    ) -> (u64, Vec<f64>) {
        let created = series.created();
        if !self.temporality.is_delta() {
            return (nanos(created), values.to_vec());
        }
        let baseline = match self
            .baselines
            .get_mut(&SeriesKeyRef(name, series.labels_text()))
        {
            Some(baseline) => baseline,
            None => self
                .baselines
                .entry((name.into(), series.labels_text().into()))
                .or_default(),
        };
        let counts = values.len().saturating_sub(1).max(1).min(values.len());
        let previous = Some(&baseline.committed).filter(|b| {
            baseline.has_committed
                && b.created == created
                && b.values.len() == values.len()
                // A histogram's sum (last) may go down with negative observations; its
                // counts, and a counter, may not.
                && b.values[..counts]
                    .iter()
                    .zip(values)
                    .all(|(before, now)| now >= before)
        });
        let reported = match previous {
            Some(b) => (
                b.time_ns,
                values.iter().zip(&b.values).map(|(v, b)| v - b).collect(),
            ),
            None => (nanos(created), values.to_vec()),
        };
        baseline.has_staged = true;
        let staged = &mut baseline.staged;
        staged.created = created;
        staged.time_ns = now_ns;
        staged.values.clear();
        staged.values.extend_from_slice(values);
        reported
    }
}

/// A series' labels as attributes: the conventions' keys for their families, the label
/// names otherwise; an empty value is no attribute (`error.type` of a success).
fn attributes(series: &SeriesRef<'_>, conventions: bool) -> Vec<KeyValue> {
    series
        .label_pairs()
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| {
            let key = conventions
                .then(|| semconv::attribute(&k))
                .flatten()
                .unwrap_or(&k);
            kv(key, &v)
        })
        .collect()
}

fn number(attributes: Vec<KeyValue>, start: u64, now: u64, value: f64) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: now,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn data_points(metric: &Metric) -> usize {
    match &metric.data {
        Some(metric::Data::Sum(s)) => s.data_points.len(),
        Some(metric::Data::Gauge(g)) => g.data_points.len(),
        Some(metric::Data::Histogram(h)) => h.data_points.len(),
        _ => 0,
    }
}
