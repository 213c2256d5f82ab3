//! The end-of-run summary, computed from the registry's own exposition (what Prometheus
//! would scrape), never from counters kept on the side.

use std::fmt::{self, Write as _};
use std::time::Duration;

use orchestrator_telemetry::catalogue as c;
use orchestrator_telemetry::exposition::{Exposition, Sample, histogram_quantile_in};

fn all(_: &Sample) -> bool {
    true
}

fn label_is<'a>(name: &'a str, value: &'a str) -> impl Fn(&Sample) -> bool + 'a {
    move |s| s.label(name) == Some(value)
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| num / den)
}

fn ms(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "no data".into(), |s| format!("{:.1} ms", s * 1000.0))
}

fn pct(value: Option<f64>) -> String {
    value.map_or_else(|| "no data".into(), |v| format!("{:.2} %", v * 100.0))
}

/// The p95, or its bucket when too wide for the value to be within 10 %.
fn p95(e: &Exposition, name: &str, keep: impl Fn(&Sample) -> bool) -> String {
    histogram_quantile_in(0.95, &e.buckets(name, keep))
        .map_or_else(|| "no data".into(), |q| q.seconds_text())
}

fn mean(e: &Exposition, name: &str) -> Option<f64> {
    ratio(
        e.sum(&format!("{name}_sum"))?,
        e.sum(&format!("{name}_count"))?,
    )
}

/// Writes the summary of a run that lasted `elapsed`.
pub fn render(e: &Exposition, elapsed: Duration) -> String {
    let mut out = String::new();
    let _ = write_summary(&mut out, e, elapsed);
    out
}

