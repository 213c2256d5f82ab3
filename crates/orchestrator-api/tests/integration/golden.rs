//! The wire format of the four `/api/v1` documents, pinned: the live page's script and
//! external readers depend on these field names and value spellings. Each document is
//! serialized to a golden file and read back equal.
//!
//! To accept a deliberate change: `UPDATE_GOLDEN=1 cargo test -p orchestrator-api`.

use orchestrator_api::{
    AgentRow, AlertsDoc, Bucket, BudgetRow, Direction, ExportDoc, FigureDoc, KpiDoc, KpiScope,
    KpisDoc, LlmRow, OperationDoc, RuleDoc, RuleState, ScoreDoc, Severity, SpanDoc, SummaryDoc,
    SummaryPoint, TenantSpend, TraceAnalysisDoc, TraceDoc, TracesDoc, UsersDoc, UsersScope,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn pinned<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(name: &str, doc: &T) {
    let text = serde_json::to_string_pretty(doc).unwrap() + "\n";
    orchestrator_testkit::golden(env!("CARGO_MANIFEST_DIR"), name, &text);
    let back: T = serde_json::from_str(&text).unwrap();
    assert_eq!(&back, doc, "{name} reads back equal");
}

#[test]
fn summary() {
    pinned(
        "summary.json",
        &SummaryDoc {
            started_at: 1_795_000_000_000,
            sampled_at: Some(1_795_000_002_000),
            requests_total: 60.0,
            server_errors_total: 6.0,
            points: vec![
                SummaryPoint {
                    t: 1_795_000_001_000,
                    request_rate: 20.0,
                    p95_seconds: Some(0.19),
                    p95_bucket: Some(Bucket {
                        lower: Some(0.15),
                        upper: Some(0.2),
                    }),
                    error_rate: Some(0.1),
                },
                SummaryPoint {
                    t: 1_795_000_002_000,
                    request_rate: 0.0,
                    p95_seconds: None,
                    p95_bucket: None,
                    error_rate: None,
                },
            ],
            llm: vec![LlmRow {
                provider: "openai".into(),
                model: "gpt-4o-mini".into(),
                calls: 60.0,
                failed: 2.0,
                p95_seconds: Some(0.3),
                p95_bucket: Some(Bucket {
                    lower: Some(0.16),
                    upper: Some(0.32),
                }),
                ttft_p95_seconds: None,
                ttft_p95_bucket: None,
                input_tokens: 6000.0,
                output_tokens: 2400.0,
                usage_missing: 3.0,
                usage_estimated: 0.0,
                cost_usd: 0.00234,
            }],
            top_tenants: vec![TenantSpend {
                tenant: "acme".into(),
                cost_usd: 0.002,
            }],
            agents: vec![AgentRow {
                agent: "researcher".into(),
                runs: 12.0,
                failed: 1.0,
                p95_seconds: Some(1.8),
                p95_bucket: None,
                steps_p95: Some(4.6),
                tool_calls: 20.0,
                tool_errors: 1.0,
                cost_usd: 0.0012,
                limit_exceeded: 0.0,
            }],
            budgets: vec![BudgetRow {
                tenant: "acme".into(),
                period: "1d".into(),
                budget_usd: 25.0,
                spent_usd: 12.5,
                held_usd: 0.03,
                rejected: 4.0,
                enforced: true,
                shared: Some(true),
            }],
        },
    );
}

#[test]
fn kpis() {
    let kpi = |id: &str, value: Option<f64>, scope: KpiScope| KpiDoc {
        id: id.into(),
        name: "Monthly Active Users".into(),
        value,
        target: 10_000.0,
        gap: value.map(|v| (v - 10_000.0) / 10_000.0),
        met: false,
        direction: Direction::Higher,
        display_value: value.map_or("unavailable".into(), |v| format!("{v}")),
        scope,
        display_target: "10,000".into(),
        trend: value.map(|_| 0.112),
        display_trend: value.map_or("no data".into(), |_| "+11.2%".into()),
    };
    pinned(
        "kpis.json",
        &KpisDoc {
            evaluated_at: Some(1_795_000_002_000),
            met: 0,
            total: 3,
            kpis: vec![
                kpi("monthly_active_users", None, KpiScope::Fleet),
                kpi("revenue_per_user", Some(3.0), KpiScope::ReplicaOverFleet),
                KpiDoc {
                    direction: Direction::Lower,
                    ..kpi("error_rate", Some(0.01), KpiScope::Replica)
                },
            ],
            figures: vec![
                FigureDoc {
                    id: "revenue".into(),
                    name: "Revenue".into(),
                    period: "1d".into(),
                    value: Some(1204.5),
                    display_value: "$1204.50".into(),
                    trend: Some(0.112),
                    display_trend: "+11.2%".into(),
                },
                FigureDoc {
                    id: "sessions".into(),
                    name: "Sessions".into(),
                    period: "1d".into(),
                    value: None,
                    display_value: "no data".into(),
                    trend: None,
                    display_trend: "no data".into(),
                },
            ],
            instance: Some("replica-1".into()),
            users: Some(UsersDoc {
                scope: UsersScope::Fleet,
                available: false,
                error: Some("cannot count distinct users: connection refused".into()),
            }),
        },
    );
    // Built without KPIs: no `users`, and nothing else missing.
    pinned("kpis-empty.json", &KpisDoc::default());
}

#[test]
fn alerts() {
    let rule = |name: &str, severity, state, since| RuleDoc {
        name: name.into(),
        title: orchestrator_title(name),
        condition: "error_rate > 1%".into(),
        severity,
        state,
        since,
        active_alerts: usize::from(state == RuleState::Firing),
    };
    pinned(
        "alerts.json",
        &AlertsDoc {
            evaluated_at: Some(1_795_000_002_000),
            firing: 1,
            total: 4,
            rules: vec![
                rule(
                    "HighErrorRate",
                    Severity::High,
                    RuleState::Firing,
                    Some(1_794_999_990_000),
                ),
                rule(
                    "MemoryUsageCritical",
                    Severity::Critical,
                    RuleState::Inactive,
                    None,
                ),
                rule(
                    "LowCustomerSatisfaction",
                    Severity::Medium,
                    RuleState::Pending,
                    Some(1_795_000_001_000),
                ),
                rule(
                    "BudgetWarning",
                    Severity::Low,
                    RuleState::Resolved,
                    Some(1_795_000_000_000),
                ),
            ],
        },
    );
}

/// `HighErrorRate` as `High Error Rate` (the fixture only needs a stable title).
fn orchestrator_title(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[test]
fn traces() {
    let span = |id: &str, parent: Option<&str>, name: &str, failed: bool| SpanDoc {
        span_id: id.into(),
        parent_span_id: parent.map(Into::into),
        name: name.into(),
        operation: if parent.is_some() {
            "LLM Request"
        } else {
            "API Request"
        }
        .into(),
        offset_ms: if parent.is_some() { 1.5 } else { 0.0 },
        duration_ms: 120.25,
        failed,
        error_type: failed.then(|| "rate_limited".into()),
        cost_usd: parent.map(|_| 0.00042),
        attributes: [("gen_ai.request.model".to_owned(), "gpt-4o".to_owned())]
            .into_iter()
            .collect(),
    };
    pinned(
        "traces.json",
        &TracesDoc {
            analysis: TraceAnalysisDoc {
                traces: 1,
                mean_duration_ms: 120.25,
                mean_spans: 2.0,
                operations: vec![OperationDoc {
                    operation: "LLM Request".into(),
                    spans: 1,
                    mean_ms: 120.25,
                    share: 0.98,
                }],
                sampler: "parentbased_traceidratio(0.1)".into(),
                export: Some(ExportDoc {
                    spans_exported: 40,
                    spans_dropped: 2,
                    last_error: Some("the export timed out after 10s".into()),
                    last_error_at: Some(1_795_000_001_500),
                }),
            },
            traces: vec![TraceDoc {
                trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
                root: "POST /v1/chat".into(),
                start: 1_795_000_000_000,
                duration_ms: 122.5,
                failed: true,
                cost_usd: Some(0.00042),
                scores: vec![ScoreDoc {
                    kind: "satisfaction".into(),
                    score: "9".into(),
                }],
                spans: vec![
                    span("00f067aa0ba902b7", None, "POST /v1/chat", true),
                    span(
                        "00f067aa0ba902b8",
                        Some("00f067aa0ba902b7"),
                        "chat gpt-4o",
                        true,
                    ),
                ],
            }],
        },
    );
    // Not exporting: no `export`.
    pinned("traces-empty.json", &TracesDoc::default());
}

/// Older producers wrote fewer fields: a reader still accepts them (what `validate` reads
/// from a service one release behind).
#[test]
fn optional_fields_may_be_absent() {
    let kpis: KpisDoc =
        serde_json::from_str(r#"{"evaluated_at": null, "met": 0, "total": 0, "kpis": []}"#)
            .unwrap();
    assert_eq!(kpis, KpisDoc::default());
    let traces: TracesDoc =
        serde_json::from_str(r#"{"analysis": {"traces": 0}, "traces": []}"#).unwrap();
    assert_eq!(traces, TracesDoc::default());
}
