//! The `prometheus` feature's wiring: the process collector, the live page, the bearer
//! token and the `/metrics` listener, started in one place.

use std::sync::Arc;

use orchestrator_exporters::auth::BearerAuth;
use orchestrator_exporters::live::{DEFAULT_HISTORY_INTERVAL, LivePage};
use orchestrator_exporters::{
    DEFAULT_ADDR, MetricsEndpoint, MetricsServer, ProcessCollector, ProcessCollectorConfig,
};
use orchestrator_metrics::Registry;

use crate::error::InstallError;

/// What the builder's listener, collector, page and token setters configure.
#[derive(Debug)]
pub(crate) struct ServeConfig {
    pub(crate) listen: Option<String>,
    pub(crate) process: Option<ProcessCollectorConfig>,
    pub(crate) live_page: bool,
    pub(crate) bearer_token: Option<String>,
    pub(crate) secure_cookie: bool,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: Some(DEFAULT_ADDR.to_owned()),
            process: Some(ProcessCollectorConfig::default()),
            live_page: true,
            bearer_token: None,
            secure_cookie: false,
        }
    }
}

/// What runs: the guard stops it.
#[derive(Debug)]
pub(crate) struct Serving {
    pub(crate) live: Option<LivePage>,
    pub(crate) server: Option<MetricsServer>,
    pub(crate) collector: Option<ProcessCollector>,
}

/// Starts the collector, the page over `source` and the listener.
pub(crate) fn start(
    config: ServeConfig,
    registry: &Registry,
    source: crate::live::Source,
) -> Result<Serving, InstallError> {
    let collector = config
        .process
        .map(|c| ProcessCollector::start(registry, c))
        .transpose()
        .map_err(InstallError::ProcessCollector)?;
    let auth = config
        .bearer_token
        .as_deref()
        .map(|token| BearerAuth::new(token).map(|a| a.secure_cookie(config.secure_cookie)))
        .transpose()?;
    let live = if config.live_page {
        let page = LivePage::start(registry.clone(), Arc::new(source), DEFAULT_HISTORY_INTERVAL)
            .map_err(InstallError::LivePage)?;
        // The token protects the page wherever its router goes, the orchestrator's own
        // public router included (built without a listener).
        Some(match &auth {
            Some(auth) => page.with_auth(auth.clone()),
            None => page,
        })
    } else {
        None
    };
    let server = match config.listen {
        None => None,
        Some(addr) => {
            let mut app = MetricsEndpoint::new(registry.clone()).router();
            if let Some(live) = &live {
                app = app.merge(live.clone().router());
            }
            if let Some(auth) = &auth {
                app = auth.protect(app);
            }
            Some(MetricsServer::bind(&addr, app)?)
        }
    };
    Ok(Serving {
        live,
        server,
        collector,
    })
}
