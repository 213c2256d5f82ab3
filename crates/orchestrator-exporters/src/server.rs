//! A standalone HTTP listener for `/metrics` (and later the live page), on its own thread.

use std::net::{SocketAddr, TcpListener};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::oneshot;

/// The default listen address: loopback only, on the port OpenTelemetry's Prometheus
/// exporter uses.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9464";

/// Why the listener could not start. Each variant names the address.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is not `host:port` with an IP host.
    #[error("invalid listen address `{addr}`: {source} (expected ip:port, e.g. {DEFAULT_ADDR})")]
    InvalidAddress {
        /// The address given.
        addr: String,
        /// The parse error.
        source: std::net::AddrParseError,
    },
    /// Binding failed: the port is in use, or not allowed.
    #[error("cannot listen on {addr}: {source} (is another process using the port?)")]
    Bind {
        /// The address.
        addr: String,
        /// The bind error.
        source: std::io::Error,
    },
    /// The server thread or its runtime could not be started.
    #[error("cannot start the telemetry HTTP server for {addr}: {source}")]
    Start {
        /// The address.
        addr: String,
        /// The error.
        source: std::io::Error,
    },
}

/// A running listener. Stops when [`MetricsServer::shutdown`] is called or when dropped.
///
/// It runs on a thread of its own with a single-threaded Tokio runtime, so it works whether
/// or not the caller runs Tokio, and a scrape never takes time from the orchestrator's
/// workers.
///
/// ```no_run
/// use orchestrator_exporters::{MetricsEndpoint, MetricsServer};
/// use orchestrator_metrics::Registry;
///
/// let registry = Registry::new();
/// let server = MetricsServer::bind("127.0.0.1:9464", MetricsEndpoint::new(registry).router())?;
/// println!("metrics on http://{}/metrics", server.local_addr());
/// # Ok::<(), orchestrator_exporters::ServeError>(())
/// ```
#[derive(Debug)]
pub struct MetricsServer {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `addr` now (so errors surface here, naming the address) and serves `app` on it.
    pub fn bind(addr: &str, app: Router) -> Result<Self, ServeError> {
        let parsed: SocketAddr = addr.parse().map_err(|source| ServeError::InvalidAddress {
            addr: addr.to_owned(),
            source,
        })?;
        let listener = TcpListener::bind(parsed).map_err(|source| ServeError::Bind {
            addr: addr.to_owned(),
            source,
        })?;
        let start = |source| ServeError::Start {
            addr: addr.to_owned(),
            source,
        };
        listener.set_nonblocking(true).map_err(start)?;
        let local_addr = listener.local_addr().map_err(start)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("orchestrator-telemetry-http")
            .build()
            .map_err(start)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("orchestrator-telemetry-http".into())
            .spawn(move || runtime.block_on(serve(listener, app, stopped)))
            .map_err(start)?;
        Ok(MetricsServer {
            local_addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets the requests in flight finish for up to [`SHUTDOWN_DEADLINE`],
    /// closes what is left, and waits for the thread: it returns within the deadline even
    /// when a client holds a half-sent request.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// How long a client may take to send a request's headers before its connection is closed
/// (a slow or half-sent request cannot hold a connection, nor shutdown).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`MetricsServer::shutdown`] lets requests in flight finish before it closes
/// their connections: it returns within this, whatever the clients do.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

async fn serve(listener: TcpListener, app: Router, stopped: oneshot::Receiver<()>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!(error = %err, "telemetry HTTP server cannot use its socket");
            return;
        }
    };
    // hyper's own connection builder rather than `axum::serve`, which sets no header-read
    // timeout and waits without bound for connections to finish at graceful shutdown.
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let service = TowerToHyperService::new(app.clone());
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                }
                Err(err) => {
                    // Out of file descriptors, say: wait instead of spinning.
                    tracing::warn!(error = %err, "telemetry HTTP server cannot accept");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = &mut stopped => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_DEADLINE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            deadline = ?SHUTDOWN_DEADLINE,
            "telemetry HTTP server: connections still open at the shutdown deadline are closed"
        );
    }
}
