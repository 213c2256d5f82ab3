//! The `/metrics` endpoint as an axum router, to mount on the orchestrator's own router or
//! to serve standalone with [`MetricsServer`](crate::MetricsServer).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use orchestrator_metrics::{CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE, OpenMetricsOptions, Registry};

use crate::encoding::{accepts_gzip, gzip, prefers_openmetrics};

/// The formats `/metrics` answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpositionFormat {
    /// The Prometheus text format 0.0.4: the default, for every client that does not ask
    /// for OpenMetrics.
    #[default]
    Text,
    /// OpenMetrics 1.0.0, with exemplars, units and `_created`: for a client whose `Accept`
    /// header prefers `application/openmetrics-text` (Prometheus does).
    OpenMetrics,
}

impl ExpositionFormat {
    /// The format an `Accept` header asks for.
    pub fn negotiate(accept: &str) -> Self {
        if prefers_openmetrics(accept) {
            ExpositionFormat::OpenMetrics
        } else {
            ExpositionFormat::Text
        }
    }

    /// The `Content-Type` of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            ExpositionFormat::Text => CONTENT_TYPE,
            ExpositionFormat::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }
}

/// What the `/metrics` handler needs: the registry, and the size of the last rendering so
/// the next one allocates its buffer once.
#[derive(Debug, Clone)]
pub struct MetricsEndpoint {
    registry: Registry,
    last_len: Arc<AtomicUsize>,
    openmetrics: OpenMetricsOptions,
}

impl MetricsEndpoint {
    /// An endpoint rendering `registry`.
    pub fn new(registry: Registry) -> Self {
        MetricsEndpoint {
            registry,
            last_len: Arc::default(),
            openmetrics: OpenMetricsOptions::default(),
        }
    }

    /// Sets the choices of the OpenMetrics exposition (`_created` lines are off by default:
    /// Prometheus before its created-timestamp handling stores each as a series).
    pub fn openmetrics_options(mut self, options: OpenMetricsOptions) -> Self {
        self.openmetrics = options;
        self
    }

    /// The registry it renders.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Renders the exposition in the text format, gzip-compressed when `gzip` is set. Runs
    /// synchronously; the handler calls it on Tokio's blocking pool.
    pub fn render(&self, gzip_body: bool) -> std::io::Result<Rendered> {
        self.render_as(ExpositionFormat::Text, gzip_body)
    }

    /// Renders the exposition in `format`, gzip-compressed when `gzip` is set.
    pub fn render_as(
        &self,
        format: ExpositionFormat,
        gzip_body: bool,
    ) -> std::io::Result<Rendered> {
        let text = match format {
            ExpositionFormat::Text => {
                let mut text = String::with_capacity(self.last_len.load(Ordering::Relaxed) + 4096);
                self.registry.render_into(&mut text);
                text
            }
            ExpositionFormat::OpenMetrics => {
                self.registry.render_openmetrics_with(self.openmetrics)
            }
        };
        self.last_len.store(text.len(), Ordering::Relaxed);
        let raw_len = text.len();
        let body = if gzip_body {
            gzip(text.as_bytes())?
        } else {
            text.into_bytes()
        };
        Ok(Rendered {
            body,
            raw_len,
            gzip: gzip_body,
            format,
        })
    }

    /// An axum router serving `GET /metrics`. Merge it into the orchestrator's router (it
    /// works with any router state):
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use orchestrator_exporters::MetricsEndpoint;
    /// use orchestrator_metrics::Registry;
    ///
    /// let registry = Registry::new();
    /// let app: Router = Router::new()
    ///     .route("/v1/chat", get(|| async { "hello" }))
    ///     .merge(MetricsEndpoint::new(registry).router());
    /// # let _ = app;
    /// ```
    pub fn router<S>(self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        Router::new()
            .route("/metrics", get(metrics_handler))
            .with_state(self)
    }
}

/// One rendering of the exposition.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The body as sent: text, or gzip of the text.
    pub body: Vec<u8>,
    /// The length of the uncompressed text.
    pub raw_len: usize,
    /// Whether `body` is gzip-compressed.
    pub gzip: bool,
    /// The format of the text.
    pub format: ExpositionFormat,
}

/// The `GET /metrics` handler. Rendering and compression run on Tokio's blocking pool, so a
/// large registry never stalls an async worker of the orchestrator.
pub async fn metrics_handler(
    State(endpoint): State<MetricsEndpoint>,
    headers: HeaderMap,
) -> Response {
    let gzip_body = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(accepts_gzip);
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let format = ExpositionFormat::negotiate(&accept.join(","));
    let rendered = tokio::task::spawn_blocking(move || endpoint.render_as(format, gzip_body)).await;
    match rendered {
        Ok(Ok(rendered)) => {
            let mut response = Response::new(Body::from(rendered.body));
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(rendered.format.content_type()),
            );
            h.insert(
                header::VARY,
                HeaderValue::from_static("accept, accept-encoding"),
            );
            if rendered.gzip {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Ok(Err(err)) => {
            tracing::error!(error = %err, "compressing /metrics failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("compressing metrics failed: {err}\n"),
            )
                .into_response()
        }
        Err(err) => {
            tracing::error!(error = %err, "rendering /metrics failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "rendering metrics failed\n",
            )
                .into_response()
        }
    }
}
