//! Describing the catalogue through the `metrics` facade.

use super::{ALL, MetricKind};

/// Registers the help text and unit of every catalogue metric with the `metrics` facade's
/// current recorder (`describe_counter!` and friends).
///
/// [`Registry`](crate::Registry) already knows the catalogue; call this when the catalogue
/// names are recorded through another `metrics` recorder, so that it renders the same help.
pub fn describe_all() {
    for def in ALL {
        let unit = def.unit.to_metrics_unit();
        let name = def.name;
        let help = def.help;
        match (def.kind, unit) {
            (MetricKind::Counter, Some(unit)) => metrics::describe_counter!(name, unit, help),
            (MetricKind::Counter, None) => metrics::describe_counter!(name, help),
            (MetricKind::Gauge, Some(unit)) => metrics::describe_gauge!(name, unit, help),
            (MetricKind::Gauge, None) => metrics::describe_gauge!(name, help),
            (MetricKind::Histogram, Some(unit)) => metrics::describe_histogram!(name, unit, help),
            (MetricKind::Histogram, None) => metrics::describe_histogram!(name, help),
        }
    }
}
