//! A sink that posts a JSON document to a webhook: a `text` line (so a Slack incoming
//! webhook accepts it) and the alerts in full (for anything else).

use std::time::Duration;

use orchestrator_http::{HttpClient, HttpError};
use orchestrator_support::rfc3339;
use serde_json::{Map, Value, json};

use super::{Delivery, DeliveryError, Notification, Sink};

/// Posts `{"text": ..., "status": ..., "alerts": [...]}` to an `http://` or `https://` URL
/// when alerts fire or resolve. Only `scheme://host:port` of the URL is ever logged.
#[derive(Debug, Clone)]
pub struct WebhookSink {
    url: String,
    client: HttpClient,
}

impl WebhookSink {
    /// A sink posting to `url` with a client whose deadline is 5 s per attempt.
    pub fn new(url: &str) -> Result<Self, HttpError> {
        let client = HttpClient::builder()
            .deadline(Duration::from_secs(5))
            .build()?;
        Self::with_client(url, client)
    }

    /// A sink posting to `url` with `client` (a custom CA, another deadline).
    pub fn with_client(url: &str, client: HttpClient) -> Result<Self, HttpError> {
        HttpClient::check_url(url)?;
        Ok(WebhookSink {
            url: url.to_owned(),
            client,
        })
    }
}

pub(crate) fn object(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<_, _>>(),
    )
}

/// The payload for a batch.
pub(crate) fn payload(batch: &[Notification]) -> Value {
    let lines: Vec<String> = batch
        .iter()
        .map(|n| {
            let summary = n
                .annotations
                .iter()
                .find(|(k, _)| k == "summary")
                .map_or("", |(_, v)| v.as_str());
            format!(
                "[{}] {} ({}): {summary} (value {})",
                n.state.as_str().to_uppercase(),
                n.alertname,
                n.label("severity").unwrap_or("-"),
                super::facts::shown_value(n)
            )
        })
        .collect();
    let status = if batch.iter().any(|n| n.state == super::NotifyState::Firing) {
        "firing"
    } else {
        "resolved"
    };
    json!({
        "text": lines.join("\n"),
        "status": status,
        "alerts": batch.iter().map(|n| json!({
            "alertname": n.alertname,
            "status": n.state.as_str(),
            "labels": object(&n.labels),
            "annotations": object(&n.annotations),
            "value": n.value,
            "valueText": super::facts::shown_value(n),
            "valueIsLastFiring": n.value_is_last_firing,
            "startsAt": rfc3339(n.starts_at),
            "endsAt": rfc3339(n.ends_at),
        })).collect::<Vec<_>>(),
    })
}

impl Sink for WebhookSink {
    fn name(&self) -> String {
        "webhook".to_owned()
    }

    fn delivery(&self) -> Delivery {
        Delivery::OnChange
    }

    fn deliver(&self, batch: &[Notification]) -> Result<(), DeliveryError> {
        let body = payload(batch).to_string();
        self.client.post_json(&self.url, body.as_bytes(), &[])?;
        Ok(())
    }
}
