//! The `alert-quality` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use orchestrator_telemetry::orchestrator_alerts::{AlertTuning, default_rules, parse_for};
use orchestrator_telemetry::orchestrator_query::Window;

use super::schedule::{self, Scale};
use super::{QualityConfig, rescore, run};
use crate::signals::StopSignal;

/// Which windows and `for` durations the rules run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TuningName {
    /// 5-minute windows, `for: 5m`, evaluated every 15 s (the defaults users get).
    Production,
    /// 30-second windows, `for: 10s`, evaluated every second (the demo's).
    Demo,
}

impl TuningName {
    fn tuning(self) -> AlertTuning {
        match self {
            TuningName::Production => AlertTuning::production(),
            TuningName::Demo => AlertTuning::demo(),
        }
    }

    fn interval(self) -> Duration {
        match self {
            TuningName::Production => Duration::from_secs(15),
            TuningName::Demo => Duration::from_secs(2),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            TuningName::Production => "production",
            TuningName::Demo => "demo",
        }
    }
}

/// Arguments of `alert-quality`.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "alert-quality",
    about = "Measures the alert rules against a seeded schedule of incidents: precision, recall, time to detect and to resolve, flaps, in-process and in Prometheus"
)]
pub struct QualityArgs {
    /// Length of the run in minutes of simulated time.
    #[arg(long, default_value_t = 120.0, value_parser = minutes)]
    pub minutes: f64,
    /// The rules' tuning.
    #[arg(long, value_enum, default_value_t = TuningName::Production)]
    pub tuning: TuningName,
    /// How much faster than real time the simulated clock runs (default: 20 with the
    /// production tuning, 1 with the demo's).
    #[arg(long, value_parser = speed)]
    pub speed: Option<f64>,
    /// Seed of the schedule (and of the demo's random choices).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The simulated provider's share of failed calls outside incidents.
    #[arg(long, default_value_t = 0.002)]
    pub baseline_error_rate: f64,
    /// Where the results go: alert-quality.json, .md, the timeline SVG, schedule.json and
    /// the Prometheus replay files.
    #[arg(long, default_value = "alert-quality")]
    pub out: PathBuf,
    /// Instead of running the demo, evaluate the rules (this tuning's) over the samples a
    /// previous run recorded in this directory, with its schedule: rules compared on the
    /// same traffic.
    #[arg(long, value_name = "DIR")]
    pub rescore: Option<PathBuf>,
    /// Overrides the tuning's window of the error-rate and latency rules (`2m`, `90s`).
    #[arg(long, value_name = "DURATION", value_parser = window)]
    pub rate_window: Option<Window>,
    /// Overrides the `for` of the error-rate, latency, memory, budget and agent rules.
    #[arg(long = "for", value_name = "DURATION", value_parser = hold)]
    pub for_: Option<Duration>,
    /// Overrides the satisfaction rule's window.
    #[arg(long, value_name = "DURATION", value_parser = window)]
    pub satisfaction_window: Option<Window>,
    /// Overrides the satisfaction rule's `for`.
    #[arg(long, value_name = "DURATION", value_parser = hold)]
    pub satisfaction_for: Option<Duration>,
    /// Overrides the fewest requests the error-rate and latency rules judge a window on.
    #[arg(long)]
    pub min_requests: Option<u64>,
    /// Overrides the fewest ratings the satisfaction rule judges a window on.
    #[arg(long)]
    pub min_ratings: Option<u64>,
}

fn hold(s: &str) -> Result<Duration, String> {
    parse_for("--for", s).map_err(|e| e.to_string())
}

fn window(s: &str) -> Result<Window, String> {
    Window::new(hold(s)?).map_err(|e| e.to_string())
}

fn minutes(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (1.0..=24.0 * 60.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}` is not a number of minutes between 1 and 1440"
        )),
    }
}

fn speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.1..=100.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a speed between 0.1 and 100")),
    }
}

impl QualityArgs {
    /// The tuning's name, with the overrides given (`production, rate window 1m`).
    fn tuning_name(&self) -> String {
        let show = |d: Duration| orchestrator_telemetry::orchestrator_query::rules::duration(d);
        let mut name = self.tuning.as_str().to_owned();
        let overrides = [
            self.rate_window
                .map(|w| format!("rate window {}", show(w.duration()))),
            self.for_.map(|d| format!("for {}", show(d))),
            self.satisfaction_window
                .map(|w| format!("satisfaction window {}", show(w.duration()))),
            self.satisfaction_for
                .map(|d| format!("satisfaction for {}", show(d))),
            self.min_requests.map(|n| format!("min requests {n}")),
            self.min_ratings.map(|n| format!("min ratings {n}")),
        ];
        for o in overrides.into_iter().flatten() {
            name.push_str(", ");
            name.push_str(&o);
        }
        name
    }

    /// The run these arguments ask for; `stop` ends it early.
    pub fn config(
        &self,
        stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> Result<QualityConfig, String> {
        let mut tuning = self.tuning.tuning();
        tuning.rate_window = self.rate_window.unwrap_or(tuning.rate_window);
        tuning.for_ = self.for_.unwrap_or(tuning.for_);
        tuning.satisfaction_window = self
            .satisfaction_window
            .unwrap_or(tuning.satisfaction_window);
        tuning.satisfaction_for = self.satisfaction_for.unwrap_or(tuning.satisfaction_for);
        tuning.min_requests = self.min_requests.unwrap_or(tuning.min_requests);
        tuning.min_ratings = self.min_ratings.unwrap_or(tuning.min_ratings);
        let rules = default_rules(&tuning).map_err(|e| e.to_string())?;
        let interval = self.tuning.interval();
        let scale = Scale {
            interval_s: interval.as_secs_f64(),
            for_s: tuning.for_.as_secs_f64(),
            slow_for_s: tuning.satisfaction_for.as_secs_f64(),
            window_s: tuning.rate_window.duration().as_secs_f64(),
        };
        Ok(QualityConfig {
            schedule: schedule::draw(self.seed, self.minutes * 60.0, scale),
            rules,
            tuning: self.tuning_name(),
            interval,
            speed: self.speed.unwrap_or(match self.tuning {
                TuningName::Production => 20.0,
                TuningName::Demo => 1.0,
            }),
            baseline_error_rate: self.baseline_error_rate,
            out: self.out.clone(),
            stop,
        })
    }
}

/// Parses the arguments, runs, prints the targets; exit status 1 when one is missed, 2 when
/// the run could not happen.
pub fn cli() -> ExitCode {
    use clap::Parser as _;
    let args = QualityArgs::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async move {
        let signal = StopSignal::listen();
        let config = match args.config(signal.flag()) {
            Ok(config) => config,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::from(2);
            }
        };
        let done = if let Some(from) = &args.rescore {
            println!(
                "alert-quality: the {} tuning's rules over the samples recorded in {}",
                config.tuning,
                from.display()
            );
            rescore(from, config).await
        } else {
            println!(
                "alert-quality: {} min of simulated time at {}× ({} tuning, seed {}), {} incidents; Ctrl-C stops early and keeps the figures of what ran",
                args.minutes,
                config.speed,
                config.tuning,
                args.seed,
                config.schedule.incidents.len()
            );
            run(config).await
        };
        match done {
            Ok(results) => {
                print!("{}", results.report_section());
                println!("\nWritten to {}", args.out.display());
                if results.targets_met() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::from(2)
            }
        }
    })
}
