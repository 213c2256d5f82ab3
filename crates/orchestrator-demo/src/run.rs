//! Starting the demo, and the whole run behind `cargo run --example orchestrator`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use orchestrator_telemetry::orchestrator_alerts::AlertTuning;
use orchestrator_telemetry::{
    Budget, InstallError, InvalidPrice, ModelPrice, PriceTable, Telemetry, TelemetryGuard,
    exposition,
};

use crate::app::{AppState, router};
use crate::cache::AnswerCache;
use crate::db::{Db, DbError};
use crate::external::ExternalClient;
use crate::llm_client::LlmClient;
use crate::load::{self, LoadConfig};
use crate::logging::{self, LogFormat};
use crate::middleware::RequestObserver;
use crate::provider::{Provider, ProviderConfig};
use crate::signals::StopSignal;
use crate::summary;

/// Command-line arguments of the demo.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "orchestrator",
    about = "A demo LLM orchestrator instrumented with orchestrator-telemetry"
)]
pub struct DemoArgs {
    /// How long the load generator runs, in seconds.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Where the orchestrator's API listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub api_addr: String,
    /// Where /metrics is served.
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub telemetry_addr: String,
    /// Seed of every random choice (latencies, errors, users, prompts).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Concurrent virtual users.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Tenants the simulated users belong to (sent as `x-tenant-id`, billed per tenant);
    /// 0 sends none.
    #[arg(long, default_value_t = 5)]
    pub tenants: u64,
    /// LLM budgets, `TENANT:PERIOD:USD` (period `1d` or `30d`; tenant `*` is the whole
    /// service), repeatable. The default gives `tenant-0` a day's budget it spends within
    /// the first 10 to 15 s of a run, so `BudgetExceeded` fires during a 30 s run, and the
    /// service a 30-day budget its spend rate stays under.
    #[arg(
        long = "budget",
        value_name = "TENANT:PERIOD:USD",
        default_values = ["tenant-0:1d:0.04", "*:30d:100000"]
    )]
    pub budgets: Vec<Budget>,
    /// The share of the simulated provider's answers that are HTTP 500 (the API then
    /// answers 502), between 0 and 1.
    #[arg(long, default_value_t = 0.01, value_parser = share)]
    pub llm_error_rate: f64,
    /// Inject an incident: 30 % of LLM calls fail from 10 s to 30 s into the run, so the
    /// high-error-rate alert goes pending, fires, then resolves (the run lasts at least 75 s).
    #[arg(long)]
    pub incident: bool,
    /// Keep every failed or slow (over 1 s) request's trace, besides the 10 % ratio.
    #[arg(long)]
    pub keep_errors: bool,
    /// At the end, validate the running telemetry and write `report.json` and `report.md`
    /// into this directory (the same code as `orchestrator-obs validate`).
    #[arg(long)]
    pub report: Option<std::path::PathBuf>,
    /// How log lines are written to stderr (`RUST_LOG` filters them, default `warn`); inside
    /// a request they carry `trace_id` and `span_id`.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// After the load and the summary, keep serving the API, `/metrics` and `/dashboard`
    /// until Ctrl-C or SIGTERM, to look at the live page.
    #[arg(long)]
    pub linger: bool,
    /// Alert channels (Slack-compatible webhook, email).
    #[command(flatten)]
    pub alerts: crate::channels::AlertArgs,
}

fn share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a share between 0 and 1")),
    }
}

/// The latency from which `--keep-errors` keeps a trace: the latency SLO's threshold.
pub const SLOW_TRACE: Duration = Duration::from_secs(1);

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Telemetry could not be installed (for example, the telemetry port is in use).
    #[error(transparent)]
    Telemetry(#[from] InstallError),
    /// The API could not listen.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// The error.
        source: std::io::Error,
    },
    /// The simulated provider could not start.
    #[error("cannot start the simulated LLM provider: {0}")]
    Provider(std::io::Error),
    /// The database could not be opened.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A configured price is invalid.
    #[error(transparent)]
    Price(#[from] InvalidPrice),
    /// The registry's own exposition did not parse (a bug).
    #[error("the registry rendered an exposition that does not parse: {0}")]
    Exposition(#[from] exposition::ParseError),
    /// `--alert-webhook`, `--smtp` or `--alert-cacert` cannot be used.
    #[error("alert channels: {0}")]
    Channels(#[from] crate::channels::ChannelError),
    /// `--report`: the validation could not run or write its files.
    #[error("the validation report failed: {0}")]
    Report(String),
}

/// The prices of the demo's models, in USD per million tokens (input, cached input, output).
pub fn demo_prices() -> Result<PriceTable, InvalidPrice> {
    Ok(PriceTable::new()
        .with_price("openai", "gpt-4o-mini", ModelPrice::new(0.15, 0.075, 0.60)?)
        .with_price(
            "anthropic",
            "claude-3-5-haiku",
            // Anthropic bills 5-minute cache writes at 1.25× the input price.
            ModelPrice::new(0.80, 0.08, 4.00)?.with_cache_write(1.00)?,
        )
        .with_price("openai", "gpt-4o", ModelPrice::new(2.50, 1.25, 10.00)?))
}

/// How to start the demo's servers.
#[derive(Clone, Default)]
pub struct DemoConfig {
    /// Where the API listens (`127.0.0.1:0` for a free port).
    pub api_addr: String,
    /// The simulated provider's behaviour.
    pub provider: ProviderConfig,
    /// Called with every recorded API request.
    pub observer: Option<RequestObserver>,
}

impl std::fmt::Debug for DemoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoConfig")
            .field("api_addr", &self.api_addr)
            .field("provider", &self.provider)
            .finish()
    }
}

