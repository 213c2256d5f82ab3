//! The demo's servers: the API and the simulated provider, started on loopback.

use std::net::SocketAddr;
use std::time::Duration;

use orchestrator_telemetry::{
    InstallError, InvalidPrice, ModelPrice, PriceTable, TelemetryGuard, exposition,
};

use crate::app::{AppState, router};
use crate::cache::AnswerCache;
use crate::db::{Db, DbError};
use crate::external::ExternalClient;
use crate::incident::{Ballast, DEFAULT_BALLAST, IncidentSwitch};
use crate::llm_client::LlmClient;
use crate::middleware::RequestObserver;
use crate::provider::{Provider, ProviderConfig};

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
    /// The simulated provider (or the incident's cache thread) could not start.
    #[error("cannot start the simulated LLM provider or its incident thread: {0}")]
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
    /// How much memory a `memory` incident holds (0 takes [`DEFAULT_BALLAST`]).
    pub ballast_bytes: usize,
}

impl std::fmt::Debug for DemoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoConfig")
            .field("api_addr", &self.api_addr)
            .field("provider", &self.provider)
            .field("ballast_bytes", &self.ballast_bytes)
            .finish()
    }
}

/// The running demo: the API and the simulated provider.
#[derive(Debug)]
pub struct DemoServer {
    api_addr: SocketAddr,
    db: Db,
    incident: IncidentSwitch,
    _ballast: Ballast,
    _provider: Provider,
    task: tokio::task::JoinHandle<()>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl DemoServer {
    /// Starts the provider and the API, recording into `metrics`.
    pub async fn start(config: DemoConfig, telemetry: &TelemetryGuard) -> Result<Self, DemoError> {
        let tracer = telemetry.tracer();
        let incident = config.provider.incident.clone();
        let ballast = match config.ballast_bytes {
            0 => DEFAULT_BALLAST,
            n => n,
        };
        let ballast = Ballast::start(incident.clone(), ballast).map_err(DemoError::Provider)?;
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
            _ballast: ballast,
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

    /// The incident switch, shared by the simulated provider, the cache that fills during
    /// a `memory` incident, and (given to [`LoadConfig::incident`](crate::load::LoadConfig))
    /// the load generator.
    pub fn incident(&self) -> &IncidentSwitch {
        &self.incident
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
