//! The facade's side of the live page: the JSON of `/api/v1/kpis`, `/api/v1/alerts` and
//! `/api/v1/traces`, read from the KPI engine, the alert evaluator and the trace store.

use orchestrator_exporters::live::LiveSource;
use serde_json::{Value, json};

/// Everything the page reads besides the registry.
pub(crate) struct Source {
    #[cfg(feature = "kpi")]
    pub(crate) kpis: orchestrator_kpi::KpiHandle,
    #[cfg(feature = "kpi")]
    pub(crate) kpi_config: orchestrator_kpi::KpiConfig,
    #[cfg(feature = "kpi")]
    pub(crate) activity: orchestrator_kpi::ActivityStatus,
    /// The replica's name (`service.instance.id`), shown on the page.
    #[cfg(feature = "kpi")]
    pub(crate) instance: Option<String>,
    #[cfg(feature = "alerts")]
    pub(crate) alerts: orchestrator_alerts::AlertsHandle,
    #[cfg(feature = "traces")]
    pub(crate) tracer: orchestrator_tower::Tracer,
}

impl LiveSource for Source {
    fn kpis(&self) -> Value {
        #[cfg(feature = "kpi")]
        {
            kpis(self)
        }
        #[cfg(not(feature = "kpi"))]
        json!({"evaluated_at": null, "met": 0, "total": 0, "kpis": []})
    }

    fn alerts(&self) -> Value {
        #[cfg(feature = "alerts")]
        {
            alerts(self)
        }
        #[cfg(not(feature = "alerts"))]
        json!({"evaluated_at": null, "firing": 0, "total": 0, "rules": []})
    }

    fn traces(&self) -> Value {
        #[cfg(feature = "traces")]
        {
            traces(&self.tracer)
        }
        #[cfg(not(feature = "traces"))]
        json!({"analysis": {"traces": 0}, "traces": []})
    }
}

#[cfg(feature = "kpi")]
fn kpis(source: &Source) -> Value {
    use orchestrator_kpi::{ActivityScope, Direction};
    let report = source.kpis.latest();
    let users = &source.activity;
    let list: Vec<Value> = source
        .kpi_config
        .kpis()
        .iter()
        .map(|kpi| {
            let result = report.as_ref().and_then(|r| r.get(kpi.id));
            let value = result.and_then(|r| r.value);
            let users_series = |sel: &orchestrator_query::Selector| {
                sel.def().name == orchestrator_metrics::catalogue::ACTIVE_USERS.name
            };
            let selectors = kpi.expr.selectors();
            let reads_users = selectors.iter().any(|(sel, _)| users_series(sel));
            let reads_others = selectors.iter().any(|(sel, _)| !users_series(sel));
            // Whose figure it is: distinct users are the fleet's when counted in Redis,
            // every other series is this replica's own.
            let scope = match (reads_users, reads_others, users.scope()) {
                (true, false, ActivityScope::Fleet) => "fleet",
                (true, true, ActivityScope::Fleet) => "replica/fleet",
                _ => "replica",
            };
            let display = match value {
                None if reads_users && !users.is_available() => "unavailable".to_owned(),
                None => "no data".to_owned(),
                Some(v) => kpi.unit.format(v),
            };
            json!({
                "id": kpi.id,
                "name": kpi.name,
                "value": value,
                "target": kpi.target,
                "gap": result.and_then(|r| r.gap),
                "met": result.is_some_and(|r| r.met()),
                "direction": match kpi.direction {
                    Direction::HigherIsBetter => "higher",
                    Direction::LowerIsBetter => "lower",
                },
                "display_value": display,
                "scope": scope,
                "display_target": kpi.unit.format(kpi.target),
            })
        })
        .collect();
    json!({
        "evaluated_at": report.as_ref().map(|r| r.at),
        "met": report.as_ref().map_or(0, |r| r.met()),
        "total": list.len(),
        "kpis": list,
        "instance": source.instance,
        "users": {
            "scope": users.scope().as_str(),
            "available": users.is_available(),
            "error": users.error(),
        },
    })
}

