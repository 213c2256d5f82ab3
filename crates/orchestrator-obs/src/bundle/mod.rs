//! `orchestrator-obs generate`: the deployment bundle of the scaled setup, a thin layer over
//! the generators of the other crates (rules, promtool tests, Alertmanager, dashboards). The
//! files it adds itself (`prometheus.yml`, the Collector configuration, the compose file and
//! the README) only wire those together.

mod collector;
mod compose;
mod prometheus;
mod readme;

use std::path::{Path, PathBuf};
use std::time::Duration;

use orchestrator_alerts::generate::{
    AlertmanagerOptions, alertmanager_config, default_scenarios, promtool_tests, rule_groups,
};
use orchestrator_alerts::{AlertTuning, default_rules, default_slos};
use orchestrator_dashboards::{Context, dashboards, provisioning};
use orchestrator_kpi::{KpiConfig, recording_rules};
use orchestrator_query::rules::{RuleGroup, rule_file};

/// What the bundle is generated for.
#[derive(Debug, Clone)]
pub struct BundleOptions {
    /// The orchestrator's telemetry listeners Prometheus scrapes (`host:port`).
    pub targets: Vec<String>,
    /// The service name: job name, `service` label, Collector resource.
    pub service: String,
    /// Where Prometheus sends alerts (`host:port`).
    pub alertmanager_target: String,
    /// The Alertmanager configuration: receivers by severity, secrets directory.
    pub alertmanager: AlertmanagerOptions,
    /// Whether the Collector's traces pipeline runs the tail-sampling processor.
    pub tail_sampling: bool,
    /// Where the Collector's metrics pipeline (OTLP in, from replicas that push) sends.
    pub collector_metrics: CollectorMetrics,
    /// How often Prometheus scrapes and evaluates the alert rules.
    pub scrape_interval: Duration,
    /// How often Prometheus evaluates the KPI recording rules.
    pub kpi_interval: Duration,
    /// How long Prometheus keeps data.
    pub retention: &'static str,
}

impl Default for BundleOptions {
    fn default() -> Self {
        BundleOptions {
            targets: vec!["host.docker.internal:9464".to_owned()],
            service: "orchestrator".to_owned(),
            alertmanager_target: "alertmanager:9093".to_owned(),
            alertmanager: AlertmanagerOptions::default(),
            tail_sampling: false,
            collector_metrics: CollectorMetrics::RemoteWrite,
            scrape_interval: Duration::from_secs(15),
            kpi_interval: Duration::from_secs(60),
            retention: "30d",
        }
    }
}

/// Where the Collector sends the metrics replicas push to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectorMetrics {
    /// Prometheus remote write into the bundle's Prometheus (started with its remote-write
    /// receiver on), so the dashboards and rules work the same as when scraping.
    RemoteWrite,
    /// OTLP/gRPC to another backend, `host:port`.
    Otlp(String),
}

impl CollectorMetrics {
    /// `remote-write`, or `otlp=HOST:PORT`.
    pub fn parse(text: &str) -> Result<Self, InvalidCollectorMetrics> {
        match text.split_once('=') {
            None if text == "remote-write" => Ok(CollectorMetrics::RemoteWrite),
            Some(("otlp", endpoint)) if !endpoint.trim().is_empty() => {
                Ok(CollectorMetrics::Otlp(endpoint.trim().to_owned()))
            }
            _ => Err(InvalidCollectorMetrics {
                given: text.to_owned(),
            }),
        }
    }
}

/// A `--collector-metrics` value that is neither `remote-write` nor `otlp=HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?}: expected remote-write or otlp=HOST:PORT")]
pub struct InvalidCollectorMetrics {
    /// What was given.
    pub given: String,
}

/// A bundle could not be generated or written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A generator refused its input (an invalid rule, a missing KPI).
    #[error("generating {what}: {reason}")]
    Generate {
        /// The file or part.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// An option is invalid.
    #[error("{0}")]
    Option(String),
    /// A file could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn generate(what: &'static str) -> impl Fn(&dyn std::fmt::Display) -> BundleError {
    move |e| BundleError::Generate {
        what,
        reason: e.to_string(),
    }
}

/// The bundle's files, relative path first, in a stable order.
pub fn files(options: &BundleOptions) -> Result<Vec<(PathBuf, String)>, BundleError> {
    if options.targets.is_empty() {
        return Err(BundleError::Option(
            "at least one --target is needed".into(),
        ));
    }
    for target in &options.targets {
        if target.contains("://") || !target.contains(':') {
            return Err(BundleError::Option(format!(
                "target `{target}` must be host:port (the scrape path is /metrics)"
            )));
        }
    }
    let tuning = AlertTuning {
        service: options.service.clone(),
        ..AlertTuning::production()
    };
    let rules = default_rules(&tuning).map_err(|e| generate("alert rules")(&e))?;
    let slos = default_slos()
        .iter()
        .map(|s| Ok((s.name.clone(), s.rules(&options.service)?)))
        .collect::<Result<Vec<_>, orchestrator_alerts::SloError>>()
        .map_err(|e| generate("SLO rules")(&e))?;
    let mut every_alert = rules.clone();
    for (_, slo) in &slos {
        every_alert.extend(slo.alerts.iter().cloned());
    }
    let kpis = KpiConfig::default();
    let mut out: Vec<(PathBuf, String)> = vec![
        (
            "prometheus/prometheus.yml".into(),
            prometheus::config(options),
        ),
        (
            "prometheus/rules/alerts.yml".into(),
            rule_file(&rule_groups(&rules, &slos, None)),
        ),
        (
            "prometheus/rules/kpis.yml".into(),
            rule_file(&[RuleGroup {
                interval: Some(options.kpi_interval),
                ..recording_rules(&kpis)
            }]),
        ),
        (
            "prometheus/tests/alerts_test.yml".into(),
            promtool_tests("../rules/alerts.yml", &every_alert, &default_scenarios()),
        ),
        (
            "alertmanager/alertmanager.yml".into(),
            alertmanager_config(&options.alertmanager),
        ),
        (
            "grafana/provisioning/datasources/prometheus.yml".into(),
            provisioning::datasources_with_traces("http://prometheus:9090", "http://jaeger:16686"),
        ),
        (
            "grafana/provisioning/dashboards/orchestrator.yml".into(),
            provisioning::dashboard_provider("/var/lib/grafana/dashboards"),
        ),
    ];
    let context = Context {
        kpis,
        rules: rules.clone(),
    };
    for dashboard in dashboards(&context).map_err(|e| generate("dashboards")(&e))? {
        out.push((
            format!("grafana/dashboards/{}.json", dashboard.uid).into(),
            dashboard.render(),
        ));
    }
    out.push((
        "otel-collector/config.yaml".into(),
        collector::config(options),
    ));
    out.push(("docker-compose.yml".into(), compose::config(options)));
    out.push(("README.md".into(), readme::text(options)));
    Ok(out)
}

/// Writes the bundle under `dir` (created if needed); returns the paths written.
pub fn write(dir: &Path, options: &BundleOptions) -> Result<Vec<PathBuf>, BundleError> {
    let mut written = Vec::new();
    for (relative, content) in files(options)? {
        let path = dir.join(&relative);
        let fail = |source| BundleError::Write {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        std::fs::write(&path, content).map_err(fail)?;
        written.push(path);
    }
    Ok(written)
}
