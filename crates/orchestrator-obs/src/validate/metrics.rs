//! The metrics table: per catalogue metric, its samples, its rate between the two scrapes
//! and, for histograms, its p95 over that interval.

use orchestrator_metrics::catalogue::{self, MetricDef, MetricKind};
use orchestrator_metrics::exposition::{Exposition, histogram_quantile_in};

/// Metrics that cannot have a value in a fresh process: churn compares with a previous
/// 30-day window, and lifetime value divides by churn. Absent is their honest state.
pub const NOT_COMPUTABLE: [&str; 2] = [
    catalogue::CHURN_RATIO.name,
    catalogue::CUSTOMER_LIFETIME_VALUE_USD.name,
];

/// Metrics exported only when their feature is configured: the budget series exist once a
/// budget does (the rejections and holds once a budget enforces, the shared flag once a
/// store keeps them).
pub const ONLY_WHEN_CONFIGURED: [&str; 7] = [
    catalogue::TENANT_BUDGET_USD.name,
    catalogue::TENANT_BUDGET_SPEND_RATIO.name,
    catalogue::TENANT_BUDGET_SPEND_USD_TOTAL.name,
    catalogue::TENANT_BUDGET_RATE_USD.name,
    catalogue::TENANT_BUDGET_REJECTIONS_TOTAL.name,
    catalogue::TENANT_BUDGET_RESERVED_USD.name,
    catalogue::TENANT_BUDGET_SHARED.name,
];

/// Metrics exported only once the service records an agent run or a tool call: a
/// service without agents has none of them.
pub fn only_with_agents(name: &str) -> bool {
    catalogue::ALL
        .iter()
        .any(|def| def.name == name && def.group == catalogue::Group::Agents)
}

/// Why `name` may honestly be absent (`None`: it must be exposed).
pub fn honest_absence(name: &str) -> Option<&'static str> {
    if NOT_COMPUTABLE.contains(&name) {
        Some("absent, as it must be until a previous 30-day window exists")
    } else if ONLY_WHEN_CONFIGURED.contains(&name) {
        Some("absent: exported once a budget is configured")
    } else if only_with_agents(name) {
        Some("absent: exported once an agent run or a tool call is recorded")
    } else {
        None
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// The metric.
    pub name: &'static str,
    /// Its type.
    pub kind: &'static str,
    /// Sample lines in the second scrape (a histogram's buckets, sum and count included).
    pub samples: usize,
    /// Per second between the scrapes: counters' increase, histograms' observations.
    pub rate: Option<f64>,
    /// For histograms, the p95 of the observations between the scrapes (of all of them if
    /// none happened in between).
    pub p95: Option<f64>,
    /// The bucket `(lower, upper]` the p95 fell in, when too wide for the value to be
    /// within 10 % of the truth (the report then shows the bucket).
    pub p95_bucket: Option<(f64, f64)>,
    /// Whether it was exposed.
    pub present: bool,
}

fn family_samples(e: &Exposition, def: &MetricDef) -> usize {
    e.family(def.name).map_or(0, |f| f.samples.len())
}

fn total(e: &Exposition, def: &MetricDef) -> f64 {
    match def.kind {
        MetricKind::Histogram => e.sum_where(&format!("{}_count", def.name), |_| true),
        _ => e.sum_where(def.name, |_| true),
    }
}

/// The rows, in catalogue order.
pub fn rows(first: &Exposition, second: &Exposition, seconds: f64) -> Vec<MetricRow> {
    catalogue::ALL
        .iter()
        .map(|def| {
            let samples = family_samples(second, def);
            let present = samples > 0;
            let rate = match def.kind {
                MetricKind::Counter | MetricKind::Histogram if present && seconds > 0.0 => {
                    Some(((total(second, def) - total(first, def)).max(0.0)) / seconds)
                }
                _ => None,
            };
            let p95 = (def.kind == MetricKind::Histogram && present).then(|| {
                let after = second.buckets(def.name, |_| true);
                let before = first.buckets(def.name, |_| true);
                let deltas: Vec<(f64, f64)> = after
                    .iter()
                    .map(|&(le, c)| {
                        let b = before
                            .iter()
                            .find(|(l, _)| *l == le)
                            .map_or(0.0, |(_, c)| *c);
                        (le, (c - b).max(0.0))
                    })
                    .collect();
                let moved = deltas.last().is_some_and(|(_, c)| *c > 0.0);
                histogram_quantile_in(0.95, if moved { &deltas } else { &after })
            });
            MetricRow {
                name: def.name,
                kind: def.kind.as_str(),
                samples,
                rate,
                p95: p95.flatten().map(|q| q.value),
                p95_bucket: p95
                    .flatten()
                    .filter(|q| !q.is_precise())
                    .map(|q| (q.lower, q.upper)),
                present,
            }
        })
        .collect()
}
