//! The report: the checks (see `checks/`) with their reasons, the scores, and the seed's
//! sections, all computed once from [`Inputs`]: each scrape parsed once, the dashboards
//! generated once. `json.rs` and `markdown.rs` render it. Pure: the same inputs give the
//! same report (the golden test relies on it).

use orchestrator_dashboards::{Context, Source, dashboards};
use orchestrator_metrics::exposition::{self, Exposition};

use super::checks::{self, Parsed};
pub use super::checks::{Check, CheckKind};
use super::inputs::Inputs;
use super::metrics::{MetricRow, rows};

/// What the report needs of a generated dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardShape {
    /// Its title.
    pub title: &'static str,
    /// How many panels.
    pub panels: usize,
    /// Its refresh interval.
    pub refresh: &'static str,
    /// How many queries its panels run.
    pub queries: usize,
    /// The orchestrator series its panels read (one entry per reference).
    pub series: Vec<&'static str>,
}

fn shapes() -> Result<Vec<DashboardShape>, String> {
    let all = Context::defaults()
        .and_then(|c| dashboards(&c))
        .map_err(|e| e.to_string())?;
    Ok(all
        .iter()
        .map(|d| DashboardShape {
            title: d.title,
            panels: d.panels.len(),
            refresh: d.refresh,
            queries: d.panels.iter().map(|p| p.queries.len()).sum(),
            series: d
                .panels
                .iter()
                .flat_map(|p| &p.queries)
                .filter_map(|q| match &q.source {
                    Source::Orchestrator(expr) => Some(expr.selectors()),
                    Source::Exporter(_) => None,
                })
                .flatten()
                .map(|(selector, _)| selector.def().name)
                .collect(),
        })
        .collect())
}

/// The validation report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// What was read.
    pub inputs: Inputs,
    /// The metrics table.
    pub metrics: Vec<MetricRow>,
    /// The checks, in section order.
    pub checks: Vec<Check>,
    /// Seconds between the two scrapes.
    pub interval_seconds: f64,
    /// Sample lines in the second scrape.
    pub samples: usize,
    /// The business metrics of the second scrape (name, formatted value).
    pub business: Vec<(&'static str, String)>,
    /// The dashboards, generated once (or why not).
    pub dashboards: Result<Vec<DashboardShape>, String>,
    /// An alert-quality run's results, given with `--alert-quality`: the report gains its
    /// section.
    pub alert_quality: Option<crate::quality::QualityResults>,
}

impl Report {
    /// Judges `inputs`.
    pub fn build(inputs: Inputs) -> Report {
        let first = exposition::parse(&inputs.first.text);
        let second = exposition::parse(&inputs.second.text);
        let parse_error = match (&first, &second) {
            (Err(e), _) | (_, Err(e)) => Some(e.to_string()),
            _ => None,
        };
        // Each scrape is parsed once; the report keeps what its renderers need.
        let (first, second) = (first.unwrap_or_default(), second.unwrap_or_default());
        let seconds = (inputs.second.at_ms - inputs.first.at_ms) as f64 / 1000.0;
        let metrics = rows(&first, &second, seconds);
        let dashboards = shapes();
        let parsed = Parsed {
            first: &first,
            second: &second,
            parse_error,
        };
        let checks = checks::run(&inputs, &parsed, &metrics, &dashboards);
        Report {
            inputs,
            metrics,
            checks,
            interval_seconds: seconds,
            samples: second.sample_count(),
            business: business(&second),
            dashboards,
            alert_quality: None,
        }
    }

    /// Whether the telemetry works: the checks passed, weighted by kind (a correctness
    /// check weighs twice a presence check), from 0 to 1.
    pub fn telemetry_score(&self) -> f64 {
        let weight = |keep: &dyn Fn(&Check) -> bool| -> f64 {
            self.checks
                .iter()
                .filter(|c| keep(c))
                .map(|c| c.kind.weight())
                .sum()
        };
        let all = weight(&|_| true);
        if all == 0.0 {
            return 0.0;
        }
        weight(&|c| c.passed) / all
    }