#[cfg(feature = "alerts")]
fn alerts(source: &Source) -> Value {
    let Some(report) = source.alerts.latest() else {
        return json!({"evaluated_at": null, "firing": 0, "total": 0, "rules": []});
    };
    let rules: Vec<Value> = report
        .rules
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "title": orchestrator_alerts::title(&r.name),
                "condition": r.condition,
                "severity": r.severity.as_str(),
                "state": r.status.map_or("inactive", |s| s.as_str()),
                "since": r.since,
                "active_alerts": r.alerts.len(),
            })
        })
        .collect();
    json!({
        "evaluated_at": report.at,
        "firing": report.firing(),
        "total": rules.len(),
        "rules": rules,
    })
}

#[cfg(feature = "traces")]
fn traces(tracer: &orchestrator_tower::Tracer) -> Value {
    use std::time::UNIX_EPOCH;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
    fn ms(d: std::time::Duration) -> f64 {
        d.as_secs_f64() * 1e3
    }
    let stored = tracer.store().traces();
    let analysis = orchestrator_tower::TraceAnalysis::of(&stored);
    // A feedback span arrives after its judged trace, as a trace of its own with the same
    // id: its score is shown on the judged trace instead.
    let feedback = |trace: &orchestrator_tower::Trace| -> Option<Value> {
        let [span] = trace.spans.as_slice() else {
            return None;
        };
        let attribute = |key: &str| {
            span.attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.to_string())
        };
        Some(json!({"kind": attribute("feedback.kind")?, "score": attribute("feedback.score")?}))
    };
    let mut scores: std::collections::HashMap<[u8; 16], Vec<Value>> = Default::default();
    for trace in &stored {
        if let Some(score) = feedback(trace) {
            scores.entry(trace.trace_id()).or_default().push(score);
        }
    }
    let recent: Vec<Value> = stored
        .iter()
        .rev()
        .filter(|trace| feedback(trace).is_none())
        .take(20)
        .filter_map(|trace| {
            let root = trace.root()?;
            let mut spans: Vec<_> = trace.spans.iter().collect();
            spans.sort_by_key(|s| s.start);
            let spans: Vec<Value> = spans
                .iter()
                .map(|s| {
                    let attributes: serde_json::Map<String, Value> = s
                        .attributes
                        .iter()
                        .map(|kv| (kv.key.to_string(), Value::String(kv.value.to_string())))
                        .collect();
                    json!({
                        "span_id": hex(&s.span_id),
                        "parent_span_id": s.parent_span_id.map(|p| hex(&p)),
                        "name": s.name,
                        "operation": s.operation.name(),
                        "offset_ms": ms(s.start.duration_since(root.start).unwrap_or_default()),
                        "duration_ms": ms(s.duration()),
                        "failed": s.failed,
                        "error_type": s.error_type,
                        "attributes": attributes,
                    })
                })
                .collect();
            Some(json!({
                "trace_id": hex(&trace.trace_id()),
                "root": root.name,
                "start": root.start.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
                "duration_ms": ms(trace.duration()),
                "failed": root.failed,
                "scores": scores.get(&trace.trace_id()).cloned().unwrap_or_default(),
                "spans": spans,
            }))
        })
        .collect();
    let operations: Vec<Value> = analysis
        .operations
        .iter()
        .map(|o| {
            json!({
                "operation": o.operation.name(),
                "spans": o.spans,
                "mean_ms": ms(o.mean),
                "share": o.share,
            })
        })
        .collect();
    json!({
        "analysis": {
            "traces": analysis.traces,
            "mean_duration_ms": ms(analysis.mean_duration),
            "mean_spans": analysis.mean_spans,
            "operations": operations,
            "sampler": tracer.sampler().to_string(),
        },
        "traces": recent,
    })
}
