//! Starting the demo, and the whole run behind `cargo run --example orchestrator`.

use std::net::SocketAddr;
use std::time::Duration;

use orchestrator_telemetry::orchestrator_kpi::BusinessRecorder;
use orchestrator_telemetry::{
    InstallError, InvalidPrice, Metrics, ModelPrice, PriceTable, Telemetry, exposition,
};

use crate::app::{AppState, router};
use crate::cache::AnswerCache;
use crate::db::{Db, DbError};
use crate::external::ExternalClient;
use crate::llm_client::LlmClient;
use crate::load::{self, LoadConfig};
use crate::middleware::RequestObserver;
use crate::provider::{Provider, ProviderConfig};
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
}

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
}

/// The prices of the demo's models, in USD per million tokens (input, cached input, output).
pub fn demo_prices() -> Result<PriceTable, InvalidPrice> {
    Ok(PriceTable::new()
        .with_price("openai", "gpt-4o-mini", ModelPrice::new(0.15, 0.075, 0.60)?)
        .with_price(
            "anthropic",
            "claude-3-5-haiku",
            ModelPrice::new(0.80, 0.08, 4.00)?,
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
    _provider: Provider,
    task: tokio::task::JoinHandle<()>,
}

impl DemoServer {
    /// Starts the provider and the API, recording into `metrics`.
    pub async fn start(
        config: DemoConfig,
        metrics: Metrics,
        business: BusinessRecorder,
    ) -> Result<Self, DemoError> {
        let provider = Provider::start(config.provider)
            .await
            .map_err(DemoError::Provider)?;
        let db = Db::open(metrics.clone())?;
        let state = AppState::new(
            metrics.clone(),
            business,
            db.clone(),
            AnswerCache::new(metrics.clone(), 512, Duration::from_secs(20)),
            LlmClient::new(provider.base_url(), metrics.clone()),
            ExternalClient::new(&provider.base_url(), metrics),
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
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(DemoServer {
            api_addr,
            db,
            _provider: provider,
            task,
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
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How often the demo samples and evaluates (the production default is 15 s).
pub const DEMO_MONITOR_INTERVAL: Duration = Duration::from_secs(1);

/// The whole demo: install telemetry, start the servers, run the load, print the summary.
pub async fn run(args: DemoArgs) -> Result<(), DemoError> {
    let telemetry = Telemetry::builder()
        .listen(&args.telemetry_addr)
        .prices(demo_prices()?)
        // The demo samples every second so a 30-second run has enough points; the
        // production default is 15 s.
        .monitor_interval(DEMO_MONITOR_INTERVAL)
        .install()?;
    println!("orchestrator-telemetry demo");
    if let Some(addr) = telemetry.metrics_addr() {
        println!("  metrics   http://{addr}/metrics   (served for the whole run)");
    }
    let config = DemoConfig {
        api_addr: args.api_addr.clone(),
        provider: ProviderConfig {
            seed: args.seed,
            ..ProviderConfig::default()
        },
        observer: None,
    };
    let server = DemoServer::start(
        config,
        telemetry.metrics().clone(),
        telemetry.business().clone(),
    )
    .await?;
    println!("  API       {}", server.api_url());
    println!(
        "  load      {} virtual users for {} s (seed {})\n",
        args.concurrency, args.duration, args.seed
    );
    let load_config = LoadConfig {
        duration: Duration::from_secs(args.duration),
        concurrency: args.concurrency,
        seed: args.seed,
        progress: true,
        ..LoadConfig::default()
    };
    let report = load::run(&server.api_url(), &load_config).await;
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
    if let Some(kpis) = kpis {
        println!(
            "\nBusiness KPIs (evaluated in-process every {} s; windows: users, revenue and satisfaction 30 d, latency and errors 1 h)\n",
            DEMO_MONITOR_INTERVAL.as_secs()
        );
        println!("{kpis}");
    }
    drop(server);
    telemetry.shutdown();
    Ok(())
}
