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
    /// Serve the live page on a public address without a token.
    pub(crate) public_live_page: bool,
    /// Serve `/metrics` (`prometheus` in `OTEL_METRICS_EXPORTER`, the default).
    pub(crate) serve_metrics: bool,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: Some(DEFAULT_ADDR.to_owned()),
            process: Some(ProcessCollectorConfig::default()),
            live_page: true,
            bearer_token: None,
            secure_cookie: false,
            public_live_page: false,
            serve_metrics: true,
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
            let mut app = if config.serve_metrics {
                MetricsEndpoint::new(registry.clone()).router()
            } else {
                axum::Router::new()
            };
            if let Some(live) = &live {
                // `/api/v1/traces` holds prompts and completions when content is recorded:
                // an address others can reach does not serve them to anyone who asks.
                let hidden = auth.is_none() && !config.public_live_page && is_public(&addr);
                app = app.merge(if hidden {
                    tracing::warn!(
                        address = %addr,
                        "the live page (/dashboard, /api/v1) is not served on the public \
                         address {addr} without a bearer token: set one with \
                         .bearer_token(..), or serve it to anyone with .public_live_page(); \
                         /metrics is served"
                    );
                    hidden_live_page(&addr)
                } else {
                    live.clone().router()
                });
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

/// Whether others can reach `addr`: any address but loopback (`0.0.0.0` and `[::]` listen
/// on every interface), a host name by the addresses it resolves to. What does not resolve
/// is left to the bind, which names it.
fn is_public(addr: &str) -> bool {
    use std::net::ToSocketAddrs as _;
    // A host name counts by what it resolves to, as the bind will.
    addr.to_socket_addrs().is_ok_and(reaches_others)
}

/// Whether any of the addresses a listener binds is reachable from elsewhere.
fn reaches_others(addrs: impl IntoIterator<Item = std::net::SocketAddr>) -> bool {
    addrs.into_iter().any(|a| !a.ip().is_loopback())
}

/// The live page's paths on a public address without a token: 404 with the way out.
fn hidden_live_page(addr: &str) -> axum::Router {
    let hint = format!(
        "404: the live page is not served on the public address {addr} without a bearer \
         token; set Telemetry::builder().bearer_token(..), or opt in with \
         .public_live_page()\n"
    );
    let answer = move || {
        let hint = hint.clone();
        async move { (axum::http::StatusCode::NOT_FOUND, hint) }
    };
    axum::Router::new()
        .route("/dashboard", axum::routing::any(answer.clone()))
        .route("/dashboard/{*rest}", axum::routing::any(answer.clone()))
        .route("/api/v1/{*rest}", axum::routing::any(answer))
}

#[cfg(test)]
mod tests {
    #[test]
    fn public_addresses() {
        for addr in [
            "0.0.0.0:9464",
            "[::]:9464",
            "10.0.0.5:9464",
            "[2001:db8::1]:80",
        ] {
            assert!(super::is_public(addr), "{addr}");
        }
        for addr in [
            "127.0.0.1:9464",
            "127.0.0.2:0",
            "[::1]:9464",
            "localhost:9464",
        ] {
            assert!(!super::is_public(addr), "{addr}");
        }
    }

    #[test]
    fn a_host_name_counts_by_what_it_resolves_to() {
        let at = |ips: &[&str]| -> Vec<std::net::SocketAddr> {
            ips.iter()
                .map(|ip| format!("{ip}:9464").parse().unwrap())
                .collect()
        };
        // `localhost` resolves to loopback addresses only; a name that resolves to one
        // address others can reach is public.
        assert!(!super::reaches_others(at(&["127.0.0.1", "[::1]"])));
        assert!(super::reaches_others(at(&["127.0.0.1", "10.0.0.5"])));
        assert!(super::reaches_others(at(&["[2001:db8::1]"])));
        assert!(!super::is_public("no-such-host.invalid:9464"));
    }
}
