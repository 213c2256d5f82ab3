//! The alert-quality run: the demo under a seeded schedule of incidents and traffic, its
//! rules evaluated in-process on a simulated clock and replayed through Prometheus's rule
//! engine over the same samples, scored by [`orchestrator_obs::quality`].
//!
//! **The clock.** Evaluations happen every `interval` of simulated time, `speed` times
//! faster than real time: the driver samples the registry and evaluates the rules at
//! `start + k × interval` every `interval / speed` of real time. The demo itself runs at
//! real speed (real HTTP, real latencies, real memory), so a request rate of R per real
//! second reads as R / speed per simulated second; latencies, ratios and memory are what
//! they are. Prometheus sees exactly the samples the in-process evaluator read (each one at
//! its evaluation's simulated time) through `promtool test rules`, Prometheus's own rule
//! engine: a live Prometheus scrapes on a wall clock that cannot be sped up.

mod cli;
mod prometheus;
mod record;
mod samples;
pub mod schedule;

pub use cli::{QualityArgs, TuningName, cli};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use orchestrator_obs::quality::{QualityResults, RuleInfo, RunRecord, Schedule};
use orchestrator_telemetry::orchestrator_alerts::{AlertEvaluator, AlertRule, EvaluatorConfig};
use orchestrator_telemetry::orchestrator_exporters::{ProcessCollectorConfig, resident_memory};
use orchestrator_telemetry::orchestrator_query::{SampleStore, Sampler, StoreLimits};
use orchestrator_telemetry::orchestrator_support::{Clock as _, SystemClock};
use orchestrator_telemetry::{Budget, Telemetry};

use crate::incident::{DEFAULT_BALLAST, Incident, IncidentSwitch};
use crate::load::{self, LoadConfig, Traffic};
use crate::provider::ProviderConfig;
use crate::server::{DemoConfig, DemoError, DemoServer, demo_prices};

/// A quality run's settings.
#[derive(Debug, Clone)]
pub struct QualityConfig {
    /// The ground truth.
    pub schedule: Schedule,
    /// The rules evaluated; those an incident kind exercises are judged against it
    /// ([`Incident::rule`]), the others by their false firings only.
    pub rules: Vec<AlertRule>,
    /// How the tuning is named in the results (`production`, `demo`).
    pub tuning: String,
    /// Simulated time between evaluations.
    pub interval: Duration,
    /// How much faster than real time the simulated clock runs.
    pub speed: f64,
    /// The simulated provider's share of failed calls outside incidents.
    pub baseline_error_rate: f64,
    /// Where the results, the schedule and the Prometheus replay files go.
    pub out: PathBuf,
    /// Set to stop early (Ctrl-C): the results cover what ran, marked partial.
    pub stop: Arc<AtomicBool>,
}

/// The longest range window `rule`'s condition reads (0 for instant values).
fn window_s(rule: &AlertRule) -> f64 {
    rule.condition()
        .selectors()
        .into_iter()
        .filter_map(|(_, w)| w.map(|w| w.duration().as_secs_f64()))
        .fold(0.0, f64::max)
}

fn rule_info(rule: &AlertRule) -> RuleInfo {
    RuleInfo {
        name: rule.name().to_owned(),
        kind: Incident::ALL
            .into_iter()
            .find(|k| k.rule() == rule.name())
            .map(|k| k.as_str().to_owned()),
        severity: rule.severity().as_str().to_owned(),
        for_s: rule.for_duration().as_secs_f64(),
        window_s: window_s(rule),
    }
}

/// Sets the incidents and the traffic the schedule holds at `t` seconds.
fn apply(schedule: &Schedule, t: f64, incidents: &IncidentSwitch, traffic: &Traffic) {
    for kind in Incident::ALL {
        let on = schedule
            .incidents
            .iter()
            .any(|i| i.kind == kind.as_str() && i.start_s <= t && t < i.end_s);
        incidents.set(kind, on);
    }
    if let Some(phase) = schedule.traffic.iter().rev().find(|p| p.start_s <= t) {
        traffic.set_active(phase.users);
        traffic.set_pause(Duration::from_millis(phase.pause_ms));
    }
}

