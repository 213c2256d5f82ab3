//! `metrics`: the exposition parses, every catalogue metric is exposed (or honestly absent),
//! and requests moved between the scrapes.

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
    c.presence(
        "requests were recorded between the two scrapes",
        requests.is_some_and(|r| r > 0.0),
        requests.map_or("no requests counter".to_owned(), |r| format!("{r:.1}/s")),
    );
}
