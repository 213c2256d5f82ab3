//! The whole run behind `cargo run --example orchestrator`: install telemetry, start the
//! servers, run the load, print the summary.

use std::time::Duration;

use orchestrator_telemetry::orchestrator_alerts::AlertTuning;
use orchestrator_telemetry::orchestrator_exporters::{ProcessCollectorConfig, resident_memory};
use orchestrator_telemetry::orchestrator_kpi::RedisActivityConfig;
use orchestrator_telemetry::{Telemetry, TelemetryBuilder, exposition};

pub use crate::args::DemoArgs;
use crate::fleet::{self, Claim};
use crate::incident::{DEFAULT_BALLAST, Incident};
use crate::load::{self, LoadConfig};
use crate::logging;
use crate::provider::ProviderConfig;
use crate::server::{DemoConfig, DemoError, DemoServer, demo_prices};
use crate::signals::StopSignal;
use crate::summary;

/// The latency from which `--keep-errors` keeps a trace: the latency SLO's threshold.
pub const SLOW_TRACE: Duration = Duration::from_secs(1);

/// How often the demo samples and evaluates (the production default is 15 s).
pub const DEMO_MONITOR_INTERVAL: Duration = Duration::from_secs(1);

/// When the demo's incident starts, and how long it lasts.
pub const INCIDENT_START: Duration = Duration::from_secs(10);
/// How long the demo's incident lasts.
pub const INCIDENT_LENGTH: Duration = Duration::from_secs(20);
/// The shortest run with `--incident`: long enough to see the alert resolve.
pub const INCIDENT_RUN: u64 = 75;

/// The memory limit to report, in bytes: `--memory-limit`, else with `--incident memory`
/// resident memory now plus what the incident fills, else none (the cgroup's).
fn memory_limit(args: &DemoArgs) -> Option<u64> {
    match (args.memory_limit, args.incident) {
        (Some(mib), _) => Some(mib << 20),
        (None, Some(Incident::Memory)) => resident_memory().map(|rss| rss + DEFAULT_BALLAST as u64),
        _ => None,
    }
}

/// The telemetry the arguments ask for.
fn builder(args: &DemoArgs) -> Result<TelemetryBuilder, DemoError> {
    let mut telemetry = Telemetry::builder()
        .listen(&args.telemetry_addr)
        .prices(demo_prices()?)
        // The demo samples every second so a 30-second run has enough points; the
        // production default is 15 s.
        .monitor_interval(DEMO_MONITOR_INTERVAL)
        .tracing(|t| {
            t.service_name("orchestrator-demo")
                .agent_limits(crate::agent::RESEARCHER, crate::agent::research_limits())
        });
    for budget in &args.budgets {
        telemetry = telemetry.budget(budget.clone());
    }
    if args.keep_errors {
        telemetry = telemetry.tracing(|t| t.keep_errors_and_slow(SLOW_TRACE));
    }
    if let Some(limit) = memory_limit(args) {
        telemetry = telemetry.process_collector(
            ProcessCollectorConfig::default()
                .memory_limit(limit)
                .interval(DEMO_MONITOR_INTERVAL),
        );
    }
    if let Some(instance) = &args.instance {
        telemetry = telemetry.instance(instance.clone());
    }
    if let Some(url) = &args.redis {
        telemetry = telemetry
            .redis_activity(RedisActivityConfig::new(url.clone()))
            // The budgets are the fleet's: every replica spends and holds them there.
            .redis_budgets(
                orchestrator_telemetry::orchestrator_kpi::RedisBudgetConfig::new(url.clone()),
                orchestrator_telemetry::FailMode::Open,
            );
    }
    let live = format!("http://{}/dashboard", args.telemetry_addr);
    let sinks = args.alerts.sinks(&live)?;
    // Alert windows of 30 s held 10 s, so alerts move within a short run; production uses
    // 5-minute windows held 5 minutes.
    Ok(telemetry.alerts(|a| {
        sinks
            .into_iter()
            .fold(a.tuning(AlertTuning::demo()), |a, sink| a.sink(sink))
    }))
}

