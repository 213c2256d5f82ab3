//! A sink that pushes alerts to Alertmanager's API v2, as Prometheus does.

use std::time::Duration;

use orchestrator_query::http::{self, HttpUrl};
use orchestrator_query::rfc3339;
use serde_json::{Value, json};

use super::webhook::object;
use super::{Delivery, Notification, Sink};

/// `POST /api/v2/alerts` with Prometheus's payload: `labels`, `annotations`, `startsAt`
/// (when the alert started firing) and `endsAt` (when it resolved, or while it fires four
/// resend intervals ahead so Alertmanager resolves it by itself if the pushes stop).
#[derive(Debug, Clone)]
pub struct AlertmanagerSink {
    url: HttpUrl,
    timeout: Duration,
    generator_url: Option<String>,
}

impl AlertmanagerSink {
    /// A sink for the Alertmanager at `base` (`http://alertmanager:9093`).
    pub fn new(base: &str) -> Result<Self, String> {
        let url = HttpUrl::parse(base)?.with_path("/api/v2/alerts");
        Ok(AlertmanagerSink {
            url,
            timeout: Duration::from_secs(10),
            generator_url: None,
        })
    }

    /// A link to where the alerts come from (the live page), sent as `generatorURL`.
    pub fn generator_url(mut self, url: &str) -> Self {
        self.generator_url = Some(url.to_owned());
        self
    }

    /// Sets the timeout of each attempt.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
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

    fn deliver(&self, batch: &[Notification]) -> Result<(), String> {
        let (status, body) =
            http::post_json(&self.url, &self.payload(batch).to_string(), self.timeout)?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("HTTP {status}: {body}"))
        }
    }
}
