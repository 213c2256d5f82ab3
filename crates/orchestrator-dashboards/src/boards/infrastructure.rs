//! Infrastructure: Kubernetes, the database, the cache and the load balancer, from the
//! standard exporters' metrics (plus the orchestrator's own view of its dependencies). 20
//! panels, 15 s.

use orchestrator_metrics::catalogue as c;
use orchestrator_query::{Expr, Selector, Window};

use crate::exporters::{ExporterMetric, standard};
use crate::panel::{Kind, Panel, Query};
use crate::{Context, Dashboard, DashboardError};

fn declared(name: &str) -> Result<&'static ExporterMetric, DashboardError> {
    standard(name).ok_or_else(|| DashboardError::Source(format!("undeclared metric {name}")))
}

/// A panel over one standard-exporter metric.
fn infra(
    kind: Kind,
    title: &str,
    unit: &'static str,
    metric: &str,
    promql: &str,
    legend: &str,
) -> Result<Panel, DashboardError> {
    Ok(Panel::new(
        kind,
        title,
        unit,
        Query::exporter(promql, &[declared(metric)?], legend),
    ))
}

/// The infrastructure dashboard.
pub fn infrastructure(_ctx: &Context) -> Result<Dashboard, DashboardError> {
    use Kind::{Stat, TimeSeries};
    let five = Window::minutes(5)?;
    let dependency_p95 = |kind: &str| -> Result<Expr, DashboardError> {
        let buckets = Selector::buckets(&c::DEPENDENCY_DURATION_SECONDS).eq("dependency", kind);
        Ok(Expr::histogram_quantile(
            0.95,
            Expr::rate(buckets, five)?.sum_by(["le", "target"])?,
        )?)
    };
    let cache_reads = |result: Option<&str>| -> Result<Expr, DashboardError> {
        let sel = Selector::of(&c::CACHE_OPERATIONS_TOTAL).eq("operation", "get");
        let sel = match result {
            Some(r) => sel.eq("result", r),
            None => sel,
        };
        Ok(Expr::rate(sel, five)?.sum())
    };
    let restarts =
        "sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total[1h]))";
    let panels = vec![
        // Kubernetes.
        infra(
            Stat,
            "Pods running",
            "short",
            "kube_pod_status_phase",
            r#"sum(kube_pod_status_phase{phase="Running"})"#,
            "running",
        )?,
        infra(
            TimeSeries,
            "Pods not running",
            "short",
            "kube_pod_status_phase",
            r#"sum by (phase) (kube_pod_status_phase{phase=~"Pending|Failed|Unknown"})"#,
            "{{phase}}",
        )?,
        infra(
            TimeSeries,
            "Container restarts (1 h)",
            "short",
            "kube_pod_container_status_restarts_total",
            restarts,
            "{{namespace}}/{{pod}}",
        )?,
        Panel::new(
            TimeSeries,
            "Deployment replicas available / desired",
            "short",
            Query::exporter(
                "sum by (deployment) (kube_deployment_status_replicas_available)",
                &[declared("kube_deployment_status_replicas_available")?],
                "{{deployment}} available",
            ),
        )
        .query(Query::exporter(
            "sum by (deployment) (kube_deployment_spec_replicas)",
            &[declared("kube_deployment_spec_replicas")?],
            "{{deployment}} desired",
        )),
        infra(
            Stat,
            "Nodes ready",
            "short",
            "kube_node_status_condition",
            r#"sum(kube_node_status_condition{condition="Ready",status="true"})"#,
            "ready",
        )?,
        Panel::new(
            TimeSeries,
            "Container CPU and memory",
            "short",
            Query::exporter(
                r#"sum by (pod) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))"#,
                &[declared("container_cpu_usage_seconds_total")?],
                "{{pod}} CPU cores",
            ),
        )
        .query(Query::exporter(
            r#"sum by (pod) (container_memory_working_set_bytes{container!=""}) / 1073741824"#,
            &[declared("container_memory_working_set_bytes")?],
            "{{pod}} memory GiB",
        )),
        // Database.
        infra(Stat, "PostgreSQL up", "short", "pg_up", "min(pg_up)", "up")?,
        infra(
            TimeSeries,
            "PostgreSQL connections",
            "short",
            "pg_stat_database_numbackends",
            "sum by (datname) (pg_stat_database_numbackends)",
            "{{datname}}",
        )?,
        Panel::new(
            TimeSeries,
            "PostgreSQL transactions",
            "ops",
            Query::exporter(
                "sum(rate(pg_stat_database_xact_commit[5m]))",
                &[declared("pg_stat_database_xact_commit")?],
                "commits",
            ),
        )
        .query(Query::exporter(
            "sum(rate(pg_stat_database_xact_rollback[5m]))",
            &[declared("pg_stat_database_xact_rollback")?],
            "rollbacks",
        )),
        infra(
            TimeSeries,
            "PostgreSQL deadlocks",
            "short",
            "pg_stat_database_deadlocks",
            "sum(increase(pg_stat_database_deadlocks[1h]))",
            "deadlocks (1 h)",
        )?,
        Panel::new(
            TimeSeries,
            "Database call p95, from the orchestrator",
            "s",
            Query::of(dependency_p95("database")?, "{{target}}"),
        ),
        // Cache.
        infra(Stat, "Redis up", "short", "redis_up", "min(redis_up)", "up")?,
        infra(
            TimeSeries,
            "Redis clients",
            "short",
            "redis_connected_clients",
            "sum(redis_connected_clients)",
            "clients",
        )?,
        infra(
            TimeSeries,
            "Redis memory",
            "bytes",
            "redis_memory_used_bytes",
            "sum(redis_memory_used_bytes)",
            "used",
        )?,
        Panel::new(
            TimeSeries,
            "Redis keyspace hit ratio",
            "percentunit",
            Query::exporter(
                "sum(rate(redis_keyspace_hits_total[5m])) / (sum(rate(redis_keyspace_hits_total[5m])) + sum(rate(redis_keyspace_misses_total[5m])))",
                &[
                    declared("redis_keyspace_hits_total")?,
                    declared("redis_keyspace_misses_total")?,
                ],
                "hits / reads",
            ),
        ),
        Panel::new(
            TimeSeries,
            "Orchestrator cache hit ratio",
            "percentunit",
            Query::of(
                cache_reads(Some("hit"))?.ratio(cache_reads(None)?)?,
                "hits / reads",
            ),
        ),
        // Load balancer.
        infra(
            TimeSeries,
            "Ingress requests by status",
            "reqps",
            "nginx_ingress_controller_requests",
            "sum by (status) (rate(nginx_ingress_controller_requests[5m]))",
            "{{status}}",
        )?,
        infra(
            TimeSeries,
            "Ingress 5xx ratio",
            "percentunit",
            "nginx_ingress_controller_requests",
            r#"sum(rate(nginx_ingress_controller_requests{status=~"5.."}[5m])) / sum(rate(nginx_ingress_controller_requests[5m]))"#,
            "5xx / requests",
        )?,
        infra(
            TimeSeries,
            "Ingress latency p95",
            "s",
            "nginx_ingress_controller_request_duration_seconds_bucket",
            "histogram_quantile(0.95, sum by (le) (rate(nginx_ingress_controller_request_duration_seconds_bucket[5m])))",
            "p95",
        )?,
        infra(
            TimeSeries,
            "Ingress connections",
            "short",
            "nginx_ingress_controller_nginx_process_connections",
            "sum by (state) (nginx_ingress_controller_nginx_process_connections)",
            "{{state}}",
        )?,
    ];
    Ok(Dashboard {
        uid: "orchestrator-infrastructure",
        title: "Orchestrator — Infrastructure",
        refresh: "15s",
        from: "now-1h",
        panels,
    })
}
