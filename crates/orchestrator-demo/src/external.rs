//! The orchestrator's client of an external API (a moderation service), timed as a
//! `dependency="external"` call.

use std::time::{Duration, Instant};

use orchestrator_telemetry::{DependencyKind, Metrics};

const TARGET: &str = "moderation-api";

/// A client of the simulated moderation API.
#[derive(Debug, Clone)]
pub struct ExternalClient {
    http: reqwest::Client,
    url: String,
    metrics: Metrics,
    timeout: Duration,
}

impl ExternalClient {
    /// A client of the API at `base_url`.
    pub fn new(base_url: &str, metrics: Metrics) -> Self {
        ExternalClient {
            http: reqwest::Client::new(),
            url: format!("{base_url}/external/moderation"),
            metrics,
            timeout: Duration::from_millis(250),
        }
    }

    /// Asks whether `text` is flagged. A failure is recorded and reported as `None`: the
    /// orchestrator degrades (skips moderation) rather than failing the request.
    pub async fn moderate(&self, _text: &str) -> Option<bool> {
        let start = Instant::now();
        let result = self.http.get(&self.url).timeout(self.timeout).send().await;
        let (flagged, error) = match result {
            Ok(r) if r.status().is_success() => match r.json::<serde_json::Value>().await {
                Ok(v) => (v.get("flagged").and_then(serde_json::Value::as_bool), None),
                Err(_) => (None, Some("malformed_response")),
            },
            Ok(_) => (None, Some("http_error")),
            Err(e) if e.is_timeout() => (None, Some("timeout")),
            Err(_) => (None, Some("connection_failed")),
        };
        self.metrics.dependencies().record(
            DependencyKind::External,
            TARGET,
            start.elapsed(),
            error,
        );
        flagged
    }
}
