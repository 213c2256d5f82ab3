//! The report's layout (golden Markdown) and its judgement, from fixed inputs: two scrapes
//! of a registry fed known values, and fixed API documents.
//!
//! To accept a deliberate change: `UPDATE_GOLDEN=1 cargo test -p orchestrator-obs --test report`.

use std::time::Duration;

use orchestrator_metrics::{LlmCall, LlmOutcome, Metrics, Registry, TokenUsage};
use orchestrator_obs::validate::{Inputs, Report, Scrape};
use serde_json::json;

fn golden(name: &str, actual: &str) {
    orchestrator_testkit::golden(env!("CARGO_MANIFEST_DIR"), name, actual);
}

fn scrape(registry: &Registry, at_ms: i64) -> Scrape {
    let text = registry.render();
    Scrape {
        at_ms,
        raw_bytes: text.len(),
        text,
        duration_ms: 2.5,
        gzip_bytes: Some(1_000),
    }
}

fn inputs() -> Inputs {
    let registry = Registry::new();
    let metrics = Metrics::new(&registry);
    let traffic = |n: u32| {
        for i in 0..n {
            let status = if i % 10 == 9 { 502 } else { 200 };
            metrics.requests().record(
                "/v1/chat",
                "POST",
                status,
                Duration::from_millis(20 + u64::from(i % 7) * 30),
            );
            metrics.llm().record(
                &LlmCall::new(
                    "openai",
                    "gpt-4o-mini",
                    LlmOutcome::Success,
                    Duration::from_millis(300),
                )
                .with_usage(TokenUsage::new(100, 40)),
            );
        }
        metrics.sessions().started();
        metrics.business().record_conversion();
        let _ = metrics.business().record_revenue(12.5);
        let _ = metrics.business().record_satisfaction(8.0);
    };
    traffic(20);
    let first = scrape(&registry, 1_795_000_000_000);
    traffic(40);
    let second = scrape(&registry, 1_795_000_002_000);
    Inputs {
        target: "http://127.0.0.1:9464".into(),
        generated_at: "2026-11-24T12:00:00.000Z".into(),
        first,
        second,
        kpis: Ok(json!({
            "evaluated_at": 1_795_000_002_000i64, "met": 1, "total": 5,
            "kpis": [
                {"id": "monthly_active_users", "name": "Monthly Active Users", "value": 3.0, "target": 10000.0, "gap": -0.9997, "met": false, "display_value": "3", "display_target": "10,000"},
                {"id": "revenue_per_user", "name": "Revenue per User", "value": null, "target": 35.0, "gap": null, "met": false, "display_value": "no data", "display_target": "$35.00"},
                {"id": "customer_satisfaction", "name": "Customer Satisfaction", "value": 8.0, "target": 8.5, "gap": -0.0588, "met": false, "display_value": "8.00/10", "display_target": "8.50/10"},
                {"id": "response_time_p95", "name": "Response Time P95", "value": 0.19, "target": 0.15, "gap": -0.2667, "met": false, "display_value": "190.00ms", "display_target": "150.00ms"},
                {"id": "error_rate", "name": "Error Rate", "value": 0.1, "target": 0.003, "gap": -32.3, "met": false, "display_value": "10.00%", "display_target": "0.30%"}
            ]
        })),
        alerts: Ok(json!({
            "evaluated_at": 1_795_000_002_000i64, "firing": 1, "total": 4,
            "rules": [
                {"name": "HighErrorRate", "title": "High Error Rate", "condition": "error_rate > 1%", "severity": "high", "state": "firing", "since": 1_794_999_990_000i64},
                {"name": "ResponseTimeDegradation", "title": "Response Time Degradation", "condition": "p95_latency > 200ms", "severity": "medium", "state": "inactive", "since": null},
                {"name": "MemoryUsageCritical", "title": "Memory Usage Critical", "condition": "memory_usage > 90%", "severity": "critical", "state": "inactive", "since": null},
                {"name": "LowCustomerSatisfaction", "title": "Low Customer Satisfaction", "condition": "satisfaction < 7.0", "severity": "medium", "state": "pending", "since": 1_795_000_001_000i64}
            ]
        })),
        traces: Ok(json!({
            "analysis": {"traces": 6, "mean_duration_ms": 715.6, "mean_spans": 4.9, "sampler": "parentbased_traceidratio(0.1)",
                "operations": [
                    {"operation": "API Request", "spans": 6, "mean_ms": 715.6, "share": 1.0},
                    {"operation": "LLM Request", "spans": 6, "mean_ms": 245.3, "share": 0.34}
                ]},
            "traces": []
        })),
        prometheus: None,
        alertmanager: None,
    }
}

#[test]
fn the_markdown_layout() {
    let report = Report::build(inputs());
    golden("report.md", &report.markdown());
}

#[test]
fn the_judgement() {
    let report = Report::build(inputs());
    // Every component passes except what the inputs make fail: nothing here.
    let failed: Vec<_> = report
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| (&c.component, &c.name, &c.reason))
        .collect();
    // The registry was fed no memory, KPI, alert or guard series: those metrics are absent.
    assert!(
        failed
            .iter()
            .all(|(component, _, _)| **component == "metrics" || **component == "dashboards"),
        "{failed:?}"
    );
    let json = report.json();
    assert_eq!(json["checks_run"], report.checks.len());
    let score = json["score"].as_f64().unwrap();
    assert!(
        (score - report.score()).abs() < 1e-12 && score > 0.5 && score < 1.0,
        "{score}"
    );
    // Rates are measured between the scrapes: 40 requests in 2 s.
    let requests = json["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "orchestrator_requests_total")
        .unwrap();
    assert_eq!(requests["rate_per_second"], 20.0);
    assert_eq!(
        json["collection"]["compression_ratio"],
        json["collection"]["payload_bytes"].as_f64().unwrap() / 1000.0
    );
    let business = json["business"].as_array().unwrap();
    assert_eq!(
        business[0],
        json!({"metric": "API requests", "value": "60"})
    );
}

/// Issue 14, row 13: each scrape is parsed once, when the report is built; rendering reads
/// what the report kept, never the scrape's text again.
#[test]
fn rendering_does_not_parse_the_scrapes_again() {
    let mut report = Report::build(inputs());
    let (markdown, json) = (report.markdown(), report.json());
    report.inputs.first.text.clear();
    report.inputs.second.text.clear();
    assert_eq!(report.markdown(), markdown);
    assert_eq!(report.json(), json);
    assert_eq!(report.business[0], ("API requests", "60".to_owned()));
}
