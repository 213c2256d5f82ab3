//! The types a catalogue entry is made of.

use std::fmt;

/// The Prometheus instrument type of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// A monotonically increasing value; its name ends in `_total`.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations counted into explicit cumulative buckets, with `_sum` and `_count`.
    Histogram,
}

impl MetricKind {
    /// The word used on the `# TYPE` line of the text exposition format.
    pub const fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        }
    }
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The unit of a metric's values. Names carry the base unit as a suffix, following the
/// Prometheus naming conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Seconds (the base unit of time).
    Seconds,
    /// Bytes.
    Bytes,
    /// US dollars.
    Usd,
    /// LLM tokens.
    Tokens,
    /// A dimensionless score on a documented scale (0–10, 0–100).
    Score,
    /// A plain count of events or things.
    Count,
    /// A dimensionless fraction between 0 and 1.
    Ratio,
}

impl Unit {
    /// A short lower-case name for the unit, as printed in documentation tables.
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::Bytes => "bytes",
            Unit::Usd => "usd",
            Unit::Tokens => "tokens",
            Unit::Score => "score",
            Unit::Count => "count",
            Unit::Ratio => "ratio",
        }
    }

    /// The matching unit of the `metrics` facade, used when describing metrics through it.
    pub const fn to_metrics_unit(self) -> Option<metrics::Unit> {
        match self {
            Unit::Seconds => Some(metrics::Unit::Seconds),
            Unit::Bytes => Some(metrics::Unit::Bytes),
            Unit::Count | Unit::Tokens => Some(metrics::Unit::Count),
            Unit::Usd | Unit::Score | Unit::Ratio => None,
        }
    }
}

/// Where the values of a label come from, which decides whether it needs a cardinality guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelSource {
    /// Values come from a closed set fixed by this library (an enum, a normalised HTTP
    /// method, an HTTP status code). Listed when the set is small.
    Closed(&'static [&'static str]),
    /// Values can come from outside (a route template, a model name, a cache name): every
    /// value goes through the cardinality guard, which folds overflow into `"other"`.
    Guarded,
}

/// One label of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelDef {
    /// The label name.
    pub name: &'static str,
    /// Where its values come from.
    pub source: LabelSource,
}

impl LabelDef {
    /// A label whose values come from a closed set.
    pub const fn closed(name: &'static str, values: &'static [&'static str]) -> Self {
        LabelDef {
            name,
            source: LabelSource::Closed(values),
        }
    }

    /// A label whose values can come from outside and go through the cardinality guard.
    pub const fn guarded(name: &'static str) -> Self {
        LabelDef {
            name,
            source: LabelSource::Guarded,
        }
    }

    /// Whether values of this label go through the cardinality guard.
    pub const fn is_guarded(&self) -> bool {
        matches!(self.source, LabelSource::Guarded)
    }
}

/// The definition of one metric: the single place its name, type, unit, help text, labels and
/// bucket layout are spelled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricDef {
    /// The full Prometheus metric name.
    pub name: &'static str,
    /// The instrument type.
    pub kind: MetricKind,
    /// The unit of its values.
    pub unit: Unit,
    /// The help text, rendered on the `# HELP` line.
    pub help: &'static str,
    /// The label names, in rendering order.
    pub labels: &'static [LabelDef],
    /// Upper bounds of the histogram buckets, strictly increasing, without `+Inf`. Empty for
    /// counters and gauges.
    pub buckets: &'static [f64],
    /// The group the metric belongs to, for documentation and dashboards.
    pub group: Group,
}

impl MetricDef {
    /// The label names, in rendering order.
    pub fn label_names(&self) -> impl ExactSizeIterator<Item = &'static str> + '_ {
        self.labels.iter().map(|l| l.name)
    }

    /// The label definition with this name, if the metric has it.
    pub fn label(&self, name: &str) -> Option<&'static LabelDef> {
        self.labels.iter().find(|l| l.name == name)
    }

    /// The names of the series Prometheus stores for this metric: the name itself for
    /// counters and gauges; `_bucket`, `_sum` and `_count` for histograms.
    pub fn series_names(&self) -> Vec<String> {
        match self.kind {
            MetricKind::Histogram => ["_bucket", "_sum", "_count"]
                .iter()
                .map(|suffix| format!("{}{suffix}", self.name))
                .collect(),
            MetricKind::Counter | MetricKind::Gauge => vec![self.name.to_owned()],
        }
    }
}

/// The group a metric belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// The eight core metrics of the orchestrator.
    Core,
    /// Business metrics: revenue, satisfaction, sessions, conversions, quality.
    Business,
    /// LLM usage following the OpenTelemetry GenAI semantic conventions.
    GenAi,
    /// Agent runs and the tools they call.
    Agents,
    /// Infrastructure the orchestrator calls: database, cache, external APIs, memory limit.
    Dependencies,
    /// The telemetry library observing itself.
    SelfMonitoring,
}

impl Group {
    /// A short title for documentation tables.
    pub const fn title(self) -> &'static str {
        match self {
            Group::Core => "core",
            Group::Business => "business",
            Group::GenAi => "genai",
            Group::Agents => "agents",
            Group::Dependencies => "dependencies",
            Group::SelfMonitoring => "self-monitoring",
        }
    }
}
