//! `orchestrator-obs`: `generate --out DIR` writes the deployment bundle; `validate --target
//! URL --out DIR` writes `report.json` and `report.md`.
//!
//! Exit codes: 0 success; 1 the score is below `--min-score`; 2 the target is unreachable;
//! 3 another error (a bad option, a file that cannot be written).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use orchestrator_alerts::generate::Routing;
use orchestrator_obs::bundle::{self, BundleOptions, CollectorMetrics};
use orchestrator_obs::validate::{self, ValidateError, ValidateOptions};

#[derive(Debug, Parser)]
#[command(
    name = "orchestrator-obs",
    version,
    about = "Deployment bundle and validation report for orchestrator-telemetry"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes the deployment bundle: Prometheus configuration, rules and promtool tests,
    /// Alertmanager, Grafana provisioning and dashboards, the OpenTelemetry Collector, a
    /// compose file and a README.
    Generate {
        /// The directory to write into (created if needed; generated files are replaced).
        #[arg(long)]
        out: PathBuf,
        /// An orchestrator telemetry listener to scrape, `host:port` (repeat for replicas).
        #[arg(long = "target", default_value = "host.docker.internal:9464")]
        targets: Vec<String>,
        /// The service name: the job, the `service` label.
        #[arg(long, default_value = "orchestrator")]
        service: String,
        /// Where Prometheus sends alerts, `host:port`.
        #[arg(long, default_value = "alertmanager:9093")]
        alertmanager: String,
        /// Severities to receivers, `SEVERITY[|SEVERITY]=CHANNEL[,CHANNEL]` with channels
        /// `pagerduty`, `slack`, `email` (repeat; default: critical=pagerduty,slack
        /// high=slack,email medium|low=email).
        #[arg(long = "route")]
        routes: Vec<String>,
        /// Puts the tail-sampling processor (errors, slow traces, 10 % of the rest) in the
        /// Collector's pipeline.
        #[arg(long)]
        tail_sampling: bool,
        /// Where the Collector's metrics pipeline sends what replicas push over OTLP:
        /// `remote-write` (into the bundle's Prometheus) or `otlp=HOST:PORT` (another
        /// OpenTelemetry backend).
        #[arg(long, default_value = "remote-write", value_parser = CollectorMetrics::parse)]
        collector_metrics: CollectorMetrics,
        /// How often Prometheus scrapes and evaluates the alert rules (`15s`, `1m`, `500ms`).
        #[arg(long, default_value = "15s", value_parser = prometheus_duration)]
        scrape_interval: Duration,
        /// How often Prometheus evaluates the KPI recording rules.
        #[arg(long, default_value = "1m", value_parser = prometheus_duration)]
        kpi_interval: Duration,
        /// Sends every alert to this webhook instead of PagerDuty, Slack and email (routing,
        /// grouping and inhibition stay as generated): for trying the setup locally.
        #[arg(long, value_name = "URL")]
        webhook: Option<String>,
        /// How long Alertmanager waits to group a new alert group's first notification.
        #[arg(long, default_value = "30s", value_parser = prometheus_duration)]
        group_wait: Duration,
        /// How long Alertmanager waits before notifying a group that changed.
        #[arg(long, default_value = "5m", value_parser = prometheus_duration)]
        group_interval: Duration,
    },
    /// Checks each component against a running orchestrator and writes report.json and
    /// report.md.
    Validate {
        /// The orchestrator's telemetry base URL, serving /metrics and /api/v1/...
        #[arg(long)]
        target: String,
        /// A Prometheus scraping the target.
        #[arg(long)]
        prometheus: Option<String>,
        /// An Alertmanager receiving its alerts.
        #[arg(long)]
        alertmanager: Option<String>,
        /// The target's bearer token. Visible to anyone who lists processes: prefer
        /// `--token-file` or the `ORCHESTRATOR_TELEMETRY_TOKEN` environment variable.
        #[arg(long, conflicts_with = "token_file")]
        token: Option<String>,
        /// A file holding the target's bearer token (surrounding whitespace ignored), such
        /// as a mounted Kubernetes secret.
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Seconds between the two scrapes rates are measured over.
        #[arg(long, default_value_t = 2.0)]
        interval: f64,
        /// The overall deadline of each request, in seconds.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
        /// The largest body read per request (a larger one fails that request).
        #[arg(long, default_value_t = validate::VALIDATE_BODY_LIMIT)]
        max_body_bytes: usize,
        /// Simulated viewers polling the live page's API at once for the dashboard
        /// performance section (0 skips it).
        #[arg(long, default_value_t = validate::DEFAULT_VIEWERS, value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(0..=1000), usize::from))]
        viewers: usize,
        /// The highest concurrency the dashboard queries are run at against Prometheus
        /// (levels 1, 2, 4, … up to it).
        #[arg(long, default_value_t = 8, value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..=256), usize::from))]
        max_query_concurrency: usize,
        /// PEM certificates trusted beside the system's roots, for https targets.
        #[arg(long)]
        cacert: Option<PathBuf>,
        /// Where to write report.json and report.md.
        #[arg(long)]
        out: PathBuf,
        /// Exit with code 1 when the score (checks passed / checks run) is below this.
        #[arg(long)]
        min_score: Option<f64>,
        /// An alert-quality run's alert-quality.json (`scripts/alert-quality`): the report
        /// gains an "Alert quality" section with its targets and per-rule figures.
        #[arg(long, value_name = "FILE")]
        alert_quality: Option<PathBuf>,
    },
}

