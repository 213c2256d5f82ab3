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
use orchestrator_metrics::{CONTENT_TYPE, Registry};

use crate::encoding::{accepts_gzip, gzip};

/// What the `/metrics` handler needs: the registry, and the size of the last rendering so
/// the next one allocates its buffer once.
#[derive(Debug, Clone)]
pub struct MetricsEndpoint {
    registry: Registry,
    last_len: Arc<AtomicUsize>,
}

impl MetricsEndpoint {
    /// An endpoint rendering `registry`.
    pub fn new(registry: Registry) -> Self {
        MetricsEndpoint {
            registry,
            last_len: Arc::default(),
        }
    }

    /// The registry it renders.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Renders the exposition, gzip-compressed when `gzip` is set. Runs synchronously; the
    /// handler calls it on Tokio's blocking pool.
    pub fn render(&self, gzip_body: bool) -> std::io::Result<Rendered> {
        let mut text = String::with_capacity(self.last_len.load(Ordering::Relaxed) + 4096);
        self.registry.render_into(&mut text);
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
    let rendered = tokio::task::spawn_blocking(move || endpoint.render(gzip_body)).await;
    match rendered {
        Ok(Ok(rendered)) => {
            let mut response = Response::new(Body::from(rendered.body));
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
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
