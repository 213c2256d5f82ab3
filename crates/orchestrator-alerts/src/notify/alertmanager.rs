//! A sink that pushes alerts to Alertmanager's API v2, as Prometheus does.

use std::time::Duration;

use orchestrator_http::{HttpClient, HttpError};
use orchestrator_support::rfc3339;
use serde_json::{Value, json};

use super::webhook::object;
use super::{Delivery, DeliveryError, Notification, Sink};

/// `POST /api/v2/alerts` with Prometheus's payload: `labels`, `annotations`, `startsAt`
/// (when the alert started firing) and `endsAt` (when it resolved, or while it fires four
/// resend intervals ahead so Alertmanager resolves it by itself if the pushes stop).
#[derive(Debug, Clone)]
pub struct AlertmanagerSink {
    url: String,
    client: HttpClient,
    generator_url: Option<String>,
}

impl AlertmanagerSink {
    /// A sink for the Alertmanager at `base` (`http://alertmanager:9093`, `https://...`,
    /// `http://[::1]:9093`), with a 10 s deadline per attempt.
    pub fn new(base: &str) -> Result<Self, HttpError> {
        let client = HttpClient::builder()
            .deadline(Duration::from_secs(10))
            .build()?;
        Self::with_client(base, client)
    }

    /// A sink for the Alertmanager at `base` with `client`.
    pub fn with_client(base: &str, client: HttpClient) -> Result<Self, HttpError> {
        let url = format!("{}/api/v2/alerts", base.trim_end_matches('/'));
        HttpClient::check_url(&url)?;
        Ok(AlertmanagerSink {
            url,
            client,
            generator_url: None,
        })
    }

    /// A link to where the alerts come from (the live page), sent as `generatorURL`.
    pub fn generator_url(mut self, url: &str) -> Self {
        self.generator_url = Some(url.to_owned());
        self
    }

    /// The payload of a batch.
    pub fn payload(&self, batch: &[Notification]) -> Value {
        Value::Array(
            batch
                .iter()
                .map(|n| {
                    let mut alert = json!({
                        "labels": object(&n.labels),
                        "annotations": object(&n.annotations),
                        "startsAt": rfc3339(n.starts_at),
                        "endsAt": rfc3339(n.ends_at),
                    });
                    if let Some(url) = &self.generator_url {
                        alert["generatorURL"] = Value::String(url.clone());
                    }
                    alert
                })
                .collect(),
        )
    }
}

impl Sink for AlertmanagerSink {
    fn name(&self) -> String {
        "alertmanager".to_owned()
    }

    fn delivery(&self) -> Delivery {
        Delivery::PrometheusResend
    }

    fn deliver(&self, batch: &[Notification]) -> Result<(), DeliveryError> {
        let body = self.payload(batch).to_string();
        self.client.post_json(&self.url, body.as_bytes(), &[])?;
        Ok(())
    }
}