/// The running demo: the API and the simulated provider.
#[derive(Debug)]
pub struct DemoServer {
    api_addr: SocketAddr,
    db: Db,
    incident: Arc<AtomicBool>,
    _provider: Provider,
    task: tokio::task::JoinHandle<()>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl DemoServer {
    /// Starts the provider and the API, recording into `metrics`.
    pub async fn start(config: DemoConfig, telemetry: &TelemetryGuard) -> Result<Self, DemoError> {
        let tracer = telemetry.tracer();
        let incident = config.provider.incident.clone();
        let provider = Provider::start(config.provider)
            .await
            .map_err(DemoError::Provider)?;
        let db = Db::open(tracer)?;
        let state = AppState::new(
            tracer.clone(),
            telemetry.business().clone(),
            db.clone(),
            AnswerCache::new(tracer, 512, Duration::from_secs(20)),
            LlmClient::new(provider.base_url(), tracer, demo_prices()?),
            ExternalClient::new(&provider.base_url(), tracer),
        );
        let listen = |source| DemoError::Listen {
            addr: config.api_addr.clone(),
            source,
        };
        let listener = tokio::net::TcpListener::bind(&config.api_addr)
            .await
            .map_err(listen)?;
        let api_addr = listener.local_addr().map_err(listen)?;
        let app = router(state, config.observer);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(DemoServer {
            api_addr,
            db,
            incident,
            _provider: provider,
            task,
            stop: Some(stop),
        })
    }

    /// The API's address.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// The API's base URL.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.api_addr)
    }

    /// The database (to check what was stored).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Stops accepting and lets the requests in flight finish, for up to `deadline`; what
    /// is still running then is cancelled.
    pub async fn shutdown(mut self, deadline: Duration) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(deadline, &mut self.task).await;
    }

    /// The incident switch: while set, the simulated provider fails a share of calls.
    pub fn incident(&self) -> &Arc<AtomicBool> {
        &self.incident
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How often the demo samples and evaluates (the production default is 15 s).
pub const DEMO_MONITOR_INTERVAL: Duration = Duration::from_secs(1);

/// When the demo's incident starts, and how long it lasts.
pub const INCIDENT_START: Duration = Duration::from_secs(10);
/// How long the demo's incident lasts.
pub const INCIDENT_LENGTH: Duration = Duration::from_secs(20);
/// The shortest run with `--incident`: long enough to see the alert resolve.
pub const INCIDENT_RUN: u64 = 75;

/// The whole demo: install telemetry, start the servers, run the load, print the summary.
pub async fn run(args: DemoArgs) -> Result<(), DemoError> {
    let duration = if args.incident {
        args.duration.max(INCIDENT_RUN)
    } else {
        args.duration
    };
    let telemetry = Telemetry::builder()
        .listen(&args.telemetry_addr)
        .prices(demo_prices()?)
        // The demo samples every second so a 30-second run has enough points; the
        // production default is 15 s.
        .monitor_interval(DEMO_MONITOR_INTERVAL)
        // Alert windows of 30 s held 10 s, so alerts move within a short run; production
        // uses 5-minute windows held 5 minutes.
        .alert_tuning(AlertTuning::demo())
        .service_name("orchestrator-demo");
    let telemetry = args
        .budgets
        .iter()
        .fold(telemetry, |t, budget| t.budget(budget.clone()));
    let mut telemetry = if args.keep_errors {
        telemetry.keep_errors_and_slow(SLOW_TRACE)
    } else {
        telemetry
    };
    let live = format!("http://{}/dashboard", args.telemetry_addr);
    for sink in args.alerts.sinks(&live)? {
        telemetry = telemetry.alert_sink(sink);
    }
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
    println!("orchestrator-telemetry demo");
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
            ..ProviderConfig::default()
        },
        observer: None,
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
    if args.incident {
        println!(
            "  incident  30 % of LLM calls fail from {} s to {} s",
            INCIDENT_START.as_secs(),
            (INCIDENT_START + INCIDENT_LENGTH).as_secs()
        );
        let switch = server.incident().clone();
        tokio::spawn(async move {
            tokio::time::sleep(INCIDENT_START).await;
            switch.store(true, Ordering::Relaxed);
            tokio::time::sleep(INCIDENT_LENGTH).await;
            switch.store(false, Ordering::Relaxed);
        });
    }
    println!();
    let started = orchestrator_telemetry::orchestrator_query::Clock::now_ms(
        &orchestrator_telemetry::orchestrator_query::SystemClock,
    );
    let load_config = LoadConfig {
        duration: Duration::from_secs(duration),
        concurrency: args.concurrency,
        tenants: args.tenants,
        seed: args.seed,
        progress: true,
        stop: signal.flag(),
        ..LoadConfig::default()
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
            let lead = Duration::from_secs(duration).saturating_sub(Duration::from_millis(2_500));
            let stopped = signal.clone();
            Some(tokio::spawn(async move {
                // Stopped early by a signal: validate what there is now.
                tokio::select! {
                    () = tokio::time::sleep(lead) => {}
                    () = stopped.wait() => {}
                }
                match tokio::task::spawn_blocking(move || {
                    orchestrator_obs::validate::run(&options, &dir)
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
        "The load generator sent {} requests ({} answered).",
        report.by_status.values().sum::<u64>(),
        report.answered()
    );
    print!("{}", summary::render(&parsed, report.elapsed));
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
    // Exports what is queued (within the export timeout) and stops the listener: blocking,
    // so off the runtime's workers.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    Ok(())
}