fn write_summary(out: &mut String, e: &Exposition, elapsed: Duration) -> fmt::Result {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let requests = e.sum(c::REQUESTS_TOTAL.name).unwrap_or(0.0);
    let api_errors = e.sum_where(c::ERRORS_TOTAL.name, label_is("component", "api"));
    writeln!(out, "\nWhat was recorded (from the /metrics exposition)")?;
    writeln!(
        out,
        "  API requests      {requests:.0} ({:.1}/s)",
        requests / secs
    )?;
    let mut by_class = [0.0; 6];
    for s in e.samples(c::REQUESTS_TOTAL.name) {
        let class = s
            .label("status")
            .and_then(|st| st.as_bytes().first())
            .map_or(0, |b| (b - b'0') as usize);
        by_class[class.min(5)] += s.value;
    }
    writeln!(
        out,
        "    2xx {:.0}   4xx {:.0}   5xx {:.0}   cancelled {:.0}",
        by_class[2],
        by_class[4],
        by_class[5],
        e.sum_where(c::REQUESTS_TOTAL.name, label_is("status", "cancelled"))
    )?;
    writeln!(
        out,
        "    error rate      {}",
        pct(ratio(api_errors, requests))
    )?;
    writeln!(
        out,
        "    p95 duration    {}",
        p95(e, c::REQUEST_DURATION_SECONDS.name, all)
    )?;

    writeln!(out, "  LLM calls")?;
    for (provider, model) in &e.label_pairs(c::LLM_REQUESTS_TOTAL.name, "provider", "model") {
        let this =
            |s: &Sample| s.label("provider") == Some(provider) && s.label("model") == Some(model);
        let calls = e.sum_where(c::LLM_REQUESTS_TOTAL.name, this);
        let ok = e.sum_where(c::LLM_REQUESTS_TOTAL.name, |s| {
            this(s) && s.label("outcome") == Some("success")
        });
        let tokens = |kind: &str| {
            e.sum_where(&format!("{}_sum", c::LLM_TOKENS.name), |s| {
                this(s) && s.label("token_type") == Some(kind)
            })
        };
        writeln!(
            out,
            "    {provider}/{model}: {calls:.0} calls, {:.0} failed, p95 {} (first token {}), tokens {:.0} in / {:.0} out, cost ${:.4}",
            calls - ok,
            p95(e, c::LLM_LATENCY_SECONDS.name, this),
            p95(e, c::LLM_TIME_TO_FIRST_TOKEN_SECONDS.name, this),
            tokens("input"),
            tokens("output"),
            e.sum_where(c::LLM_COST_USD_TOTAL.name, this),
        )?;
    }

    let mut tenants: Vec<(String, f64)> = e
        .samples(c::TENANT_LLM_COST_USD_TOTAL.name)
        .filter_map(|s| Some((s.label("tenant")?.to_owned(), s.value)))
        .collect();
    if !tenants.is_empty() {
        tenants.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top: Vec<String> = tenants
            .iter()
            .take(5)
            .map(|(t, cost)| format!("{t} ${cost:.4}"))
            .collect();
        writeln!(out, "  LLM spend by tenant  {}", top.join(", "))?;
    }
    let budgets: Vec<String> = e
        .samples(c::TENANT_BUDGET_USD.name)
        .filter_map(|budget| {
            let (tenant, period) = (budget.label("tenant")?, budget.label("period")?);
            let ratio = e
                .samples(c::TENANT_BUDGET_SPEND_RATIO.name)
                .find(|r| r.label("tenant") == Some(tenant) && r.label("period") == Some(period))?
                .value;
            let refused = e
                .samples(c::TENANT_BUDGET_REJECTIONS_TOTAL.name)
                .find(|r| r.label("tenant") == Some(tenant) && r.label("period") == Some(period))
                .map(|r| format!(", enforced: {:.0} calls refused", r.value))
                .unwrap_or_default();
            Some(format!(
                "{tenant} {period}: ${:.4} of ${} ({}){refused}",
                ratio * budget.value,
                budget.value,
                pct(Some(ratio))
            ))
        })
        .collect();
    if !budgets.is_empty() {
        writeln!(out, "  LLM budgets       {}", budgets.join(", "))?;
    }

    let hits = e.sum_where(c::CACHE_OPERATIONS_TOTAL.name, label_is("result", "hit"));
    let misses = e.sum_where(c::CACHE_OPERATIONS_TOTAL.name, label_is("result", "miss"));
    writeln!(
        out,
        "  Cache             {hits:.0} hits, {misses:.0} misses, hit ratio {}",
        pct(ratio(hits, hits + misses))
    )?;
    for kind in ["database", "external"] {
        writeln!(
            out,
            "  {kind:<17} p95 {}",
            (p95(
                e,
                c::DEPENDENCY_DURATION_SECONDS.name,
                label_is("dependency", kind)
            ))
        )?;
    }

    let sessions = e.sum(c::SESSIONS_TOTAL.name).unwrap_or(0.0);
    let conversions = e.sum(c::CONVERSIONS_TOTAL.name).unwrap_or(0.0);
    writeln!(
        out,
        "  Sessions          {sessions:.0} started, {:.0} open, mean duration {}",
        e.sum(c::ACTIVE_SESSIONS.name).unwrap_or(0.0),
        ms(mean(e, c::SESSION_DURATION_SECONDS.name))
    )?;
    writeln!(
        out,
        "  Revenue           ${:.2}",
        e.sum(c::REVENUE_USD_TOTAL.name).unwrap_or(0.0)
    )?;
    writeln!(
        out,
        "  Conversion rate   {} ({conversions:.0} conversions)",
        pct(ratio(conversions, sessions))
    )?;
    let fmt_mean = |v: Option<f64>, scale: &str| {
        v.map_or_else(|| "no data".into(), |v| format!("{v:.2}{scale}"))
    };
    writeln!(
        out,
        "  Satisfaction      {}",
        fmt_mean(mean(e, c::USER_SATISFACTION_SCORE.name), " / 10")
    )?;
    writeln!(
        out,
        "  Quality           {}",
        fmt_mean(mean(e, c::QUALITY_SCORE.name), " / 100")
    )?;
    let rss = e.sum(c::MEMORY_USAGE_BYTES.name);
    let limit = e.sum(c::MEMORY_LIMIT_BYTES.name);
    writeln!(
        out,
        "  Memory            {} of {} ({})",
        rss.map_or_else(|| "no data".into(), |b| format!("{:.1} MiB", b / 1048576.0)),
        limit.map_or_else(
            || "no limit found".into(),
            |b| format!("{:.1} MiB", b / 1048576.0)
        ),
        pct(rss.zip(limit).and_then(|(r, l)| ratio(r, l)))
    )?;
    writeln!(
        out,
        "  Telemetry         {} samples, {:.0} label values folded, {:.0} values rejected",
        e.sample_count(),
        e.sum(c::LABEL_VALUES_FOLDED_TOTAL.name).unwrap_or(0.0),
        e.sum(c::TELEMETRY_REJECTED_VALUES_TOTAL.name)
            .unwrap_or(0.0)
    )
}

/// Whose figures the summary shows: the replica's name, and whether distinct users are the
/// fleet's (counted in Redis), this replica's, or unavailable.
pub fn scope(telemetry: &orchestrator_telemetry::TelemetryGuard) -> String {
    use orchestrator_telemetry::orchestrator_kpi::ActivityScope;
    let status = telemetry.activity_status();
    let users = match (status.scope(), status.error()) {
        (_, Some(error)) => format!("distinct users are unavailable ({error})"),
        (ActivityScope::Fleet, None) => {
            "distinct users (and the monthly-active-users KPI) are the fleet's, counted in Redis"
                .to_owned()
        }
        (ActivityScope::Replica, None) => {
            "distinct users are counted in this process (this replica's only)".to_owned()
        }
    };
    format!(
        "\nScope: {}; {users}; every other figure is this replica's own.\n",
        telemetry
            .instance()
            .map_or_else(|| "one replica".to_owned(), |i| format!("replica {i}"))
    )
}
