//! The metrics of the standard exporters that the infrastructure panels query: the
//! orchestrator cannot know them, so they are declared here, each with the exporter that
//! exposes it. A panel may name no metric outside this list and the catalogue.

/// A standard Prometheus exporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exporter {
    /// `node_exporter`: host CPU, memory, network.
    Node,
    /// `kube-state-metrics`: Kubernetes objects.
    KubeStateMetrics,
    /// cAdvisor, built into the kubelet: container resource usage.
    Cadvisor,
    /// `postgres_exporter`.
    Postgres,
    /// `redis_exporter`.
    Redis,
    /// The ingress-nginx controller's own metrics: the load balancer.
    IngressNginx,
}

impl Exporter {
    /// Its usual name.
    pub const fn name(self) -> &'static str {
        match self {
            Exporter::Node => "node_exporter",
            Exporter::KubeStateMetrics => "kube-state-metrics",
            Exporter::Cadvisor => "cadvisor",
            Exporter::Postgres => "postgres_exporter",
            Exporter::Redis => "redis_exporter",
            Exporter::IngressNginx => "ingress-nginx",
        }
    }
}

/// One metric of a standard exporter, as it is named in Prometheus (histogram series with
/// their `_bucket` suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExporterMetric {
    /// The series name.
    pub name: &'static str,
    /// Who exposes it.
    pub exporter: Exporter,
}

const fn m(name: &'static str, exporter: Exporter) -> ExporterMetric {
    ExporterMetric { name, exporter }
}

/// Every standard-exporter metric a panel uses.
pub const STANDARD_METRICS: &[ExporterMetric] = &[
    m("node_cpu_seconds_total", Exporter::Node),
    m("node_network_receive_bytes_total", Exporter::Node),
    m("node_network_transmit_bytes_total", Exporter::Node),
    m("kube_pod_status_phase", Exporter::KubeStateMetrics),
    m(
        "kube_pod_container_status_restarts_total",
        Exporter::KubeStateMetrics,
    ),
    m(
        "kube_deployment_status_replicas_available",
        Exporter::KubeStateMetrics,
    ),
    m("kube_deployment_spec_replicas", Exporter::KubeStateMetrics),
    m("kube_node_status_condition", Exporter::KubeStateMetrics),
    m("container_cpu_usage_seconds_total", Exporter::Cadvisor),
    m("container_memory_working_set_bytes", Exporter::Cadvisor),
    m("pg_up", Exporter::Postgres),
    m("pg_stat_database_numbackends", Exporter::Postgres),
    m("pg_stat_database_xact_commit", Exporter::Postgres),
    m("pg_stat_database_xact_rollback", Exporter::Postgres),
    m("pg_stat_database_deadlocks", Exporter::Postgres),
    m("redis_up", Exporter::Redis),
    m("redis_connected_clients", Exporter::Redis),
    m("redis_memory_used_bytes", Exporter::Redis),
    m("redis_keyspace_hits_total", Exporter::Redis),
    m("redis_keyspace_misses_total", Exporter::Redis),
    m("nginx_ingress_controller_requests", Exporter::IngressNginx),
    m(
        "nginx_ingress_controller_request_duration_seconds_bucket",
        Exporter::IngressNginx,
    ),
    m(
        "nginx_ingress_controller_nginx_process_connections",
        Exporter::IngressNginx,
    ),
];

/// The declared metric called `name`, if any.
pub fn standard(name: &str) -> Option<&'static ExporterMetric> {
    STANDARD_METRICS.iter().find(|m| m.name == name)
}
