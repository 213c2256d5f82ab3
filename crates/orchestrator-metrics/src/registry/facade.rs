//! The `metrics` facade writes into the registry: `metrics::counter!` and friends in the
//! orchestrator's own code land beside the catalogue metrics.
//!
//! A name that the catalogue defines keeps the catalogue's type, help and buckets. Using it
//! with another type or other label names is refused: the handle returned is a no-op and a
//! warning is logged once, instead of rendering a broken family.

use std::sync::Arc;

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};

use super::family::{Cell, Family};
use super::text::{sanitize_label_name, sanitize_metric_name};
use super::{CounterHandle, GaugeHandle, HistogramHandle, Registry};
use crate::catalogue::MetricKind;

impl CounterFn for CounterHandle {
    fn increment(&self, value: u64) {
        self.cell.increment(value);
    }

    fn absolute(&self, value: u64) {
        self.cell.absolute(value);
    }
}

impl GaugeFn for GaugeHandle {
    fn increment(&self, value: f64) {
        let _ = GaugeHandle::increment(self, value);
    }

    fn decrement(&self, value: f64) {
        let _ = GaugeHandle::decrement(self, value);
    }

    fn set(&self, value: f64) {
        let _ = GaugeHandle::set(self, value);
    }
}

impl HistogramFn for HistogramHandle {
    fn record(&self, value: f64) {
        let _ = self.observe(value);
    }

    fn record_many(&self, value: f64, count: usize) {
        let _ = self.observe_many(value, count as u64);
    }
}

impl Registry {
    fn facade_cell(&self, key: &Key, kind: MetricKind) -> Option<Cell> {
        let name = sanitize_metric_name(key.name());
        let family = self.family_by_name(&name, kind);
        if family.kind != kind {
            warn_misuse(&family, || {
                format!("used as a {kind}, but it is a {}", family.kind)
            });
            return None;
        }
        let pairs: Vec<(String, &str)> = key
            .labels()
            .map(|l| (sanitize_label_name(l.key()), l.value()))
            .collect();
        match family.canonical_pairs(pairs) {
            Some(pairs) => Some(family.get_or_insert(&pairs)),
            None => {
                let got: Vec<&str> = key.labels().map(|l| l.key()).collect();
                warn_misuse(&family, || format!("used with labels {got:?}, not its own"));
                None
            }
        }
    }

    fn facade_describe(&self, key: &KeyName, kind: MetricKind, description: &str) {
        let family = self.family_by_name(&sanitize_metric_name(key.as_str()), kind);
        family.describe(description);
    }
}

fn warn_misuse(family: &Family, what: impl FnOnce() -> String) {
    if family.warn_once() {
        tracing::warn!(
            metric = %family.name,
            "metric {}: {}; the values recorded this way are dropped",
            family.name,
            what()
        );
    }
}

impl Recorder for Registry {
    fn describe_counter(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.facade_describe(&key, MetricKind::Counter, &description);
    }

    fn describe_gauge(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.facade_describe(&key, MetricKind::Gauge, &description);
    }

    fn describe_histogram(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.facade_describe(&key, MetricKind::Histogram, &description);
    }

    fn register_counter(&self, key: &Key, _metadata: &Metadata<'_>) -> Counter {
        match self.facade_cell(key, MetricKind::Counter) {
            Some(Cell::Counter(cell)) => Counter::from_arc(Arc::new(CounterHandle {
                cell,
                rejections: self.rejections().clone(),
            })),
            _ => Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _metadata: &Metadata<'_>) -> Gauge {
        match self.facade_cell(key, MetricKind::Gauge) {
            Some(Cell::Gauge(cell)) => Gauge::from_arc(Arc::new(GaugeHandle {
                cell,
                rejections: self.rejections().clone(),
            })),
            _ => Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _metadata: &Metadata<'_>) -> Histogram {
        match self.facade_cell(key, MetricKind::Histogram) {
            Some(Cell::Histogram(cell)) => Histogram::from_arc(Arc::new(HistogramHandle {
                cell,
                rejections: self.rejections().clone(),
            })),
            _ => Histogram::noop(),
        }
    }
}
