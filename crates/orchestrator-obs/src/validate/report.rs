//! The report: checks with their reasons, a score, and the seed's sections, all computed from
//! [`Inputs`]. Pure: the same inputs give the same report (the golden test relies on it).

use orchestrator_api::{AlertsDoc, KpisDoc, TracesDoc};
use orchestrator_dashboards::{Context, Source, dashboards};
use orchestrator_metrics::exposition::{self, Exposition};
use serde_json::{Value, json};

use super::inputs::Inputs;
use super::metrics::{MetricRow, NOT_COMPUTABLE, honest_absence, rows};

/// One check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The component checked: `metrics`, `kpis`, `alerts`, `traces`, `dashboards`,
    /// `collection`, `prometheus`, `alertmanager`.
    pub component: &'static str,
    /// What was checked.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Why, with the measured figure.
    pub reason: String,
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
}

impl Report {
    /// Judges `inputs`.
    pub fn build(inputs: Inputs) -> Report {
        let mut checks = Vec::new();
        let mut check = |component: &'static str, name: &str, passed: bool, reason: String| {
            checks.push(Check {
                component,
                name: name.to_owned(),
                passed,
                reason,
            });
        };
        let first = exposition::parse(&inputs.first.text);
        let second = exposition::parse(&inputs.second.text);
        check(
            "metrics",
            "the exposition parses",
            first.is_ok() && second.is_ok(),
            match (&first, &second) {
                (Ok(_), Ok(e)) => format!("{} families", e.families.len()),
                (Err(e), _) | (_, Err(e)) => e.to_string(),
            },
        );
        // Each scrape is parsed once; the report keeps what its renderers need.
        let (first, second) = (first.unwrap_or_default(), second.unwrap_or_default());
        let seconds = (inputs.second.at_ms - inputs.first.at_ms) as f64 / 1000.0;
        let metrics = rows(&first, &second, seconds);
        for row in &metrics {
            let (passed, reason) = match (row.present, honest_absence(row.name)) {
                (true, _) => (true, format!("{} samples", row.samples)),
                (false, Some(why)) => (true, why.to_owned()),
                (false, None) => (false, "not exposed".to_owned()),
            };
            check(
                "metrics",
                &format!("{} is exposed", row.name),
                passed,
                reason,
            );
        }
        let requests = metrics
            .iter()
            .find(|r| r.name == "orchestrator_requests_total")
            .and_then(|r| r.rate);
        check(
            "metrics",
            "requests were recorded between the two scrapes",
            requests.is_some_and(|r| r > 0.0),
            requests.map_or("no requests counter".to_owned(), |r| format!("{r:.1}/s")),
        );

        kpi_checks(&inputs.kpis, &mut check);
        alert_checks(&inputs.alerts, &mut check);
        trace_checks(&inputs.traces, &mut check);
        dashboard_checks(&second, &mut check);

        let c = &inputs.second;
        check(
            "collection",
            "the scrape answers within 1 s",
            c.duration_ms < 1000.0,
            format!("{:.1} ms", c.duration_ms),
        );
        check(
            "collection",
            "gzip is offered",
            c.gzip_bytes.is_some(),
            c.gzip_bytes
                .map_or("no gzip answer to Accept-Encoding: gzip".to_owned(), |g| {
                    format!("{} → {g} bytes", c.raw_bytes)
                }),
        );

