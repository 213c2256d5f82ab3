//! `metrics`: the exposition parses, every catalogue metric is exposed (or honestly absent),
//! and requests moved between the scrapes (when none ever did while client calls were
//! recorded, the reason asks whether the server layer is on the router).

use orchestrator_metrics::catalogue::{
    DEPENDENCY_DURATION_SECONDS, LLM_REQUESTS_TOTAL, REQUESTS_TOTAL,
};

use super::{Checks, Parsed};
use crate::validate::metrics::{MetricRow, honest_absence};

pub(super) fn checks(parsed: &Parsed<'_>, rows: &[MetricRow], c: &mut Checks<'_>) {
    c.presence(
        "the exposition parses",
        parsed.parse_error.is_none(),
        parsed
            .parse_error
            .clone()
            .unwrap_or_else(|| format!("{} families", parsed.second.families.len())),
    );
    for row in rows {
        let (passed, reason) = match (row.present, honest_absence(row.name)) {
            (true, _) => (true, format!("{} samples", row.samples)),
            (false, Some(why)) => (true, why.to_owned()),
            (false, None) => (false, "not exposed".to_owned()),
        };
        c.presence(&format!("{} is exposed", row.name), passed, reason);
    }
    let requests = rows
        .iter()
        .find(|r| r.name == "orchestrator_requests_total")
        .and_then(|r| r.rate);
    let served = requests.is_some_and(|r| r > 0.0);
    let mut reason = requests.map_or("no requests counter".to_owned(), |r| format!("{r:.1}/s"));
    // Client calls without any server request: the server layer is most likely missing.
    let e = parsed.second;
    let client_calls = e.sum_where(LLM_REQUESTS_TOTAL.name, |_| true)
        + e.sum_where(
            &format!("{}_count", DEPENDENCY_DURATION_SECONDS.name),
            |_| true,
        );
    if e.sum_where(REQUESTS_TOTAL.name, |_| true) == 0.0 && client_calls > 0.0 {
        reason = format!(
            "{reason}; {client_calls} client calls and no API request recorded: is \
             TelemetryLayer::server on the router?"
        );
    }
    c.presence(
        "requests were recorded between the two scrapes",
        served,
        reason,
    );
}
