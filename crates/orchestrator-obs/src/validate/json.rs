//! `report.json`: the report as data. `score` is [`Report::score`] (the telemetry score);
//! `telemetry_score` and `business_score` are its parts.

use serde_json::{Value, json};

use super::report::Report;

fn ok<T: serde::Serialize>(r: &Result<T, String>) -> Value {
    match r {
        Ok(doc) => serde_json::to_value(doc).unwrap_or(Value::Null),
        Err(e) => json!({"error": e}),
    }
}

impl Report {
    /// `report.json`.
    pub fn json(&self) -> Value {
        let i = &self.inputs;
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|c| {
                json!({
                    "component": c.component,
                    "kind": c.kind.as_str(),
                    "name": c.name,
                    "passed": c.passed,
                    "reason": c.reason,
                })
            })
            .collect();
        let metrics: Vec<Value> = self
            .metrics
            .iter()
            .map(|m| json!({"name": m.name, "type": m.kind, "samples": m.samples, "rate_per_second": m.rate, "p95": m.p95, "p95_bucket": m.p95_bucket.map(|(lower, upper)| json!({"lower": lower, "upper": upper.is_finite().then_some(upper)})), "present": m.present}))
            .collect();
        let (query_performance, dashboard_performance) = self.performance_json();
        json!({
            "target": i.target,
            "generated_at": i.generated_at,
            "score": self.score(),
            "telemetry_score": self.telemetry_score(),
            "business_score": self.business_score(),
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
            "query_performance": query_performance,
            "dashboard_performance": dashboard_performance,
            "alert_quality": self.alert_quality.as_ref().map(|q| json!({
                "partial": q.run.partial,
                "ran_seconds": q.run.ran_s,
                "tuning": q.run.tuning,
                "targets": q.targets,
                "figures": q.figures,
                "disagreements": q.run.disagreements.len(),
            })),
        })
    }
}