        if let Some(p) = &inputs.prometheus {
            prometheus_checks(p, &inputs.target, &mut check);
        }
        if let Some((url, status)) = &inputs.alertmanager {
            let (passed, reason) = match status {
                Ok(v) => {
                    let cluster = v["cluster"]["status"].as_str().unwrap_or("unknown");
                    (
                        matches!(cluster, "ready" | "disabled"),
                        format!(
                            "{url}: cluster {cluster}, version {}",
                            v["versionInfo"]["version"].as_str().unwrap_or("?")
                        ),
                    )
                }
                Err(e) => (false, e.clone()),
            };
            check("alertmanager", "Alertmanager is up", passed, reason);
        }
        Report {
            inputs,
            metrics,
            checks,
            interval_seconds: seconds,
            samples: second.sample_count(),
            business: business(&second),
        }
    }

    /// Checks passed over checks run, from 0 to 1.
    pub fn score(&self) -> f64 {
        if self.checks.is_empty() {
            return 0.0;
        }
        self.checks.iter().filter(|c| c.passed).count() as f64 / self.checks.len() as f64
    }

    /// `report.json`.
    pub fn json(&self) -> Value {
        let i = &self.inputs;
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|c| json!({"component": c.component, "name": c.name, "passed": c.passed, "reason": c.reason}))
            .collect();
        let metrics: Vec<Value> = self
            .metrics
            .iter()
            .map(|m| json!({"name": m.name, "type": m.kind, "samples": m.samples, "rate_per_second": m.rate, "p95": m.p95, "present": m.present}))
            .collect();
        fn ok<T: serde::Serialize>(r: &Result<T, String>) -> Value {
            match r {
                Ok(doc) => serde_json::to_value(doc).unwrap_or(Value::Null),
                Err(e) => json!({"error": e}),
            }
        }
        json!({
            "target": i.target,
            "generated_at": i.generated_at,
            "score": self.score(),
            "checks_passed": self.checks.iter().filter(|c| c.passed).count(),
            "checks_run": self.checks.len(),
            "checks": checks,
            "metrics": metrics,
            "business": self.business.iter().map(|(k, v)| json!({"metric": k, "value": v})).collect::<Vec<_>>(),
            "kpis": ok(&i.kpis),
            "alerts": ok(&i.alerts),
            "traces": i.traces.as_ref().ok().and_then(|t| serde_json::to_value(&t.analysis).ok()).unwrap_or(Value::Null),
            "collection": {
                "interval_seconds": self.interval_seconds,
                "scrape_ms": i.second.duration_ms,
                "payload_bytes": i.second.raw_bytes,
                "payload_gzip_bytes": i.second.gzip_bytes,
                "compression_ratio": i.second.gzip_bytes.filter(|g| *g > 0).map(|g| i.second.raw_bytes as f64 / g as f64),
                "samples": self.samples,
            },
        })
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
    vec![
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
    ]
}

type CheckFn<'a> = dyn FnMut(&'static str, &str, bool, String) + 'a;

fn kpi_checks(kpis: &Result<KpisDoc, String>, check: &mut CheckFn<'_>) {
    match kpis {
        Ok(k) => {
            check(
                "kpis",
                "/api/v1/kpis answers",
                true,
                format!("{} KPIs", k.total),
            );
            let with_values = k.kpis.iter().filter(|x| x.value.is_some()).count();
            check(
                "kpis",
                "the KPIs are evaluated",
                k.evaluated_at.is_some() && k.total == 5,
                format!(
                    "{with_values} of {} with a value; targets met {}/{}",
                    k.total, k.met, k.total
                ),
            );
        }
        Err(e) => check("kpis", "/api/v1/kpis answers", false, e.clone()),
    }
}

fn alert_checks(alerts: &Result<AlertsDoc, String>, check: &mut CheckFn<'_>) {
    match alerts {
        Ok(a) => {
            check(
                "alerts",
                "/api/v1/alerts answers",
                true,
                format!("{} rules", a.total),
            );
            check(
                "alerts",
                "every rule is evaluated and listed",
                a.evaluated_at.is_some() && a.total >= 4,
                format!("{} rules, {} firing", a.total, a.firing),
            );
        }
        Err(e) => check("alerts", "/api/v1/alerts answers", false, e.clone()),
    }
}

fn trace_checks(traces: &Result<TracesDoc, String>, check: &mut CheckFn<'_>) {
    match traces {
        Ok(t) => {
            check("traces", "/api/v1/traces answers", true, String::new());
            let n = t.analysis.traces;
            check(
                "traces",
                "sampled traces are collected",
                n > 0,
                format!("{n} traces, {:.1} spans each", t.analysis.mean_spans),
            );
        }
        Err(e) => check("traces", "/api/v1/traces answers", false, e.clone()),
    }
}

