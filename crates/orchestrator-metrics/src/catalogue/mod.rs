//! The metric catalogue: every metric this library records, as documented constants.
//!
//! Dashboards, alert rules, the validation report and the README table all read these
//! definitions; nothing else spells a metric name.
//!
//! ```
//! use orchestrator_metrics::catalogue::{self, MetricKind};
//!
//! assert_eq!(catalogue::REQUESTS_TOTAL.name, "orchestrator_requests_total");
//! assert_eq!(catalogue::REQUEST_DURATION_SECONDS.kind, MetricKind::Histogram);
//! assert!(catalogue::find("orchestrator_llm_latency_seconds").is_some());
//! ```

mod agents;
mod all;
pub mod buckets;
mod defs;
mod describe;
pub mod labels;
pub mod semconv;
mod table;
mod types;

pub use agents::*;
pub use all::ALL;
pub use defs::*;
pub use describe::describe_all;
pub use table::markdown_table;
pub use types::{Group, LabelDef, LabelSource, MetricDef, MetricKind, Unit};

/// The catalogue entry with this exact metric name.
pub fn find(name: &str) -> Option<&'static MetricDef> {
    ALL.iter().copied().find(|def| def.name == name)
}

/// The catalogue entry a Prometheus series name belongs to: the metric itself, or for a
/// histogram its `_bucket`, `_sum` or `_count` series.
pub fn find_series(series: &str) -> Option<&'static MetricDef> {
    find(series).or_else(|| {
        ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
            series
                .strip_suffix(suffix)
                .and_then(find)
                .filter(|def| def.kind == MetricKind::Histogram)
        })
    })
}

#[cfg(test)]
mod tests;
