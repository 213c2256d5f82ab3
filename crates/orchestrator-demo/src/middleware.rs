//! An observer of the API's requests, for tests that need each request's own duration. The
//! metrics and spans come from `orchestrator-tower`'s server layer, which wraps this one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use orchestrator_telemetry::Status;
pub use orchestrator_telemetry::orchestrator_tower::UNMATCHED;

/// A request as it was observed.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedRequest {
    /// The route template, or `unmatched`.
    pub route: String,
    /// The method.
    pub method: String,
    /// The status (`cancelled` when the request was dropped).
    pub status: Status,
    /// The duration, measured inside the telemetry layer.
    pub duration: Duration,
}

/// Called with every request.
pub type RequestObserver = Arc<dyn Fn(&ObservedRequest) + Send + Sync>;

struct InFlight {
    observer: RequestObserver,
    route: Option<MatchedPath>,
    method: axum::http::Method,
    start: Instant,
    status: Option<Status>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let route = self.route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
        (self.observer)(&ObservedRequest {
            route: route.to_owned(),
            method: self.method.to_string(),
            status: self.status.unwrap_or(Status::Cancelled),
            duration: self.start.elapsed(),
        });
    }
}

/// The middleware function, for `axum::middleware::from_fn_with_state`.
pub async fn observe_requests(
    State(observer): State<RequestObserver>,
    request: Request,
    next: Next,
) -> Response {
    let mut in_flight = InFlight {
        route: request.extensions().get::<MatchedPath>().cloned(),
        method: request.method().clone(),
        start: Instant::now(),
        status: None,
        observer,
    };
    let response = next.run(request).await;
    in_flight.status = Some(Status::Code(response.status().as_u16()));
    response
}
