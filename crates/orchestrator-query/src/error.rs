//! Errors building an expression.

use std::time::Duration;

/// Why an expression cannot be built. Every variant names what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    /// The metric is not in the catalogue.
    #[error("metric `{name}` is not in the catalogue (see orchestrator_metrics::catalogue::ALL)")]
    UnknownMetric {
        /// The name given.
        name: String,
    },
    /// A label is not one of the metric's labels.
    #[error("`{metric}` has no label `{label}`")]
    UnknownLabel {
        /// The series name.
        metric: String,
        /// The label.
        label: String,
    },
    /// A histogram selected without `_bucket`/`_sum`/`_count`, or one of those on a
    /// counter or gauge.
    #[error("`{metric}` {}", if *histogram { "is a histogram: select its buckets, sum or count" } else { "is not a histogram: it has no buckets, sum or count" })]
    WrongPart {
        /// The metric.
        metric: &'static str,
        /// Whether it is a histogram.
        histogram: bool,
    },
    /// `rate`/`increase` over something that is not a counter.
    #[error("{function}() needs a counter, and `{metric}` is not one")]
    NotACounter {
        /// The function.
        function: &'static str,
        /// The series.
        metric: String,
    },
    /// `avg_over_time` over something that is not a gauge.
    #[error("avg_over_time() needs a gauge, and `{metric}` is not one")]
    NotAGauge {
        /// The series.
        metric: String,
    },
    /// `histogram_quantile` over an expression whose series have no `le` label.
    #[error("histogram_quantile() needs bucket series that keep their `le` label (sum by (le))")]
    NoBuckets,
    /// A quantile outside [0, 1].
    #[error("quantile {q} is outside [0, 1]")]
    InvalidQuantile {
        /// The quantile.
        q: f64,
    },
    /// A threshold that is not a finite number.
    #[error("threshold {value} is not a finite number")]
    InvalidThreshold {
        /// The threshold.
        value: f64,
    },
    /// A window of zero, or not a whole number of milliseconds.
    #[error("window {window:?} must be a positive whole number of milliseconds")]
    InvalidWindow {
        /// The window.
        window: Duration,
    },
    /// `sum by`/`max by` a label the expression does not have.
    #[error("cannot group by `{label}`: the expression's series have labels {available:?}")]
    GroupingLabel {
        /// The label.
        label: String,
        /// What the expression has.
        available: Vec<String>,
    },
    /// A ratio of two expressions whose series do not have the same labels.
    #[error(
        "ratio of series labelled {left:?} by series labelled {right:?}: aggregate both sides to the same labels"
    )]
    LabelMismatch {
        /// Left labels.
        left: Vec<String>,
        /// Right labels.
        right: Vec<String>,
    },
}
