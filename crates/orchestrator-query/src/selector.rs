//! Series selectors over the catalogue: `metric{label="value"}`.

use orchestrator_metrics::catalogue::{self, MetricDef, MetricKind};

use crate::ExprError;

/// Which series of a metric a selector reads: the metric itself, or a histogram's
/// `_bucket`, `_sum` or `_count` series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The metric's own series (counters and gauges).
    Whole,
    /// A histogram's cumulative bucket counters (they carry an `le` label).
    Bucket,
    /// A histogram's sum of observations (a counter).
    Sum,
    /// A histogram's count of observations (a counter).
    Count,
}

impl Part {
    fn suffix(self) -> &'static str {
        match self {
            Part::Whole => "",
            Part::Bucket => "_bucket",
            Part::Sum => "_sum",
            Part::Count => "_count",
        }
    }
}

/// How a matcher compares a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `label="value"`
    Eq,
    /// `label!="value"`
    Ne,
}

/// One label matcher.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Matcher {
    /// The label name.
    pub label: String,
    /// The comparison.
    pub op: MatchOp,
    /// The value compared with. An absent label compares as the empty string, as in
    /// Prometheus.
    pub value: String,
}

impl Matcher {
    /// Whether a series whose label has `actual` (`None` when absent) matches.
    pub fn matches(&self, actual: Option<&str>) -> bool {
        let actual = actual.unwrap_or("");
        match self.op {
            MatchOp::Eq => actual == self.value,
            MatchOp::Ne => actual != self.value,
        }
    }
}

/// Selects the series of one catalogue metric, optionally filtered by labels.
///
/// ```
/// use orchestrator_metrics::catalogue;
/// use orchestrator_query::Selector;
///
/// let api_errors = Selector::of(&catalogue::ERRORS_TOTAL).eq("component", "api");
/// assert_eq!(api_errors.to_string(), r#"orchestrator_errors_total{component="api"}"#);
/// assert!(Selector::named("orchestrator_request_durations_total").is_err()); // not in the catalogue
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub(crate) def: &'static MetricDef,
    pub(crate) part: Part,
    pub(crate) matchers: Vec<Matcher>,
}

impl Selector {
    /// The series of a counter or gauge.
    pub fn of(def: &'static MetricDef) -> Self {
        Selector {
            def,
            part: Part::Whole,
            matchers: Vec::new(),
        }
    }

    /// A histogram's `_bucket` series.
    pub fn buckets(def: &'static MetricDef) -> Self {
        Selector {
            def,
            part: Part::Bucket,
            matchers: Vec::new(),
        }
    }

    /// A histogram's `_sum` series.
    pub fn sum(def: &'static MetricDef) -> Self {
        Selector {
            def,
            part: Part::Sum,
            matchers: Vec::new(),
        }
    }

    /// A histogram's `_count` series.
    pub fn count(def: &'static MetricDef) -> Self {
        Selector {
            def,
            part: Part::Count,
            matchers: Vec::new(),
        }
    }

    /// The selector of a series name (`orchestrator_requests_total`,
    /// `orchestrator_request_duration_seconds_bucket`, ...). A name the catalogue does not
    /// define is [`ExprError::UnknownMetric`], naming it.
    pub fn named(series: &str) -> Result<Self, ExprError> {
        let def = catalogue::find_series(series).ok_or_else(|| ExprError::UnknownMetric {
            name: series.to_owned(),
        })?;
        let part = match series.strip_prefix(def.name) {
            Some("_bucket") => Part::Bucket,
            Some("_sum") => Part::Sum,
            Some("_count") => Part::Count,
            _ => Part::Whole,
        };
        Ok(Selector {
            def,
            part,
            matchers: Vec::new(),
        })
    }

    /// Adds `label="value"`.
    pub fn eq(mut self, label: &str, value: &str) -> Self {
        self.matchers.push(Matcher {
            label: label.to_owned(),
            op: MatchOp::Eq,
            value: value.to_owned(),
        });
        self
    }

    /// Adds `label!="value"`.
    pub fn ne(mut self, label: &str, value: &str) -> Self {
        self.matchers.push(Matcher {
            label: label.to_owned(),
            op: MatchOp::Ne,
            value: value.to_owned(),
        });
        self
    }

    /// The metric definition.
    pub fn def(&self) -> &'static MetricDef {
        self.def
    }

    /// The series name (with the histogram suffix).
    pub fn series_name(&self) -> String {
        format!("{}{}", self.def.name, self.part.suffix())
    }

    /// The matchers.
    pub fn matchers(&self) -> &[Matcher] {
        &self.matchers
    }

    /// Which series of the metric it reads.
    pub fn part(&self) -> Part {
        self.part
    }

    /// Whether a series of `name` with `labels` is selected.
    pub fn matches<'a>(&self, name: &str, labels: impl Fn(&str) -> Option<&'a str>) -> bool {
        name.strip_prefix(self.def.name) == Some(self.part.suffix())
            && self.matchers.iter().all(|m| m.matches(labels(&m.label)))
    }

    /// The labels the selected series carry.
    pub(crate) fn labels(&self) -> Vec<String> {
        let mut labels: Vec<String> = self.def.label_names().map(str::to_owned).collect();
        if self.part == Part::Bucket {
            labels.push("le".to_owned());
        }
        labels
    }

    /// Whether the selected series are counters (what `rate` and `increase` need).
    pub(crate) fn is_counter(&self) -> bool {
        matches!(
            (self.def.kind, self.part),
            (MetricKind::Counter, Part::Whole)
                | (
                    MetricKind::Histogram,
                    Part::Bucket | Part::Sum | Part::Count
                )
        )
    }

    /// Checks the part fits the metric type and every matcher names one of its labels.
    pub(crate) fn validate(&self) -> Result<(), ExprError> {
        let histogram = self.def.kind == MetricKind::Histogram;
        if histogram == (self.part == Part::Whole) {
            return Err(ExprError::WrongPart {
                metric: self.def.name,
                histogram,
            });
        }
        let labels = self.labels();
        for m in &self.matchers {
            if !labels.contains(&m.label) {
                return Err(ExprError::UnknownLabel {
                    metric: self.series_name(),
                    label: m.label.clone(),
                });
            }
        }
        Ok(())
    }
}
