//! The orchestrator's client of an external API (a moderation service), wrapped by the
//! telemetry layer: a `dependency="external"` call with a span and a `traceparent`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use orchestrator_telemetry::orchestrator_tower::{
    External, TelemetryLayer, TelemetryService, Tracer,
};
use tower::{Layer as _, ServiceExt as _};

use crate::http_client::{HttpClient, http_client};

/// The target label of the moderation API.
pub const TARGET: &str = "moderation-api";

/// A client of the simulated moderation API.
#[derive(Debug, Clone)]
pub struct ExternalClient {
    http: TelemetryService<HttpClient, External>,
    url: String,
    timeout: Duration,
}

impl ExternalClient {
    /// A client of the API at `base_url`.
    pub fn new(base_url: &str, tracer: &Tracer) -> Self {
        ExternalClient {
            http: TelemetryLayer::external(tracer, TARGET).layer(http_client()),
            url: format!("{base_url}/external/moderation"),
            timeout: Duration::from_millis(250),
        }
    }

    /// Asks whether `text` is flagged. A failure is recorded by the layer and reported as
    /// `None`: the orchestrator degrades (skips moderation) rather than failing the request.
    pub async fn moderate(&self, _text: &str) -> Option<bool> {
        let request = http::Request::get(&self.url)
            .body(Full::new(Bytes::new()))
            .ok()?;
        let call = async {
            let response = self.http.clone().oneshot(request).await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            let body = response.into_body().collect().await.ok()?.to_bytes();
            let value: serde_json::Value = serde_json::from_slice(&body).ok()?;
            value.get("flagged").and_then(serde_json::Value::as_bool)
        };
        // On timeout the call is dropped, and recorded as cancelled.
        tokio::time::timeout(self.timeout, call)
            .await
            .ok()
            .flatten()
    }
}