fn dashboard_checks(second: &Exposition, check: &mut CheckFn<'_>) {
    match Context::defaults().and_then(|c| dashboards(&c)) {
        Ok(all) => {
            let shape: Vec<String> = all
                .iter()
                .map(|d| format!("{} {}", d.panels.len(), d.refresh))
                .collect();
            check(
                "dashboards",
                "the four dashboards are generated",
                shape == ["12 1m", "8 30s", "15 5m", "20 15s"],
                format!("panels and refresh: {}", shape.join(", ")),
            );
            let mut missing = Vec::new();
            let mut named = 0;
            for d in &all {
                for p in &d.panels {
                    for q in &p.queries {
                        if let Source::Orchestrator(expr) = &q.source {
                            for (selector, _) in expr.selectors() {
                                let name = selector.def().name;
                                named += 1;
                                if second.family(name).is_none()
                                    && honest_absence(name).is_none()
                                    && !missing.contains(&name)
                                {
                                    missing.push(name);
                                }
                            }
                        }
                    }
                }
            }
            check(
                "dashboards",
                "every metric the orchestrator panels read is exposed",
                missing.is_empty(),
                if missing.is_empty() {
                    format!("{named} references")
                } else {
                    format!("missing: {}", missing.join(", "))
                },
            );
        }
        Err(e) => check(
            "dashboards",
            "the four dashboards are generated",
            false,
            e.to_string(),
        ),
    }
}

fn prometheus_checks(p: &super::inputs::PrometheusInputs, target: &str, check: &mut CheckFn<'_>) {
    let host = target.trim_start_matches("http://").trim_end_matches('/');
    match &p.targets {
        Ok(t) => {
            let up = t["data"]["activeTargets"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|x| x["scrapeUrl"].as_str().is_some_and(|u| u.contains(host)));
            let health = up.and_then(|x| x["health"].as_str()).unwrap_or("not found");
            check(
                "prometheus",
                "Prometheus scrapes the target",
                health == "up",
                format!("{}: target {host} {health}", p.url),
            );
        }
        Err(e) => check(
            "prometheus",
            "Prometheus scrapes the target",
            false,
            e.clone(),
        ),
    }
    match &p.rules {
        Ok(r) => {
            let rules: Vec<&Value> = r["data"]["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|g| g["rules"].as_array().into_iter().flatten())
                .collect();
            // `unknown` is a rule not evaluated yet (a group with a long interval); `err` is
            // a failing one.
            let failing: Vec<String> = rules
                .iter()
                .filter(|x| x["health"] == "err")
                .map(|x| {
                    format!(
                        "{}: {}",
                        x["name"].as_str().unwrap_or("?"),
                        x["lastError"].as_str().unwrap_or("")
                    )
                })
                .collect();
            let ok = rules.iter().filter(|x| x["health"] == "ok").count();
            check(
                "prometheus",
                "its rules are loaded and healthy",
                !rules.is_empty() && failing.is_empty(),
                if failing.is_empty() {
                    format!(
                        "{} rules: {ok} evaluated ok, {} not evaluated yet",
                        rules.len(),
                        rules.len() - ok
                    )
                } else {
                    format!("failing: {}", failing.join("; "))
                },
            );
        }
        Err(e) => check(
            "prometheus",
            "its rules are loaded and healthy",
            false,
            e.clone(),
        ),
    }
    if !p.panels.is_empty() {
        let empty: Vec<String> = p
            .panels
            .iter()
            .filter(|(_, _, promql, r)| {
                !matches!(r, Ok(true)) && !NOT_COMPUTABLE.iter().any(|n| promql.contains(n))
            })
            .map(|(d, panel, _, r)| match r {
                Err(e) => format!("{d} / {panel}: {e}"),
                _ => format!("{d} / {panel}"),
            })
            .collect();
        check(
            "prometheus",
            "every orchestrator panel query returns data",
            empty.is_empty(),
            if empty.is_empty() {
                format!("{} queries", p.panels.len())
            } else {
                format!("no data: {}", empty.join("; "))
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(1234567.0, 0), "1,234,567");
        assert_eq!(thousands(999.0, 0), "999");
        assert_eq!(thousands(21047.371, 2), "21,047.37");
        assert_eq!(thousands(-1000.0, 0), "-1,000");
    }
}
