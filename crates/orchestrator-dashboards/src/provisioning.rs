//! Grafana provisioning: the Prometheus datasource and the file provider of the dashboards.

use orchestrator_query::yaml::{Yaml, map};

/// `provisioning/datasources/prometheus.yml`: a Prometheus datasource at `url`, the default.
pub fn datasource(url: &str) -> String {
    map([
        ("apiVersion", Yaml::Int(1)),
        (
            "datasources",
            Yaml::List(vec![map([
                ("name", "Prometheus".into()),
                ("type", "prometheus".into()),
                ("uid", "prometheus".into()),
                ("access", "proxy".into()),
                ("url", url.into()),
                ("isDefault", Yaml::Bool(true)),
                ("jsonData", map([("timeInterval", "15s".into())])),
            ])]),
        ),
    ])
    .render()
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
