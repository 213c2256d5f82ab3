//! `prometheus` and `alertmanager`, when given: Prometheus scrapes the target, its rules
//! are loaded and healthy, every orchestrator panel query returns data; Alertmanager is up.

use serde_json::Value;

use super::Checks;
use crate::validate::inputs::PrometheusInputs;
use crate::validate::metrics::{NOT_COMPUTABLE, ONLY_WHEN_CONFIGURED};

pub(super) fn checks(p: &PrometheusInputs, target: &str, c: &mut Checks<'_>) {
    let q = &p.performance;
    c.presence(
        "every dashboard query runs without error",
        q.errors == 0 && q.runs > 0,
        format!(
            "{} runs at concurrency up to {}, {} errors{}",
            q.runs,
            q.concurrency.last().copied().unwrap_or(0),
            q.errors,
            q.first_error
                .as_deref()
                .map_or(String::new(), |e| format!(" (first: {e})"))
        ),
    );
    let host = target.trim_start_matches("http://").trim_end_matches('/');
    match &p.targets {
        Ok(t) => {
            let up = t["data"]["activeTargets"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|x| x["scrapeUrl"].as_str().is_some_and(|u| u.contains(host)));
            let health = up.and_then(|x| x["health"].as_str()).unwrap_or("not found");
            c.presence(
                "Prometheus scrapes the target",
                health == "up",
                format!("{}: target {host} {health}", p.url),
            );
        }
        Err(e) => c.presence("Prometheus scrapes the target", false, e.clone()),
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
            c.correctness(
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
        Err(e) => c.correctness("its rules are loaded and healthy", false, e.clone()),
    }
    if !p.panels.is_empty() {
        let empty: Vec<String> = p
            .panels
            .iter()
            .filter(|(_, _, promql, r)| {
                // Churn and lifetime value before a previous window, and the budget series
                // without a budget, are honestly absent.
                !matches!(r, Ok(true))
                    && !NOT_COMPUTABLE
                        .iter()
                        .chain(&ONLY_WHEN_CONFIGURED)
                        .any(|n| promql.contains(n))
            })
            .map(|(d, panel, _, r)| match r {
                Err(e) => format!("{d} / {panel}: {e}"),
                _ => format!("{d} / {panel}"),
            })
            .collect();
        c.presence(
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

/// Alertmanager's `/api/v2/status`: up, and its cluster ready (or disabled).
pub(super) fn alertmanager(am: &(String, Result<Value, String>), c: &mut Checks<'_>) {
    let (url, status) = am;
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
    c.presence("Alertmanager is up", passed, reason);
}