/// Runs the demo under `config.schedule`, writes the results into `config.out` and returns
/// them.
pub async fn run(config: QualityConfig) -> Result<QualityResults, DemoError> {
    let interval_ms = i64::try_from(config.interval.as_millis())
        .unwrap_or(i64::MAX)
        .max(1);
    let real_step = config.interval.div_f64(config.speed.max(0.01));
    // As the demo's `--incident memory`: the limit is what runs now plus what the incident
    // fills, so the incident crosses 90 % of it and nothing else does.
    let mut builder = Telemetry::builder()
        .without_listener()
        .without_monitor()
        .prices(demo_prices()?)
        .tracing(|t| {
            t.service_name("orchestrator-demo")
                .agent_limits(crate::agent::RESEARCHER, crate::agent::research_limits())
        });
    let mut process =
        // Read five times per evaluation: the memory gauge lags the ballast by a fifth of an
        // interval, not a whole one.
        ProcessCollectorConfig::default()
            .interval((real_step / 5).clamp(Duration::from_millis(50), Duration::from_secs(1)));
    if let Some(rss) = resident_memory() {
        process = process.memory_limit(rss + DEFAULT_BALLAST as u64);
    }
    builder = builder.process_collector(process);
    // A budget far above what the run spends: the budget rules are evaluated over real
    // series, and any firing of theirs is false.
    if let Ok(budget) = "*:30d:100000".parse::<Budget>() {
        builder = builder.budget(budget);
    }
    let telemetry = builder.build()?;
    let server = DemoServer::start(
        DemoConfig {
            api_addr: "127.0.0.1:0".to_owned(),
            provider: ProviderConfig {
                seed: config.schedule.seed,
                error_rate: config.baseline_error_rate,
                ..ProviderConfig::default()
            },
            observer: None,
            ballast_bytes: DEFAULT_BALLAST,
        },
        &telemetry,
    )
    .await?;
    let traffic = Traffic::default();
    let incidents = server.incident().clone();
    apply(&config.schedule, 0.0, &incidents, &traffic);
    let steps = (config.schedule.length_s / config.interval.as_secs_f64()).ceil() as usize;
    let load_stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn({
        let config = LoadConfig {
            duration: real_step.saturating_mul(u32::try_from(steps + 2).unwrap_or(u32::MAX)),
            concurrency: schedule::FULL_USERS,
            seed: config.schedule.seed,
            stop: load_stop.clone(),
            incident: incidents.clone(),
            traffic: traffic.clone(),
            ..LoadConfig::default()
        };
        let url = server.api_url();
        async move { load::run(&url, &config).await }
    });
    let registry = telemetry.registry().clone();
    let evaluated = tokio::task::spawn_blocking({
        let (config, traffic, incidents) = (config.clone(), traffic.clone(), incidents.clone());
        move || -> Result<(record::Recorder, bool), DemoError> {
            let mut sampler = Sampler::local(&registry);
            let mut evaluator = AlertEvaluator::new(
                config.rules.clone(),
                &registry,
                Vec::new(),
                EvaluatorConfig {
                    interval: config.interval,
                    ..EvaluatorConfig::default()
                },
            )
            .map_err(|e| DemoError::Report(e.to_string()))?;
            for rule in &config.rules {
                sampler.watch(rule.condition());
                sampler.watch(rule.value());
            }
            sampler.fit_points_to(config.interval);
            let start = SystemClock.now_ms();
            let mut recorder = record::Recorder::new(start);
            let mut next = Instant::now();
            let mut partial = false;
            for k in 0..=steps {
                if config.stop.load(Ordering::Relaxed) {
                    partial = true;
                    break;
                }
                let at = start + interval_ms * k as i64;
                // Errors show as gaps, as in the monitor.
                let _ = sampler.sample(at);
                let store = sampler.store();
                recorder.record(store, at, &evaluator.evaluate_at(store, at));
                apply(&config.schedule, recorder.seconds(at), &incidents, &traffic);
                next += real_step;
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
            evaluator.flush();
            recorder.finish();
            Ok((recorder, partial))
        }
    })
    .await
    .map_err(|e| DemoError::Report(e.to_string()))?;
    load_stop.store(true, Ordering::Relaxed);
    let sent = load.await.unwrap_or_default();
    server.shutdown(Duration::from_secs(10)).await;
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    let (recorder, partial) = evaluated?;
    conclude(&config, recorder, partial, sent.answered()).await
}

/// Replays the recorded samples through Prometheus, scores the run, and writes the results
/// with the samples (which `--rescore` evaluates again with other rules).
async fn conclude(
    config: &QualityConfig,
    recorder: record::Recorder,
    partial: bool,
    requests: u64,
) -> Result<QualityResults, DemoError> {
    let report = |e: &dyn std::fmt::Display| DemoError::Report(e.to_string());
    let ran_s = recorder.steps().saturating_sub(1) as f64 * config.interval.as_secs_f64();
    samples::write(&config.out, config.interval, &recorder.series).map_err(|e| report(&e))?;
    // promtool is a child process, waited for with a deadline: off the runtime's workers.
    let (replayed, recorder) = tokio::task::spawn_blocking({
        let (dir, rules, interval) = (
            config.out.join("prometheus"),
            config.rules.clone(),
            config.interval,
        );
        move || {
            (
                prometheus::replay(&dir, &rules, interval, &recorder),
                recorder,
            )
        }
    })
    .await
    .map_err(|e| report(&e))?;
    let results = QualityResults::from_run(RunRecord {
        tuning: config.tuning.clone(),
        interval_s: config.interval.as_secs_f64(),
        time_scale: config.speed,
        ran_s,
        partial,
        schedule: config.schedule.clone(),
        rules: config.rules.iter().map(rule_info).collect(),
        in_process: recorder.episodes,
        prometheus: replayed.episodes,
        prometheus_note: replayed.note,
        disagreements: replayed.disagreements,
        requests,
    });
    results.write(&config.out).map_err(|e| report(&e))?;
    Ok(results)
}

/// Evaluates `config.rules` again over the samples a previous run recorded in `from` (its
/// output directory), with that run's schedule, and writes the results into `config.out`:
/// rules compared on the very same traffic. `config.schedule`, `interval` and `speed` are
/// replaced by the recorded run's.
pub async fn rescore(from: &Path, mut config: QualityConfig) -> Result<QualityResults, DemoError> {
    let report = |e: &dyn std::fmt::Display| DemoError::Report(e.to_string());
    let previous = QualityResults::read(&from.join(orchestrator_obs::quality::RESULTS_JSON))
        .map_err(|e| report(&e))?;
    let (interval, series) = samples::read(from).map_err(|e| report(&e))?;
    config.schedule = previous.run.schedule.clone();
    config.interval = interval;
    config.speed = previous.run.time_scale;
    let registry = orchestrator_telemetry::orchestrator_metrics::Registry::new();
    let mut evaluator = AlertEvaluator::new(
        config.rules.clone(),
        &registry,
        Vec::new(),
        EvaluatorConfig {
            interval,
            ..EvaluatorConfig::default()
        },
    )
    .map_err(|e| report(&e))?;
    let step = i64::try_from(interval.as_millis())
        .unwrap_or(i64::MAX)
        .max(1);
    let steps = series.first().map_or(0, |s| s.values.len());
    let mut store = SampleStore::new(StoreLimits::default());
    let mut recorder = record::Recorder::new(0);
    for k in 0..steps {
        let at = step * k as i64;
        record::append_step(&mut store, &series, k, at);
        recorder.record(&store, at, &evaluator.evaluate_at(&store, at));
    }
    evaluator.flush();
    recorder.finish();
    conclude(
        &config,
        recorder,
        previous.run.partial,
        previous.run.requests,
    )
    .await
}
