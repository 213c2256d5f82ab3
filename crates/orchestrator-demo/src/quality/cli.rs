//! The `alert-quality` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use orchestrator_telemetry::orchestrator_alerts::{AlertTuning, default_rules};

use super::schedule::{self, Scale};
use super::{QualityConfig, run};
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
            TuningName::Demo => Duration::from_secs(1),
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
    /// The run these arguments ask for; `stop` ends it early.
    pub fn config(
        &self,
        stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> Result<QualityConfig, String> {
        let tuning = self.tuning.tuning();
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
            tuning: self.tuning.as_str().to_owned(),
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
        println!(
            "alert-quality: {} min of simulated time at {}× ({} tuning, seed {}), {} incidents; Ctrl-C stops early and keeps the figures of what ran",
            args.minutes,
            config.speed,
            config.tuning,
            args.seed,
            config.schedule.incidents.len()
        );
        match run(config).await {
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
