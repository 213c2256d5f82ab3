//! API request metrics: `orchestrator_requests_total`, `orchestrator_request_duration_seconds`
//! and, for 5xx answers, `orchestrator_errors_total{component="api",kind="server_error"}`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::handle_cache::HandleCache;
use super::{ErrorMetrics, counter, histogram};
use crate::catalogue::{self, labels::HTTP_METHODS};
use crate::{CardinalityGuard, CounterHandle, Exemplar, GuardedLabel, HistogramHandle, Registry};

/// The outcome of an API request as recorded in the `status` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// An HTTP status code. Codes outside 100–999 are recorded as `status="other"`.
    Code(u16),
    /// The client went away (or the request future was dropped) before a response was sent.
    Cancelled,
}

impl Status {
    const CANCELLED_KEY: u16 = 0;
    const OTHER_KEY: u16 = 1;

    fn key(self) -> u16 {
        match self {
            Status::Code(code @ 100..=999) => code,
            Status::Code(_) => Self::OTHER_KEY,
            Status::Cancelled => Self::CANCELLED_KEY,
        }
    }

    fn label(key: u16) -> String {
        match key {
            Self::CANCELLED_KEY => "cancelled".to_owned(),
            Self::OTHER_KEY => "other".to_owned(),
            code => code.to_string(),
        }
    }

    /// Whether the request counts as a server error (a 5xx status).
    pub fn is_server_error(self) -> bool {
        matches!(self, Status::Code(500..=599))
    }
}

impl From<u16> for Status {
    fn from(code: u16) -> Self {
        Status::Code(code)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Status::label(self.key()))
    }
}

/// The index of a method in `HTTP_METHODS`; anything non-standard is `_OTHER`, so a client
/// cannot mint label values with made-up methods. (A `match` compiles to a length switch and
/// word compares, cheaper than scanning the list.)
#[inline]
fn method_index(method: &str) -> u8 {
    match method {
        "GET" => 0,
        "HEAD" => 1,
        "POST" => 2,
        "PUT" => 3,
        "DELETE" => 4,
        "CONNECT" => 5,
        "OPTIONS" => 6,
        "TRACE" => 7,
        "PATCH" => 8,
        _ => 9,
    }
}

#[derive(Debug, Clone)]
struct Handles {
    requests: CounterHandle,
    duration: HistogramHandle,
    server_error: Option<CounterHandle>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    guard: Arc<CardinalityGuard>,
    server_errors: CounterHandle,
    /// Keyed by route and `method << 16 | status`.
    cache: HandleCache<(Box<str>, u32), Handles>,
}

/// Records API requests. Cheap to clone; clones share their handle cache.
///
/// ```
/// use std::time::Duration;
/// use orchestrator_metrics::{Metrics, Registry, Status};
///
/// let registry = Registry::new();
/// let requests = Metrics::new(&registry).requests().clone();
/// requests.record("/v1/sessions/{id}", "GET", 200, Duration::from_millis(12));
/// requests.record("/v1/chat", "POST", 503, Duration::from_millis(40)); // also counts an error
/// requests.record("/v1/chat", "POST", Status::Cancelled, Duration::from_millis(900));
/// assert!(registry.render().contains(r#"orchestrator_errors_total{component="api",kind="server_error"} 1"#));
/// ```
#[derive(Debug, Clone)]
pub struct RequestMetrics {
    inner: Arc<Inner>,
}

impl RequestMetrics {
    pub(crate) fn new(
        registry: &Registry,
        guard: Arc<CardinalityGuard>,
        errors: &ErrorMetrics,
    ) -> Self {
        RequestMetrics {
            inner: Arc::new(Inner {
                registry: registry.clone(),
                guard,
                server_errors: errors.handle("api", "server_error"),
                cache: HandleCache::new(),
            }),
        }
    }

    /// Records one request: its route template (never the raw path), HTTP method, status
    /// and duration.
    #[inline]
    pub fn record(&self, route: &str, method: &str, status: impl Into<Status>, duration: Duration) {
        self.record_maybe_exemplar(route, method, status, duration, None);
    }

