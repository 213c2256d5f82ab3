//! The report's checks, one module per component, each returning typed [`Check`]s with the
//! measured reason. [`run`] calls them in section order over what was read once: the two
//! parsed scrapes, the documents and the dashboards generated once.

mod alerts;
mod collection;
mod correctness;
mod dashboards;
mod kpis;
mod metrics;
mod prometheus;
mod traces;

use orchestrator_metrics::exposition::Exposition;

use super::inputs::Inputs;
use super::metrics::MetricRow;
use super::report::DashboardShape;

/// What a check proves, and so what it weighs in the telemetry score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// Something is there and answers (a metric exposed, an endpoint up). Weight 1.
    Presence,
    /// What is there is right (histogram counts agree, counters never decrease, every KPI
    /// has data, Prometheus's rules are healthy). Weight 2.
    Correctness,
}

impl CheckKind {
    /// Its weight in the telemetry score.
    pub fn weight(self) -> f64 {
        match self {
            CheckKind::Presence => 1.0,
            CheckKind::Correctness => 2.0,
        }
    }

    /// `presence` or `correctness`, as `report.json` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Presence => "presence",
            CheckKind::Correctness => "correctness",
        }
    }
}

/// One check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The component checked: `metrics`, `kpis`, `alerts`, `traces`, `dashboards`,
    /// `collection`, `prometheus`, `alertmanager`.
    pub component: &'static str,
    /// Presence or correctness.
    pub kind: CheckKind,
    /// What was checked.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Why, with the measured figure.
    pub reason: String,
}

/// The checks of one component, in order.
pub(crate) struct Checks<'a> {
    component: &'static str,
    out: &'a mut Vec<Check>,
}

impl<'a> Checks<'a> {
    fn new(component: &'static str, out: &'a mut Vec<Check>) -> Self {
        Checks { component, out }
    }

    fn push(&mut self, kind: CheckKind, name: &str, passed: bool, reason: String) {
        self.out.push(Check {
            component: self.component,
            kind,
            name: name.to_owned(),
            passed,
            reason,
        });
    }

    /// Something is there.
    pub(crate) fn presence(&mut self, name: &str, passed: bool, reason: String) {
        self.push(CheckKind::Presence, name, passed, reason);
    }

    /// What is there is right.
    pub(crate) fn correctness(&mut self, name: &str, passed: bool, reason: String) {
        self.push(CheckKind::Correctness, name, passed, reason);
    }
}

/// The two scrapes, parsed once (an unparsable scrape is an empty exposition here and a
/// failed check).
pub(crate) struct Parsed<'a> {
    pub(crate) first: &'a Exposition,
    pub(crate) second: &'a Exposition,
    pub(crate) parse_error: Option<String>,
}

/// Every check, in section order.
pub(crate) fn run(
    inputs: &Inputs,
    parsed: &Parsed<'_>,
    rows: &[MetricRow],
    dashboards: &Result<Vec<DashboardShape>, String>,
) -> Vec<Check> {
    let mut out = Vec::new();
    metrics::checks(parsed, rows, &mut Checks::new("metrics", &mut out));
    correctness::checks(parsed, &mut Checks::new("metrics", &mut out));
    kpis::checks(&inputs.kpis, &mut Checks::new("kpis", &mut out));
    alerts::checks(&inputs.alerts, &mut Checks::new("alerts", &mut out));
    traces::checks(&inputs.traces, &mut Checks::new("traces", &mut out));
    let shapes = &mut Checks::new("dashboards", &mut out);
    dashboards::checks(dashboards, parsed.second, shapes);
    dashboards::page(inputs.page.as_ref(), shapes);
    collection::checks(&inputs.second, &mut Checks::new("collection", &mut out));
    if let Some(p) = &inputs.prometheus {
        prometheus::checks(p, &inputs.target, &mut Checks::new("prometheus", &mut out));
    }
    if let Some(am) = &inputs.alertmanager {
        prometheus::alertmanager(am, &mut Checks::new("alertmanager", &mut out));
    }
    out
}