/// A Prometheus duration: a whole number and `ms`, `s`, `m`, `h` or `d`.
fn prometheus_duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not a duration such as 15s, 1m or 500ms"))?;
    let ms = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{s}` is not a duration such as 15s, 1m or 500ms")),
    };
    match n.checked_mul(ms) {
        Some(0) => Err(format!("`{s}`: the duration must be positive")),
        Some(ms) => Ok(Duration::from_millis(ms)),
        None => Err(format!("`{s}` is too long")),
    }
}

/// The environment variable `validate` reads the bearer token from, when neither
/// `--token` nor `--token-file` is given.
const TOKEN_ENV: &str = "ORCHESTRATOR_TELEMETRY_TOKEN";

/// The bearer token: `--token`, else `--token-file`, else `ORCHESTRATOR_TELEMETRY_TOKEN`.
fn bearer_token(
    flag: Option<String>,
    file: Option<&std::path::Path>,
) -> Result<Option<String>, String> {
    let token = match (flag, file) {
        (Some(token), _) => Some(token),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--token-file {}: {e}", path.display()))?;
            Some(text.trim().to_owned())
        }
        (None, None) => std::env::var(TOKEN_ENV).ok(),
    };
    match token {
        Some(t) if t.trim().is_empty() => Err(
            "the bearer token is empty (--token, --token-file or ORCHESTRATOR_TELEMETRY_TOKEN)"
                .into(),
        ),
        other => Ok(other),
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Generate {
            out,
            targets,
            service,
            alertmanager,
            routes: specs,
            tail_sampling,
            collector_metrics,
            scrape_interval,
            kpi_interval,
            webhook,
            group_wait,
            group_interval,
        } => {
            let mut options = BundleOptions {
                targets,
                service: service.clone(),
                alertmanager_target: alertmanager,
                tail_sampling,
                collector_metrics,
                scrape_interval,
                kpi_interval,
                ..BundleOptions::default()
            };
            options.alertmanager.service_label = "service".to_owned();
            options.alertmanager.webhook_override = webhook;
            options.alertmanager.group_wait = group_wait;
            options.alertmanager.group_interval = group_interval;
            if !specs.is_empty() {
                match Routing::parse(&specs) {
                    Ok(r) => options.alertmanager.routes = r,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(3);
                    }
                }
            }
            match bundle::write(&out, &options) {
                Ok(paths) => {
                    for p in paths {
                        println!("{}", p.display());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(3)
                }
            }
        }
        Command::Validate {
            target,
            prometheus,
            alertmanager,
            token,
            token_file,
            interval,
            timeout,
            max_body_bytes,
            viewers,
            max_query_concurrency,
            cacert,
            out,
            min_score,
            alert_quality,
        } => {
            let token = match bearer_token(token, token_file.as_deref()) {
                Ok(token) => token,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(3);
                }
            };
            if !(interval.is_finite() && interval > 0.0 && interval <= 300.0) {
                eprintln!("error: --interval must be between 0 and 300 seconds");
                return ExitCode::from(3);
            }
            if !(timeout.is_finite() && timeout > 0.0 && timeout <= 600.0) {
                eprintln!("error: --timeout must be between 0 and 600 seconds");
                return ExitCode::from(3);
            }
            let mut files = orchestrator_http::TlsFiles::new();
            if let Some(path) = cacert {
                files = files.ca("--cacert", path);
            }
            let tls = match files.load() {
                Ok(tls) => tls,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(3);
                }
            };
            if let Some(m) = min_score.filter(|m| !(0.0..=1.0).contains(m)) {
                eprintln!("error: --min-score {m} must be between 0 and 1");
                return ExitCode::from(3);
            }
            let options = ValidateOptions {
                prometheus,
                alertmanager,
                token,
                interval: Duration::from_secs_f64(interval),
                timeout: Duration::from_secs_f64(timeout),
                max_body_bytes,
                tls,
                viewers,
                max_query_concurrency,
                alert_quality,
                ..ValidateOptions::new(target)
            };
            match validate::run(&options, &out) {
                Ok(report) => {
                    let passed = report.checks.iter().filter(|c| c.passed).count();
                    println!(
                        "score {:.2} ({passed}/{} checks passed); wrote {}",
                        report.score(),
                        report.checks.len(),
                        out.display()
                    );
                    for c in report.checks.iter().filter(|c| !c.passed) {
                        println!("  failed: [{}] {}: {}", c.component, c.name, c.reason);
                    }
                    match min_score {
                        Some(min) if report.score() < min => ExitCode::from(1),
                        _ => ExitCode::SUCCESS,
                    }
                }
                Err(e @ ValidateError::Unreachable(_)) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(3)
                }
            }
        }
    }
}
