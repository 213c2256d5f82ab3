//! The result of evaluating the KPIs: the seed's table, measured.

use std::fmt;

use orchestrator_support::Millis;

use crate::{Direction, KpiUnit};

/// One KPI, evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiResult {
    /// Identifier.
    pub id: &'static str,
    /// Name.
    pub name: &'static str,
    /// The value, or `None` when there is no data yet (no requests, no users...).
    pub value: Option<f64>,
    /// The target.
    pub target: f64,
    /// Which way is better.
    pub direction: Direction,
    /// The unit.
    pub unit: KpiUnit,
    /// The gap to target (positive is better), when there is a value.
    pub gap: Option<f64>,
    /// The change against the previous window ([`crate::Kpi::trend`]), once the store
    /// holds the whole previous window; `None` before (never 0).
    pub trend: Option<f64>,
}

impl KpiResult {
    /// Whether the value meets its target (a missing value does not).
    pub fn met(&self) -> bool {
        self.gap.is_some_and(|g| g >= 0.0)
    }
}

/// Every KPI at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiReport {
    /// When it was evaluated (ms since the epoch).
    pub at: Millis,
    /// The KPIs, in configuration order.
    pub results: Vec<KpiResult>,
    /// The business figures over the trend period, with their trends.
    pub figures: Vec<crate::FigureResult>,
}

impl KpiReport {
    /// How many KPIs meet their target.
    pub fn met(&self) -> usize {
        self.results.iter().filter(|r| r.met()).count()
    }

    /// The KPI with this identifier.
    pub fn get(&self, id: &str) -> Option<&KpiResult> {
        self.results.iter().find(|r| r.id == id)
    }

    /// "Targets met: 3/5 (60%)".
    pub fn summary(&self) -> String {
        let total = self.results.len();
        let share = if total == 0 {
            0.0
        } else {
            100.0 * self.met() as f64 / total as f64
        };
        format!("Targets met: {}/{} ({share:.0}%)", self.met(), total)
    }
}

impl fmt::Display for KpiReport {
    /// The seed's KPI table in Markdown, then the summary line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "| KPI | Value | Target | Gap | Status |")?;
        writeln!(f, "|-----|-------|--------|-----|--------|")?;
        for r in &self.results {
            let value = r
                .value
                .map_or_else(|| "no data".to_owned(), |v| r.unit.format(v));
            let gap = r
                .gap
                .map_or_else(|| "–".to_owned(), |g| format!("{:+.1}%", g * 100.0));
            let status = match (r.value, r.met()) {
                (None, _) => "no data",
                (_, true) => "met",
                (_, false) => "missed",
            };
            writeln!(
                f,
                "| {} | {value} | {} | {gap} | {status} |",
                r.name,
                r.unit.format(r.target)
            )?;
        }
        writeln!(f)?;
        write!(f, "{}", self.summary())
    }
}
