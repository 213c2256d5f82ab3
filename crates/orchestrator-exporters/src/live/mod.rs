//! The live page, served in-process beside `/metrics`: `/dashboard` (HTML, assets compiled
//! into the binary, nothing fetched from the internet) and its JSON endpoints.
//!
//! | endpoint | what it returns |
//! |---|---|
//! | `GET /dashboard` | the page: charts, KPI table, alert states, recent traces |
//! | `GET /api/v1/summary` | request totals and the chart points (request rate, p95, error rate) |
//! | `GET /api/v1/kpis` | every KPI with its value, target, gap and whether it is met |
//! | `GET /api/v1/alerts` | every alert rule with its state (inactive ones included) and since when |
//! | `GET /api/v1/traces` | the recent sampled traces with their spans, and their analysis |
//!
//! The page builds every element with `textContent` and `createElement`, never from HTML
//! strings, and is served with a `Content-Security-Policy` that forbids inline scripts: a
//! label value such as `<img src=x onerror=alert(1)>` shows as text.

mod agents;
mod budgets;
mod history;
mod spend;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use orchestrator_api::{AlertsDoc, KpisDoc, TracesDoc};
use orchestrator_metrics::Registry;
use serde::Serialize;

pub use history::{HISTORY_POINTS, History};

/// What the page shows besides the registry's own figures. The facade implements it over
/// the KPI engine, the alert evaluator and the trace store; each method returns the typed
/// document of its endpoint (see `orchestrator-api`).
pub trait LiveSource: Send + Sync + 'static {
    /// `GET /api/v1/kpis`.
    fn kpis(&self) -> KpisDoc;
    /// `GET /api/v1/alerts`.
    fn alerts(&self) -> AlertsDoc;
    /// `GET /api/v1/traces`.
    fn traces(&self) -> TracesDoc;
}

/// The live page: its source and the sampled history of the charts. Cheap to clone.
#[derive(Clone)]
pub struct LivePage {
    source: Arc<dyn LiveSource>,
    history: History,
    auth: Option<crate::auth::BearerAuth>,
}

impl std::fmt::Debug for LivePage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LivePage").finish_non_exhaustive()
    }
}

/// The default interval of the chart points.
pub const DEFAULT_HISTORY_INTERVAL: Duration = Duration::from_secs(1);

const HTML: &str = include_str!("assets/dashboard.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/style.css");
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

impl LivePage {
    /// A page over `registry` (sampled every `interval` for the charts) and `source`.
    pub fn start(
        registry: Registry,
        source: Arc<dyn LiveSource>,
        interval: Duration,
    ) -> std::io::Result<Self> {
        Ok(LivePage {
            source,
            history: History::start(registry, interval)?,
            auth: None,
        })
    }

    /// Requires `auth` on the page and its endpoints wherever the router is merged (the
    /// orchestrator's own public router included).
    pub fn with_auth(mut self, auth: crate::auth::BearerAuth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The four documents as the endpoints would answer now, read in process (no HTTP):
    /// what a report made inside the service judges.
    pub fn documents(&self) -> orchestrator_api::Documents {
        orchestrator_api::Documents {
            summary: self.history.summary(),
            kpis: self.source.kpis(),
            alerts: self.source.alerts(),
            traces: self.source.traces(),
        }
    }

    /// The router of the page and its endpoints; merge it beside `/metrics`.
    pub fn router<S>(self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let auth = self.auth.clone();
        let router = Router::new()
            .route("/dashboard", get(page))
            .route("/dashboard/app.js", get(script))
            .route("/dashboard/style.css", get(style))
            .route("/api/v1/summary", get(summary))
            .route("/api/v1/kpis", get(kpis))
            .route("/api/v1/alerts", get(alerts))
            .route("/api/v1/traces", get(traces))
            .with_state(self);
        match auth {
            Some(auth) => auth.protect(router),
            None => router,
        }
    }
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = Response::new(Body::from(body));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn page() -> Response {
    asset(HTML, "text/html; charset=utf-8")
}

async fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

async fn style() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}

/// A JSON answer, computed on the blocking pool (the sources take locks and walk stores).
async fn json<T: Serialize + 'static>(page: LivePage, f: fn(&LivePage) -> T) -> Response {
    match tokio::task::spawn_blocking(move || serde_json::to_vec(&f(&page))).await {
        Ok(Ok(body)) => {
            let mut response = Response::new(Body::from(body));
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        Ok(Err(err)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding failed: {err}\n"),
        )
            .into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "the handler failed\n").into_response(),
    }
}

async fn summary(State(page): State<LivePage>) -> Response {
    json(page, |p| p.history.summary()).await
}

async fn kpis(State(page): State<LivePage>) -> Response {
    json(page, |p| p.source.kpis()).await
}

async fn alerts(State(page): State<LivePage>) -> Response {
    json(page, |p| p.source.alerts()).await
}

async fn traces(State(page): State<LivePage>) -> Response {
    json(page, |p| p.source.traces()).await
}