    /// How the business does: the mean of the share of KPIs meeting their target and the
    /// share of alert rules not firing, from 0 to 1. `None` when neither document was read.
    pub fn business_score(&self) -> Option<f64> {
        let kpis = self
            .inputs
            .kpis
            .as_ref()
            .ok()
            .filter(|k| k.total > 0)
            .map(|k| k.met as f64 / k.total as f64);
        let quiet = self
            .inputs
            .alerts
            .as_ref()
            .ok()
            .filter(|a| a.total > 0)
            .map(|a| 1.0 - a.firing as f64 / a.total as f64);
        match (kpis, quiet) {
            (Some(k), Some(q)) => Some((k + q) / 2.0),
            (one, other) => one.or(other),
        }
    }

    /// The score `--min-score` gates on and `report.json` writes as `score`: the telemetry
    /// score alone. The business score is reported beside it, never folded in: a validation
    /// of the instrumentation must not fail because the business misses its targets (a
    /// demo's 10,000-user target, a firing alert the report exists to show).
    pub fn score(&self) -> f64 {
        self.telemetry_score()
    }
}

pub(super) fn mark(ok: bool) -> &'static str {
    if ok { "✅" } else { "❌" }
}

/// `1234567.8` as `1,234,568` (with `decimals` after the point).
pub(super) fn thousands(v: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(a, b)| (a, Some(b)));
    let mut out = String::new();
    for (n, c) in int.chars().enumerate() {
        if n > 0 && (int.len() - n) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

/// The business figures, from the exposition.
pub(super) fn business(e: &Exposition) -> Vec<(&'static str, String)> {
    let sum = |name: &str| e.sum_where(name, |_| true);
    let mean = |name: &str| {
        let count = sum(&format!("{name}_count"));
        (count > 0.0).then(|| sum(&format!("{name}_sum")) / count)
    };
    let sessions = sum("orchestrator_sessions_total");
    let conversions = sum("orchestrator_conversions_total");
    let users = e
        .samples("orchestrator_active_users")
        .find(|s| s.label("window") == Some("30d"))
        .map(|s| s.value);
    let refused = orchestrator_metrics::catalogue::TENANT_BUDGET_REJECTIONS_TOTAL.name;
    // Only where a budget enforces (its series exist then).
    let refusals = e
        .samples(refused)
        .next()
        .is_some()
        .then(|| ("LLM calls refused by budgets", thousands(sum(refused), 0)));
    let mut rows = vec![
        (
            "API requests",
            thousands(sum("orchestrator_requests_total"), 0),
        ),
        (
            "Revenue",
            format!("${}", thousands(sum("orchestrator_revenue_usd_total"), 2)),
        ),
        (
            "LLM spend",
            format!("${}", thousands(sum("orchestrator_llm_cost_usd_total"), 4)),
        ),
        ("Sessions", thousands(sessions, 0)),
        ("Conversions", thousands(conversions, 0)),
        (
            "Conversion rate",
            if sessions > 0.0 {
                format!("{:.2}%", conversions / sessions * 100.0)
            } else {
                "–".to_owned()
            },
        ),
        (
            "Distinct users (30 d)",
            users.map_or("–".to_owned(), |u| thousands(u, 0)),
        ),
        (
            "Satisfaction",
            mean("orchestrator_user_satisfaction_score")
                .map_or("–".to_owned(), |m| format!("{m:.2}/10")),
        ),
        (
            "Quality",
            mean("orchestrator_quality_score").map_or("–".to_owned(), |m| format!("{m:.2}/100")),
        ),
    ];
    if let Some(row) = refusals {
        rows.insert(3, row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::{business, thousands};
    use orchestrator_metrics::exposition;

    #[test]
    fn refusals_are_a_business_row_where_a_budget_enforces() {
        let observing = exposition::parse("orchestrator_llm_cost_usd_total 1.5\n").unwrap();
        assert!(
            business(&observing)
                .iter()
                .all(|(name, _)| !name.contains("refused"))
        );
        let enforcing = exposition::parse(
            "orchestrator_tenant_budget_rejections_total{tenant=\"acme\",period=\"1d\"} 1234\n",
        )
        .unwrap();
        assert_eq!(
            business(&enforcing)[3],
            ("LLM calls refused by budgets", "1,234".to_owned())
        );
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(1234567.0, 0), "1,234,567");
        assert_eq!(thousands(999.0, 0), "999");
        assert_eq!(thousands(21047.371, 2), "21,047.37");
        assert_eq!(thousands(-1000.0, 0), "-1,000");
    }
}
