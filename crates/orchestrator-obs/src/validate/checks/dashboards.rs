//! `dashboards`: the four dashboards are generated, and every metric their orchestrator
//! panels read is exposed.

use orchestrator_metrics::exposition::Exposition;

use super::Checks;
use crate::validate::metrics::honest_absence;
use crate::validate::perf::PagePerf;
use crate::validate::report::DashboardShape;

/// The live page loads and answers its viewers, when measured.
pub(super) fn page(page: Option<&PagePerf>, c: &mut Checks<'_>) {
    let Some(p) = page else { return };
    c.presence(
        "the live page loads",
        p.load_errors.is_empty(),
        if p.load_errors.is_empty() {
            format!("{:.1} ms", p.load_ms)
        } else {
            p.load_errors.join("; ")
        },
    );
    c.presence(
        "the live page's API answers its concurrent viewers",
        p.api_errors == 0 && p.api_requests > 0,
        format!(
            "{} viewers, {} requests, {} errors, p95 {:.1} ms",
            p.viewers, p.api_requests, p.api_errors, p.api_p95_ms
        ),
    );
}

pub(super) fn checks(
    dashboards: &Result<Vec<DashboardShape>, String>,
    second: &Exposition,
    c: &mut Checks<'_>,
) {
    let all = match dashboards {
        Ok(all) => all,
        Err(e) => return c.presence("the four dashboards are generated", false, e.clone()),
    };
    let shape: Vec<String> = all
        .iter()
        .map(|d| format!("{} {}", d.panels, d.refresh))
        .collect();
    c.presence(
        "the four dashboards are generated",
        shape == ["12 1m", "8 30s", "22 5m", "20 15s"],
        format!("panels and refresh: {}", shape.join(", ")),
    );
    let mut missing = Vec::new();
    let mut named = 0;
    for name in all.iter().flat_map(|d| &d.series) {
        named += 1;
        if second.family(name).is_none()
            && honest_absence(name).is_none()
            && !missing.contains(name)
        {
            missing.push(*name);
        }
    }
    c.presence(
        "every metric the orchestrator panels read is exposed",
        missing.is_empty(),
        if missing.is_empty() {
            format!("{named} references")
        } else {
            format!("missing: {}", missing.join(", "))
        },
    );
}
