//! Per-request metrics for the demo's API: the route template from axum's `MatchedPath`
//! (never the raw path), the method, the status, and the duration. A request whose future is
//! dropped before answering is recorded as `status="cancelled"`.
//!
//! (The `orchestrator-tower` layer will replace this with spans and sampling; the metrics
//! it records go through the same `RequestMetrics`.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use orchestrator_telemetry::{RequestMetrics, Status};

/// A request as it was recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedRequest {
    /// The route template, or `unmatched`.
    pub route: String,
    /// The method.
    pub method: String,
    /// The recorded status.
    pub status: Status,
    /// The recorded duration.
    pub duration: Duration,
}

/// Called with every recorded request (tests use it to know the exact durations).
pub type RequestObserver = Arc<dyn Fn(&ObservedRequest) + Send + Sync>;

/// The route label of requests that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// The middleware's state.
#[derive(Clone)]
pub struct RequestTelemetry {
    /// The recorder.
    pub metrics: RequestMetrics,
    /// An optional observer.
    pub observer: Option<RequestObserver>,
}

struct InFlight {
    telemetry: RequestTelemetry,
    route: Option<MatchedPath>,
    method: axum::http::Method,
    start: Instant,
    status: Option<Status>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let status = self.status.unwrap_or(Status::Cancelled);
        let duration = self.start.elapsed();
        let route = self.route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
        self.telemetry
            .metrics
            .record(route, self.method.as_str(), status, duration);
        if let Some(observer) = &self.telemetry.observer {
            observer(&ObservedRequest {
                route: route.to_owned(),
                method: self.method.to_string(),
                status,
                duration,
            });
        }
    }
}

/// The middleware function, for `axum::middleware::from_fn_with_state`.
pub async fn record_requests(
    State(telemetry): State<RequestTelemetry>,
    request: Request,
    next: Next,
) -> Response {
    let mut in_flight = InFlight {
        route: request.extensions().get::<MatchedPath>().cloned(),
        method: request.method().clone(),
        start: Instant::now(),
        status: None,
        telemetry,
    };
    let response = next.run(request).await;
    in_flight.status = Some(Status::Code(response.status().as_u16()));
    response
}
