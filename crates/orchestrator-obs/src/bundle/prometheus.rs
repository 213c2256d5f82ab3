//! `prometheus/prometheus.yml`: the scrape job, the rule files, the Alertmanager target.

use orchestrator_query::rules::duration;
use orchestrator_support::yaml::{Yaml, map};

use super::BundleOptions;

fn strings(items: &[String]) -> Yaml {
    Yaml::List(items.iter().map(|s| Yaml::Str(s.clone())).collect())
}

/// The Prometheus configuration. Retention is a command-line flag of Prometheus
/// (`--storage.tsdb.retention.time`), set in the compose file.
pub(crate) fn config(o: &BundleOptions) -> String {
    map([
        (
            "global",
            map([
                ("scrape_interval", duration(o.scrape_interval).into()),
                ("evaluation_interval", duration(o.scrape_interval).into()),
                (
                    "external_labels",
                    map([("service", o.service.clone().into())]),
                ),
            ]),
        ),
        ("rule_files", Yaml::List(vec!["rules/*.yml".into()])),
        (
            "alerting",
            map([(
                "alertmanagers",
                Yaml::List(vec![map([(
                    "static_configs",
                    Yaml::List(vec![map([(
                        "targets",
                        strings(std::slice::from_ref(&o.alertmanager_target)),
                    )])]),
                )])]),
            )]),
        ),
        (
            "scrape_configs",
            Yaml::List(vec![map([
                ("job_name", o.service.clone().into()),
                ("metrics_path", "/metrics".into()),
                (
                    "static_configs",
                    Yaml::List(vec![map([
                        ("targets", strings(&o.targets)),
                        ("labels", map([("service", o.service.clone().into())])),
                    ])]),
                ),
            ])]),
        ),
    ])
    .render()
}