    /// Records one request as [`record`](Self::record) does; when the request was served in
    /// a sampled trace, its duration also becomes its bucket's exemplar (shown in the
    /// OpenMetrics exposition, linking the latency histogram to the trace).
    #[inline]
    pub fn record_maybe_exemplar(
        &self,
        route: &str,
        method: &str,
        status: impl Into<Status>,
        duration: Duration,
        exemplar: Option<Exemplar>,
    ) {
        let small = u32::from(method_index(method)) << 16 | u32::from(status.into().key());
        let seconds = duration.as_secs_f64();
        let cache = &self.inner.cache;
        match cache.find(cache.hash(route, small.into()), |k| {
            k.1 == small && &*k.0 == route
        }) {
            Some(handles) => handles.record(seconds, exemplar),
            None => self.record_new(route, small, seconds, exemplar),
        }
    }

    #[cold]
    fn record_new(&self, route: &str, small: u32, seconds: f64, exemplar: Option<Exemplar>) {
        let route = self.inner.guard.admit(GuardedLabel::Route, route);
        let route: &str = &route;
        let cache = &self.inner.cache;
        let hash = cache.hash(route, small.into());
        let eq = |k: &(Box<str>, u32)| k.1 == small && &*k.0 == route;
        let handles = cache.get_or_insert_with(hash, (route.into(), small), eq, || {
            self.resolve(route, small)
        });
        handles.record(seconds, exemplar);
    }

    fn resolve(&self, route: &str, small: u32) -> Handles {
        let (method, status) = ((small >> 16) as u8, small as u16);

        let registry = &self.inner.registry;
        let method = HTTP_METHODS[method as usize];
        let status_label = Status::label(status);
        Handles {
            requests: counter(
                registry,
                &catalogue::REQUESTS_TOTAL,
                &[route, method, &status_label],
            ),
            duration: histogram(
                registry,
                &catalogue::REQUEST_DURATION_SECONDS,
                &[route, method],
            ),
            server_error: (500..=599)
                .contains(&status)
                .then(|| self.inner.server_errors.clone()),
        }
    }
}

impl Handles {
    #[inline]
    fn record(&self, seconds: f64, exemplar: Option<Exemplar>) {
        self.requests.increment(1);
        // A Duration is finite and non-negative, so the observation cannot be refused.
        let _ = self.duration.observe_maybe_exemplar(seconds, exemplar);
        if let Some(errors) = &self.server_error {
            errors.increment(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CardinalityLimits, Metrics};

    #[test]
    fn method_indices_follow_the_catalogue_order() {
        for (i, m) in HTTP_METHODS.iter().enumerate().take(HTTP_METHODS.len() - 1) {
            assert_eq!(method_index(m) as usize, i, "{m}");
        }
        assert_eq!(HTTP_METHODS[method_index("_OTHER") as usize], "_OTHER");
    }

    #[test]
    fn methods_are_normalised() {
        assert_eq!(HTTP_METHODS[method_index("GET") as usize], "GET");
        assert_eq!(HTTP_METHODS[method_index("PATCH") as usize], "PATCH");
        assert_eq!(HTTP_METHODS[method_index("get") as usize], "_OTHER");
        assert_eq!(HTTP_METHODS[method_index("BREW") as usize], "_OTHER");
    }

    #[test]
    fn status_labels() {
        assert_eq!(Status::Code(404).to_string(), "404");
        assert_eq!(Status::Cancelled.to_string(), "cancelled");
        assert_eq!(Status::Code(42).to_string(), "other");
        assert!(Status::Code(503).is_server_error());
        assert!(!Status::Cancelled.is_server_error());
    }

    #[test]
    fn hot_path_cache_stays_bounded_under_hostile_routes() {
        let registry = Registry::new();
        let metrics = Metrics::builder()
            .cardinality(CardinalityLimits::default().cap(GuardedLabel::Route, 5))
            .build(&registry);
        for i in 0..1000 {
            metrics
                .requests()
                .record(&format!("/r/{i}"), "GET", 200, Duration::from_millis(1));
        }
        // 5 admitted routes + "other".
        assert_eq!(metrics.requests().inner.cache.len(), 6);
        assert_eq!(registry.series_count_of("orchestrator_requests_total"), 6);
        assert_eq!(metrics.guard().folded(GuardedLabel::Route), 995);
    }
}
