//! Grafana provisioning: the Prometheus datasource (and the tracing one its exemplars link
//! to) and the file provider of the dashboards.

use orchestrator_support::yaml::{Yaml, map};

/// `provisioning/datasources/prometheus.yml`: a Prometheus datasource at `url`, the default.
pub fn datasource(url: &str) -> String {
    map([
        ("apiVersion", Yaml::Int(1)),
        ("datasources", Yaml::List(vec![prometheus(url, Vec::new())])),
    ])
    .render()
}

/// The same, with a Jaeger datasource at `jaeger_url`: the Prometheus datasource links each
/// exemplar's `trace_id` to it, so a point on a latency panel opens its trace.
pub fn datasources_with_traces(prometheus_url: &str, jaeger_url: &str) -> String {
    let links = vec![map([
        ("name", "trace_id".into()),
        ("datasourceUid", "jaeger".into()),
    ])];
    map([
        ("apiVersion", Yaml::Int(1)),
        (
            "datasources",
            Yaml::List(vec![
                prometheus(prometheus_url, links),
                map([
                    ("name", "Jaeger".into()),
                    ("type", "jaeger".into()),
                    ("uid", "jaeger".into()),
                    ("access", "proxy".into()),
                    ("url", jaeger_url.into()),
                ]),
            ]),
        ),
    ])
    .render()
}

fn prometheus(url: &str, exemplar_links: Vec<Yaml>) -> Yaml {
    let mut json_data = vec![("timeInterval", Yaml::from("15s"))];
    if !exemplar_links.is_empty() {
        json_data.push(("exemplarTraceIdDestinations", Yaml::List(exemplar_links)));
    }
    map([
        ("name", "Prometheus".into()),
        ("type", "prometheus".into()),
        ("uid", "prometheus".into()),
        ("access", "proxy".into()),
        ("url", url.into()),
        ("isDefault", Yaml::Bool(true)),
        ("jsonData", map(json_data)),
    ])
}

/// `provisioning/dashboards/orchestrator.yml`: loads the dashboards' JSON files from `path`
/// into the folder `Orchestrator`.
pub fn dashboard_provider(path: &str) -> String {
    map([
        ("apiVersion", Yaml::Int(1)),
        (
            "providers",
            Yaml::List(vec![map([
                ("name", "orchestrator-telemetry".into()),
                ("folder", "Orchestrator".into()),
                ("type", "file".into()),
                ("disableDeletion", Yaml::Bool(false)),
                ("updateIntervalSeconds", Yaml::Int(30)),
                ("allowUiUpdates", Yaml::Bool(false)),
                (
                    "options",
                    map([
                        ("path", path.into()),
                        ("foldersFromFilesStructure", Yaml::Bool(false)),
                    ]),
                ),
            ])]),
        ),
    ])
    .render()
}