/// With `--instance` and `--redis`: claims the name for the run, and warns when another
/// replica holds it (its series would collide with ours in Prometheus).
async fn claim_instance(
    args: &DemoArgs,
    metrics: Option<std::net::SocketAddr>,
) -> Option<Box<fleet::ClaimGuard>> {
    let (Some(instance), Some(url)) = (args.instance.clone(), args.redis.clone()) else {
        return None;
    };
    let me = format!(
        "pid {}, metrics on {}",
        std::process::id(),
        metrics.map_or_else(|| "none".to_owned(), |a| a.to_string())
    );
    let name = instance.clone();
    match tokio::task::spawn_blocking(move || fleet::claim(&url, &name, &me)).await {
        Ok(Ok(Claim::Ours(guard))) => return Some(guard),
        Ok(Ok(Claim::Taken(holder))) => {
            eprintln!(
                "warning: another replica already runs as --instance {instance} ({holder}); give each replica its own name, or their series collide in Prometheus"
            );
        }
        Ok(Err(err)) => {
            eprintln!("warning: cannot check in Redis that --instance {instance} is unique: {err}")
        }
        Err(err) => eprintln!("warning: cannot check that --instance is unique: {err}"),
    }
    None
}

/// The whole demo: install telemetry, start the servers, run the load, print the summary.
pub async fn run(args: DemoArgs) -> Result<(), DemoError> {
    let duration = if args.incident.is_some() {
        args.duration.max(INCIDENT_RUN)
    } else {
        args.duration
    };
    let telemetry = builder(&args)?;
    // Warnings while installing go to the log output; then the bridge joins it, so the
    // handlers' spans are part of the requests' traces.
    let telemetry =
        tracing::subscriber::with_default(logging::subscriber(args.log_format, None), || {
            telemetry.install()
        })?;
    // A subscriber set earlier by an embedding program stays; the demo's is then unused.
    let _ = tracing::subscriber::set_global_default(logging::subscriber(
        args.log_format,
        Some(telemetry.tracing_layer()),
    ));
    println!(
        "orchestrator-telemetry demo{}",
        args.instance
            .as_ref()
            .map_or_else(String::new, |i| format!(", instance {i}"))
    );
    let claim = claim_instance(&args, telemetry.metrics_addr()).await;
    if let Some(addr) = telemetry.metrics_addr() {
        println!("  metrics   http://{addr}/metrics   (served for the whole run)");
        println!("  dashboard http://{addr}/dashboard (the live page)");
    }
    // SIGTERM or Ctrl-C: stop the load, finish what is in flight, then summary and flush.
    let signal = StopSignal::listen();
    let config = DemoConfig {
        api_addr: args.api_addr.clone(),
        provider: ProviderConfig {
            seed: args.seed,
            error_rate: args.llm_error_rate,
            latency_scale: args.llm_latency_scale,
            ..ProviderConfig::default()
        },
        observer: None,
        ballast_bytes: DEFAULT_BALLAST,
    };
    let server = DemoServer::start(config, &telemetry).await?;
    println!("  API       {}", server.api_url());
    let tracer = telemetry.tracer();
    println!(
        "  traces    {}{}, {}",
        tracer.sampler(),
        if tracer.keeps_errors() {
            format!(
                " + every failed or slow (≥ {} s) request",
                SLOW_TRACE.as_secs()
            )
        } else {
            String::new()
        },
        if tracer.is_exporting() {
            "exported over OTLP (OTEL_EXPORTER_OTLP_*) and kept in the embedded store"
        } else {
            "kept in the embedded store (set OTEL_EXPORTER_OTLP_ENDPOINT to export)"
        }
    );
    println!(
        "  load      {} virtual users for {duration} s (seed {})",
        args.concurrency, args.seed
    );
    println!(
        "  alerts    evaluated every {} s with demo windows (30 s) and for (10 s); production: 5 m and 5 m",
        DEMO_MONITOR_INTERVAL.as_secs()
    );
    println!(
        "  users     user-{} to user-{}, distinct users counted {}",
        args.users_from,
        args.users_from + args.users - 1,
        match &args.redis {
            Some(_) => "in Redis (fleet-wide)",
            None => "in this process (this replica's)",
        }
    );
    if let Some(incident) = args.incident {
        println!(
            "  incident  from {} s to {} s: {}",
            INCIDENT_START.as_secs(),
            (INCIDENT_START + INCIDENT_LENGTH).as_secs(),
            incident.describe()
        );
        server
            .incident()
            .schedule(incident, INCIDENT_START, INCIDENT_LENGTH);
    }
    println!();
    let started = orchestrator_telemetry::orchestrator_support::Clock::now_ms(
        &orchestrator_telemetry::orchestrator_support::SystemClock,
    );
    let load_config = LoadConfig {
        duration: Duration::from_secs(duration),
        concurrency: args.concurrency,
        tenants: args.tenants,
        users_from: args.users_from,
        users: args.users,
        seed: args.seed,
        progress: true,
        stop: signal.flag(),
        incident: server.incident().clone(),
        traffic: load::Traffic::default(),
    };
    // `--report`: validate during the last seconds of the load, so that the report's rates
    // are those of the system at work.
    let validation = match (&args.report, telemetry.metrics_addr()) {
        (Some(dir), Some(addr)) => {
            let options = orchestrator_obs::validate::ValidateOptions {
                interval: Duration::from_secs(1),
                ..orchestrator_obs::validate::ValidateOptions::new(format!("http://{addr}"))
            };
            let dir = dir.clone();
            // The `/api/v1` documents are read in process, from the values the page serves;
            // only `/metrics` is fetched over HTTP (the endpoint is judged too).
            let page = telemetry.live_page().cloned();
            let lead = Duration::from_secs(duration).saturating_sub(Duration::from_millis(2_500));
            let stopped = signal.clone();
            Some(tokio::spawn(async move {
                // Stopped early by a signal: validate what there is now.
                tokio::select! {
                    () = tokio::time::sleep(lead) => {}
                    () = stopped.wait() => {}
                }
                match tokio::task::spawn_blocking(move || {
                    let documents = move || page.as_ref().map(|p| p.documents());
                    orchestrator_obs::validate::run_with(&options, Some(&documents), &dir)
                })
                .await
                {
                    Ok(result) => result.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            }))
        }
        _ => None,
    };
    let report = load::run(&server.api_url(), &load_config).await;
    if signal.received() {
        println!(
            "Stopped by a signal after {:.1} s: no new request was sent, those in flight finished.",
            report.elapsed.as_secs_f64()
        );
    }
    // Let in-flight requests finish recording, then sample and evaluate once more.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let kpis = telemetry.evaluate_now();
    let parsed = exposition::parse(&telemetry.registry().render())?;
    println!(
        "The load generator sent {} requests ({} answered) for {} distinct users.",
        report.by_status.values().sum::<u64>(),
        report.answered(),
        report.users.len()
    );
    print!("{}", summary::render(&parsed, report.elapsed));
    print!("{}", summary::scope(&telemetry));
    let tracer = telemetry.tracer();
    println!(
        "\nDistributed tracing ({}; the most recent {} sampled traces, analysed from their spans)\n",
        tracer.sampler(),
        tracer.store().capacity()
    );
    print!("{}", tracer.analysis());
    if tracer.is_exporting() {
        // Flush now so the figures below are final.
        let flushed = tracer.force_flush();
        println!(
            "Spans exported over OTLP: {}, dropped: {}{}",
            tracer.exported_spans(),
            tracer.dropped_spans(),
            if flushed.is_err() {
                " (flush timed out)"
            } else {
                ""
            }
        );
    }
    if let Some(kpis) = kpis {
        println!(
            "\nBusiness KPIs (evaluated in-process every {} s; windows: users, revenue and satisfaction 30 d, latency and errors 1 h)\n",
            DEMO_MONITOR_INTERVAL.as_secs()
        );
        println!("{kpis}");
    }
    if let Some(alerts) = telemetry.alerts_report() {
        println!(
            "\nAlert rules (evaluated in-process every {} s)\n",
            DEMO_MONITOR_INTERVAL.as_secs()
        );
        println!("{alerts}");
        if !alerts.history.is_empty() {
            println!("\nTransitions (seconds since the load started):");
            for t in &alerts.history {
                let from = t.from.map_or("inactive", |s| s.as_str());
                let to = t.to.map_or("inactive", |s| s.as_str());
                println!(
                    "  +{:>5.1} s  {:<26} {from} -> {to}",
                    (t.at - started) as f64 / 1000.0,
                    t.rule
                );
            }
        }
    }
    if let Some(validation) = validation {
        let report = validation
            .await
            .map_err(|e| DemoError::Report(e.to_string()))?
            .map_err(DemoError::Report)?;
        let passed = report.checks.iter().filter(|c| c.passed).count();
        println!(
            "\nValidation report: score {:.2} ({passed}/{} checks passed), written to {}",
            report.score(),
            report.checks.len(),
            args.report
                .as_ref()
                .map_or(String::new(), |d| d.display().to_string())
        );
        for c in report.checks.iter().filter(|c| !c.passed) {
            println!("  failed: [{}] {}: {}", c.component, c.name, c.reason);
        }
    }
    if args.linger && !signal.received() {
        println!("\nLingering: the API, /metrics and /dashboard stay up until Ctrl-C or SIGTERM.");
        signal.wait().await;
    }
    server.shutdown(Duration::from_secs(10)).await;
    // Releases the name (a blocking Redis call), so a restart under it is not warned about.
    let _ = tokio::task::spawn_blocking(move || drop(claim)).await;
    // Exports what is queued (within the export timeout) and stops the listener: blocking,
    // so off the runtime's workers.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    Ok(())
}
