//! `metrics`, correctness: what the exposition says is consistent, not only present. Each
//! histogram's `_count` equals its `+Inf` bucket and its buckets are cumulative; no counter
//! decreases between the two scrapes; no value is NaN.

use std::collections::HashMap;

use orchestrator_metrics::catalogue::{LLM_REQUESTS_TOTAL, LLM_UNREPORTED_USAGE_TOTAL};
use orchestrator_metrics::exposition::{Exposition, FamilyType, Sample};

use super::{Checks, Parsed};

/// How many offenders a reason names before "and N more".
const NAMED: usize = 3;

/// `name{a="1",b="2"}`, labels in exposition order, `le` left out when asked.
fn series(s: &Sample, without_le: bool) -> String {
    let labels: Vec<String> = s
        .labels
        .iter()
        .filter(|(k, _)| !(without_le && k == "le"))
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    let name = if without_le {
        s.name.strip_suffix("_bucket").unwrap_or(&s.name)
    } else {
        &s.name
    };
    if labels.is_empty() {
        name.to_owned()
    } else {
        format!("{name}{{{}}}", labels.join(","))
    }
}

fn reason(offenders: &[String], ok: String) -> String {
    match offenders {
        [] => ok,
        named if named.len() <= NAMED => named.join("; "),
        _ => format!(
            "{}; and {} more",
            offenders[..NAMED].join("; "),
            offenders.len() - NAMED
        ),
    }
}

/// Histogram series whose buckets decrease or whose `_count` is not the `+Inf` bucket.
pub(crate) fn histogram_offenders(e: &Exposition) -> (Vec<String>, Vec<String>, usize) {
    let (mut not_cumulative, mut count_mismatch, mut checked) = (Vec::new(), Vec::new(), 0);
    for family in e
        .families
        .iter()
        .filter(|f| f.kind == FamilyType::Histogram)
    {
        let bucket_name = format!("{}_bucket", family.name);
        let count_name = format!("{}_count", family.name);
        let mut buckets: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
        let mut counts: HashMap<String, f64> = HashMap::new();
        for s in &family.samples {
            if s.name == bucket_name {
                let le = match s.label("le") {
                    Some("+Inf") => f64::INFINITY,
                    Some(le) => le.parse().unwrap_or(f64::NAN),
                    None => f64::NAN,
                };
                buckets
                    .entry(series(s, true))
                    .or_default()
                    .push((le, s.value));
            } else if s.name == count_name {
                let key = series(s, false).replacen(&count_name, &family.name, 1);
                counts.insert(key, s.value);
            }
        }
        let mut keys: Vec<&String> = buckets.keys().collect();
        keys.sort();
        for key in keys {
            checked += 1;
            let mut list = buckets[key].clone();
            list.sort_by(|a, b| a.0.total_cmp(&b.0));
            if list.windows(2).any(|w| w[1].1 < w[0].1) {
                not_cumulative.push(key.clone());
            }
            let inf = list
                .last()
                .filter(|(le, _)| *le == f64::INFINITY)
                .map(|b| b.1);
            match (inf, counts.get(key)) {
                (Some(inf), Some(&count)) if inf == count => {}
                (inf, count) => count_mismatch.push(format!(
                    "{key}: _count {} vs +Inf {}",
                    count.map_or("absent".to_owned(), |c| c.to_string()),
                    inf.map_or("absent".to_owned(), |c| c.to_string())
                )),
            }
        }
    }
    (not_cumulative, count_mismatch, checked)
}

/// Counter series (histogram buckets and counts included) lower in `second` than in `first`.
pub(crate) fn decreasing_counters(first: &Exposition, second: &Exposition) -> (Vec<String>, usize) {
    let monotonic = |e: &Exposition| -> HashMap<String, f64> {
        e.families
            .iter()
            .flat_map(|f| {
                let kind = f.kind;
                f.samples.iter().filter(move |s| match kind {
                    FamilyType::Counter => true,
                    FamilyType::Histogram => !s.name.ends_with("_sum"),
                    _ => false,
                })
            })
            .map(|s| (series(s, false), s.value))
            .collect()
    };
    let before = monotonic(first);
    let mut offenders: Vec<String> = monotonic(second)
        .into_iter()
        .filter_map(|(key, after)| {
            let was = *before.get(&key)?;
            (after < was).then(|| format!("{key}: {was} → {after}"))
        })
        .collect();
    offenders.sort();
    (offenders, before.len())
}

/// Samples whose value is NaN.
pub(crate) fn nan_samples(e: &Exposition) -> Vec<String> {
    e.families
        .iter()
        .flat_map(|f| &f.samples)
        .filter(|s| s.value.is_nan())
        .map(|s| series(s, false))
        .collect()
}

/// The (provider, model) pairs some of whose successful calls had no usage, with how many,
/// and the count of successful calls and of estimated usages.
pub(crate) fn missing_usage(e: &Exposition) -> (Vec<String>, f64, f64) {
    fn unreported(kind: &'static str) -> impl Fn(&Sample) -> bool {
        move |s| s.label("usage") == Some(kind)
    }
    let mut offenders: Vec<String> = e
        .samples(LLM_UNREPORTED_USAGE_TOTAL.name)
        .filter(|s| unreported("missing")(s) && s.value > 0.0)
        .map(|s| {
            format!(
                "{}/{}: {} calls without usage",
                s.label("provider").unwrap_or_default(),
                s.label("model").unwrap_or_default(),
                s.value
            )
        })
        .collect();
    offenders.sort();
    let succeeded = e.sum_where(LLM_REQUESTS_TOTAL.name, |s| {
        s.label("outcome") == Some("success")
    });
    let estimated = e.sum_where(LLM_UNREPORTED_USAGE_TOTAL.name, unreported("estimated"));
    (offenders, succeeded, estimated)
}

pub(super) fn checks(parsed: &Parsed<'_>, c: &mut Checks<'_>) {
    let (mut not_cumulative, mut count_mismatch, mut histograms) = (Vec::new(), Vec::new(), 0);
    for e in [parsed.first, parsed.second] {
        let (a, b, n) = histogram_offenders(e);
        not_cumulative.extend(a);
        count_mismatch.extend(b);
        histograms = histograms.max(n);
    }
    not_cumulative.dedup();
    count_mismatch.dedup();
    c.correctness(
        "each histogram's _count equals its +Inf bucket",
        count_mismatch.is_empty(),
        reason(&count_mismatch, format!("{histograms} histogram series")),
    );
    c.correctness(
        "histogram buckets are cumulative",
        not_cumulative.is_empty(),
        reason(&not_cumulative, format!("{histograms} histogram series")),
    );
    let (decreasing, counters) = decreasing_counters(parsed.first, parsed.second);
    c.correctness(
        "no counter decreases between the two scrapes",
        decreasing.is_empty(),
        reason(&decreasing, format!("{counters} counter series")),
    );
    let mut nan = nan_samples(parsed.first);
    nan.extend(nan_samples(parsed.second));
    nan.sort();
    nan.dedup();
    c.correctness(
        "no value is NaN",
        nan.is_empty(),
        reason(&nan, "none".to_owned()),
    );
    let (missing, succeeded, estimated) = missing_usage(parsed.second);
    c.correctness(
        "every successful LLM call reported its token usage",
        missing.is_empty(),
        reason(
            &missing,
            format!("{succeeded} successful calls, {estimated} with estimated usage"),
        ),
    );
}
