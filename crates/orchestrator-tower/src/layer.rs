//! The layer: one type for the server and for every client kind.

use std::sync::Arc;

use tower::Layer;

use crate::kind::{Cache, Database, External, GenAi, Kind, Llm, Server};
use crate::service::TelemetryService;
use crate::tracer::Tracer;

/// Adds metrics for every call and spans for sampled ones to a service.
///
/// ```
/// use axum::{Router, routing::get};
/// use orchestrator_metrics::{Metrics, Registry};
/// use orchestrator_tower::{TelemetryLayer, Tracer};
///
/// let registry = Registry::new();
/// let tracer = Tracer::builder(Metrics::new(&registry)).build()?;
/// let app: Router = Router::new()
///     .route("/v1/chat", get(|| async { "hi" }))
///     // `Router::layer` runs after routing, so the route template is known.
///     .layer(TelemetryLayer::server(&tracer));
/// # drop(app);
/// # Ok::<(), orchestrator_tower::TracerError>(())
/// ```
#[derive(Debug, Clone)]
pub struct TelemetryLayer<K> {
    kind: K,
    tracer: Tracer,
}

impl<K: Kind> TelemetryLayer<K> {
    /// A layer for calls of `kind`.
    pub fn new(tracer: &Tracer, kind: K) -> Self {
        TelemetryLayer {
            kind: kind.for_tracer(tracer),
            tracer: tracer.clone(),
        }
    }
}

impl TelemetryLayer<Server> {
    /// Server middleware: API requests, the root spans of traces.
    pub fn server(tracer: &Tracer) -> Self {
        Self::new(tracer, Server::default())
    }

    /// Bills each request (and the LLM calls made while serving it) to the tenant named by
    /// this header, when no [`Tenant`](crate::Tenant) extension is set.
    pub fn tenant_header(mut self, name: http::HeaderName) -> Self {
        self.kind = self.kind.tenant_header(name);
        self
    }
}

impl<A: GenAi> TelemetryLayer<Llm<A>> {
    /// Around an LLM provider's HTTP client, read through `adapter`.
    pub fn llm(tracer: &Tracer, adapter: A) -> Self {
        Self::new(tracer, Llm::new(adapter))
    }
}

impl TelemetryLayer<Database> {
    /// Around a database client; `system` is `sqlite`, `postgresql`...
    pub fn database(tracer: &Tracer, system: impl Into<Arc<str>>) -> Self {
        Self::new(tracer, Database::new(system))
    }
}

impl TelemetryLayer<Cache> {
    /// Around a cache named `name`.
    pub fn cache(tracer: &Tracer, name: impl Into<Arc<str>>) -> Self {
        Self::new(tracer, Cache::new(name))
    }
}

impl TelemetryLayer<External> {
    /// Around an HTTP client of the external API named `target`.
    pub fn external(tracer: &Tracer, target: impl Into<Arc<str>>) -> Self {
        Self::new(tracer, External::new(target))
    }
}

impl<S, K: Kind> Layer<S> for TelemetryLayer<K> {
    type Service = TelemetryService<S, K>;

    fn layer(&self, inner: S) -> Self::Service {
        TelemetryService::new(inner, self.kind.clone(), self.tracer.clone())
    }
}
