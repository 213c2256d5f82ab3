//! The report's layout (golden Markdown) and its judgement, from fixed inputs: two scrapes
//! of a registry fed known values, and fixed API documents.
//!
//! To accept a deliberate change: `UPDATE_GOLDEN=1 cargo test -p orchestrator-obs --test integration report::`.

use std::time::Duration;

use orchestrator_api::{
    AgentRow, AlertsDoc, Direction, FigureDoc, KpiDoc, KpiScope, KpisDoc, OperationDoc, RuleDoc,
    RuleState, Severity, SummaryDoc, SummaryPoint, TraceAnalysisDoc, TraceDoc, TracesDoc,
};
use orchestrator_metrics::{LlmCall, LlmOutcome, Metrics, Registry, TokenUsage};
use orchestrator_obs::validate::{
    Check, CheckKind, Inputs, KPI_CHART, PagePerf, Report, Scrape, TRAFFIC_CHART, kpi_gaps, traffic,
};
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

fn kpi(
    id: &str,
    name: &str,
    value: Option<f64>,
    target: f64,
    gap: Option<f64>,
    display_value: &str,
    display_target: &str,
) -> KpiDoc {
    KpiDoc {
        id: id.into(),
        name: name.into(),
        value,
        target,
        gap,
        met: false,
        direction: Direction::Higher,
        display_value: display_value.into(),
        scope: KpiScope::Replica,
        display_target: display_target.into(),
        trend: None,
        display_trend: "no data".into(),
    }
}

fn rule(
    name: &str,
    title: &str,
    condition: &str,
    severity: Severity,
    state: RuleState,
    since: Option<i64>,
) -> RuleDoc {
    RuleDoc {
        name: name.into(),
        title: title.into(),
        condition: condition.into(),
        severity,
        state,
        since,
        active_alerts: usize::from(state == RuleState::Firing),
    }
}

fn operation(name: &str, spans: usize, mean_ms: f64, share: f64) -> OperationDoc {
    OperationDoc {
        operation: name.into(),
        spans,
        mean_ms,
        share,
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
        summary: Ok(SummaryDoc {
            points: (0..6)
                .map(|n| SummaryPoint {
                    t: 1_794_999_997_000 + n * 1000,
                    request_rate: [0.0, 10.0, 20.0, 20.0, 15.0, 20.0][n as usize],
                    p95_seconds: (n > 0).then_some(0.1 + n as f64 * 0.02),
                    p95_bucket: None,
                    error_rate: (n > 0).then_some(0.1),
                })
                .collect(),
            agents: vec![AgentRow {
                agent: "researcher".into(),
                runs: 12.0,
                failed: 1.0,
                p95_seconds: Some(1.85),
                p95_bucket: None,
                steps_p95: Some(4.6),
                tool_calls: 20.0,
                tool_errors: 1.0,
                cost_usd: 0.0012,
                limit_exceeded: 2.0,
            }],
            ..SummaryDoc::default()
        }),
        kpis: Ok(KpisDoc {
            evaluated_at: Some(1_795_000_002_000),
            met: 1,
            total: 5,
            kpis: vec![
                kpi(
                    "monthly_active_users",
                    "Monthly Active Users",
                    Some(3.0),
                    10000.0,
                    Some(-0.9997),
                    "3",
                    "10,000",
                ),
                KpiDoc {
                    trend: Some(0.112),
                    display_trend: "+11.2%".into(),
                    ..kpi(
                        "revenue_per_user",
                        "Revenue per User",
                        Some(8.33),
                        35.0,
                        Some(-0.762),
                        "$8.33",
                        "$35.00",
                    )
                },
                kpi(
                    "customer_satisfaction",
                    "Customer Satisfaction",
                    Some(8.0),
                    8.5,
                    Some(-0.0588),
                    "8.00/10",
                    "8.50/10",
                ),
                kpi(
                    "response_time_p95",
                    "Response Time P95",
                    Some(0.19),
                    0.15,
                    Some(-0.2667),
                    "190.00ms",
                    "150.00ms",
                ),
                kpi(
                    "error_rate",
                    "Error Rate",
                    Some(0.1),
                    0.003,
                    Some(-32.3),
                    "10.00%",
                    "0.30%",
                ),
            ],
            figures: vec![
                FigureDoc {
                    id: "revenue".into(),
                    name: "Revenue".into(),
                    period: "1d".into(),
                    value: Some(25.0),
                    display_value: "$25.00".into(),
                    trend: Some(0.112),
                    display_trend: "+11.2%".into(),
                },
                FigureDoc {
                    id: "sessions".into(),
                    name: "Sessions".into(),
                    period: "1d".into(),
                    value: Some(2.0),
                    display_value: "2".into(),
                    trend: None,
                    display_trend: "no data".into(),
                },
            ],
            instance: None,
            users: None,
        }),
        alerts: Ok(AlertsDoc {
            evaluated_at: Some(1_795_000_002_000),
            firing: 1,
            total: 4,
            rules: vec![
                rule(
                    "HighErrorRate",
                    "High Error Rate",
                    "error_rate > 1%",
                    Severity::High,
                    RuleState::Firing,
                    Some(1_794_999_990_000),
                ),
                rule(
                    "ResponseTimeDegradation",
                    "Response Time Degradation",
                    "p95_latency > 200ms",
                    Severity::Medium,
                    RuleState::Inactive,
                    None,
                ),
                rule(
                    "MemoryUsageCritical",
                    "Memory Usage Critical",
                    "memory_usage > 90%",
                    Severity::Critical,
                    RuleState::Inactive,
                    None,
                ),
                rule(
                    "LowCustomerSatisfaction",
                    "Low Customer Satisfaction",
                    "satisfaction < 7.0",
                    Severity::Medium,
                    RuleState::Pending,
                    Some(1_795_000_001_000),
                ),
            ],
        }),
        traces: Ok(TracesDoc {
            analysis: TraceAnalysisDoc {
                traces: 6,
                mean_duration_ms: 715.6,
                mean_spans: 4.9,
                sampler: "parentbased_traceidratio(0.1)".into(),
                operations: vec![
                    operation("API Request", 6, 715.6, 1.0),
                    operation("LLM Request", 6, 245.3, 0.34),
                ],
                export: None,
            },
            traces: vec![TraceDoc {
                trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
                root: "POST /v1/sessions/{id}/research".into(),
                start: 1_795_000_000_000,
                duration_ms: 912.0,
                failed: false,
                cost_usd: Some(0.000_231),
                scores: Vec::new(),
                spans: Vec::new(),
            }],
        }),
        page: Some(PagePerf {
            load_ms: 12.5,
            load_errors: Vec::new(),
            update_latency_ms: Some(840.0),
            viewers: 35,
            api_requests: 420,
            api_mean_ms: 1.8,
            api_p95_ms: 4.2,
            api_errors: 0,
        }),
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

mod checks;

/// The check named `name`.
fn check<'a>(report: &'a Report, name: &str) -> &'a Check {
    report
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name:?}"))
}

