//! System health: CPU, memory, network, errors. 8 panels, 30 s.

use orchestrator_alerts::error_ratio;
use orchestrator_metrics::catalogue as c;
use orchestrator_query::{Expr, Selector};

use super::{five_minutes, quantile, rate_by};
use crate::exporters::standard;
use crate::panel::{Kind, Panel, Query};
use crate::{Context, Dashboard, DashboardError};

fn node(name: &str) -> Result<&'static crate::ExporterMetric, DashboardError> {
    standard(name).ok_or_else(|| DashboardError::Source(format!("undeclared metric {name}")))
}

/// The system health dashboard.
pub fn system_health(ctx: &Context) -> Result<Dashboard, DashboardError> {
    let memory = Expr::value(Selector::of(&c::MEMORY_USAGE_BYTES))?
        .ratio(Expr::value(Selector::of(&c::MEMORY_LIMIT_BYTES))?)?;
    let panels = vec![
        Panel::new(
            Kind::TimeSeries,
            "CPU usage",
            "percentunit",
            Query::exporter(
                r#"1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))"#,
                &[node("node_cpu_seconds_total")?],
                "{{instance}}",
            ),
        )
        .describe("Busy share of the hosts' CPUs (node_exporter)."),
        Panel::new(
            Kind::TimeSeries,
            "Memory against its limit",
            "percentunit",
            Query::of(memory, "used / limit"),
        )
        .describe("Resident memory over the cgroup limit; the critical alert fires above the red line.")
        .thresholds(ctx.alert_thresholds("MemoryUsageCritical")?),
        Panel::new(
            Kind::TimeSeries,
            "Resident memory",
            "bytes",
            Query::of(Expr::value(Selector::of(&c::MEMORY_USAGE_BYTES))?, "used"),
        )
        .query(Query::of(
            Expr::value(Selector::of(&c::MEMORY_LIMIT_BYTES))?,
            "limit",
        )),
        Panel::new(
            Kind::TimeSeries,
            "Network received",
            "Bps",
            Query::exporter(
                r#"sum by (instance) (rate(node_network_receive_bytes_total{device!="lo"}[5m]))"#,
                &[node("node_network_receive_bytes_total")?],
                "{{instance}}",
            ),
        ),
        Panel::new(
            Kind::TimeSeries,
            "Network transmitted",
            "Bps",
            Query::exporter(
                r#"sum by (instance) (rate(node_network_transmit_bytes_total{device!="lo"}[5m]))"#,
                &[node("node_network_transmit_bytes_total")?],
                "{{instance}}",
            ),
        ),
        Panel::new(
            Kind::TimeSeries,
            "Error rate",
            "percentunit",
            Query::of(error_ratio(five_minutes()?)?, "5xx / requests"),
        )
        .describe("Share of API requests answered 5xx; the high-error-rate alert fires above the red line.")
        .thresholds(ctx.alert_thresholds("HighErrorRate")?),
        Panel::new(
            Kind::TimeSeries,
            "Errors by component",
            "short",
            Query::of(rate_by(&c::ERRORS_TOTAL, &["component", "kind"])?, "{{component}} {{kind}}"),
        ),
        Panel::new(
            Kind::TimeSeries,
            "Request duration p95",
            "s",
            Query::of(quantile(0.95, &c::REQUEST_DURATION_SECONDS)?, "p95"),
        )
        // The LLM calls inside the requests, on the same axis; all three show exemplars.
        .query(Query::of(quantile(0.95, &c::LLM_LATENCY_SECONDS)?, "LLM call p95"))
        .query(Query::of(
            quantile(0.95, &c::LLM_TIME_TO_FIRST_TOKEN_SECONDS)?,
            "LLM first token p95",
        ))
        .describe("API requests, and the LLM calls they make, at the 95th percentile; points are exemplars that open their trace.")
        .thresholds(ctx.alert_thresholds("ResponseTimeDegradation")?),
    ];
    Ok(Dashboard {
        uid: "orchestrator-system-health",
        title: "Orchestrator — System health",
        refresh: "30s",
        from: "now-3h",
        panels,
    })
}