#[test]
fn a_kpi_without_data_fails_and_the_scores_split() {
    let mut i = inputs();
    if let Ok(k) = &mut i.kpis {
        k.kpis[1].value = None;
        k.kpis[1].display_value = "no data".into();
    }
    let report = Report::build(i);
    let c = check(&report, "every KPI has data");
    assert!(!c.passed && c.kind == CheckKind::Correctness);
    assert_eq!(c.reason, "no value: revenue_per_user (no data)");
    // The business score: 1 of 5 KPIs met, 3 of 4 rules quiet.
    let business = report.business_score().unwrap();
    assert!((business - (0.2 + 0.75) / 2.0).abs() < 1e-12, "{business}");
    let json = report.json();
    assert_eq!(json["business_score"], business);
    assert_eq!(json["telemetry_score"], json["score"]);
    assert_eq!(json["score"], report.telemetry_score());
}

/// Issue 16: the two charts beside `report.md`, pinned, linked from it, and written by
/// `write`; a hostile KPI name is escaped.
#[test]
fn the_charts() {
    let report = Report::build(inputs());
    let charts = report.charts();
    let names: Vec<&str> = charts.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, [KPI_CHART, TRAFFIC_CHART]);
    for (name, svg) in &charts {
        golden(name, svg);
        assert!(report.markdown().contains(&format!("]({name})")));
    }
    let dir = tempfile::tempdir().unwrap();
    orchestrator_obs::validate::write(&report, dir.path()).unwrap();
    for name in names {
        assert!(dir.path().join(name).is_file(), "{name}");
    }

    let mut kpis = report.inputs.kpis.clone().unwrap();
    kpis.kpis[0].name = "<script>alert(1)</script> & \"x\"".into();
    let svg = kpi_gaps(&kpis).unwrap();
    assert!(!svg.contains("<script>"), "{svg}");
    assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
    // A chart needs two points.
    let one = SummaryDoc {
        points: report.inputs.summary.clone().unwrap().points[..1].to_vec(),
        ..SummaryDoc::default()
    };
    assert_eq!(traffic(&one, i64::MAX), None);
}

/// Given an alert-quality run's results, the report gains their section (Markdown and JSON);
/// without, neither says anything about alert quality.
#[test]
fn an_alert_quality_run_adds_its_section() {
    use orchestrator_obs::quality::{
        Episode, IncidentSpan, QualityResults, RuleInfo, RunRecord, Schedule, TrafficPhase,
    };
    let plain = Report::build(inputs());
    assert!(!plain.markdown().contains("Alert quality"));
    assert!(plain.json()["alert_quality"].is_null());
    let firing = Episode {
        rule: "HighErrorRate".to_owned(),
        labels: "{}".to_owned(),
        state: "firing".to_owned(),
        start_s: 330.0,
        end_s: Some(700.0),
    };
    let results = QualityResults::from_run(RunRecord {
        tuning: "production".to_owned(),
        interval_s: 15.0,
        time_scale: 16.0,
        ran_s: 3600.0,
        partial: false,
        schedule: Schedule {
            seed: 7,
            length_s: 3600.0,
            incidents: vec![IncidentSpan {
                kind: "errors".to_owned(),
                start_s: 15.0,
                end_s: 600.0,
            }],
            traffic: vec![TrafficPhase {
                start_s: 0.0,
                users: 16,
                pause_ms: 0,
            }],
        },
        rules: vec![RuleInfo {
            name: "HighErrorRate".to_owned(),
            kind: Some("errors".to_owned()),
            severity: "high".to_owned(),
            for_s: 300.0,
            window_s: 90.0,
        }],
        prometheus: Some(vec![firing.clone()]),
        in_process: vec![firing],
        prometheus_note: "Prometheus: replayed.".to_owned(),
        disagreements: Vec::new(),
        requests: 1000,
    });
    let mut report = Report::build(inputs());
    report.alert_quality = Some(results);
    let md = report.markdown();
    assert!(md.contains("## Alert quality"), "{md}");
    assert!(
        md.contains(
            "| HighErrorRate | in-process | 1 | 1 | 100 % | 1 | 0 | 100 % | 315 s / 315 s |"
        ),
        "{md}"
    );
    assert!(
        md.contains("the same alerts fired at every evaluation"),
        "{md}"
    );
    let json = report.json();
    assert_eq!(json["alert_quality"]["tuning"], "production");
    assert_eq!(
        json["alert_quality"]["figures"].as_array().unwrap().len(),
        2
    );
}
