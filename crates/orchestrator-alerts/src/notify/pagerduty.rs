//! PagerDuty Events API v2: `trigger` when an alert fires and `resolve` with the same
//! `dedup_key` when it resolves.

use orchestrator_http::{HttpClient, Secret};
use serde_json::{Value, json};

use super::facts::Facts;
use super::{Delivery, DeliveryError, Notification, NotifyState, Sink};

/// PagerDuty's US endpoint; EU accounts use `https://events.eu.pagerduty.com/v2/enqueue`.
pub const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// Sends Events API v2 events. The routing key is a secret: read from a file or the
/// environment, never logged, `***` in `Debug`.
#[derive(Debug, Clone)]
pub struct PagerDutySink {
    routing_key: Secret,
    client: HttpClient,
    url: String,
    source: String,
    link: Option<String>,
}

impl PagerDutySink {
    /// A sink for the integration with `routing_key`, posting to [`PAGERDUTY_EVENTS_URL`]
    /// with `client`. `source` names the affected system (`payload.source`), the host or
    /// service name.
    pub fn new(routing_key: Secret, client: HttpClient, source: impl Into<String>) -> Self {
        PagerDutySink {
            routing_key,
            client,
            url: PAGERDUTY_EVENTS_URL.to_owned(),
            source: source.into(),
            link: None,
        }
    }

    /// Another endpoint (an EU account, a test server).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// A link to the live page, sent in `links`.
    pub fn link(mut self, url: impl Into<String>) -> Self {
        self.link = Some(url.into());
        self
    }

    /// The `dedup_key` of an alert: its name and labels, so `resolve` closes the incident
    /// `trigger` opened.
    pub fn dedup_key(n: &Notification) -> String {
        let mut labels: Vec<String> = n
            .labels
            .iter()
            .filter(|(k, _)| k != "alertname")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        labels.sort();
        format!(
            "orchestrator-telemetry/{}{{{}}}",
            n.alertname,
            labels.join(",")
        )
    }

    /// The event for one notification.
    pub fn event(&self, n: &Notification) -> Value {
        let dedup_key = Self::dedup_key(n);
        if n.state == NotifyState::Resolved {
            return json!({
                "routing_key": self.routing_key.expose(),
                "event_action": "resolve",
                "dedup_key": dedup_key,
            });
        }
        let f = Facts::of(n);
        // PagerDuty's severities: critical, error, warning, info.
        let severity = match f.severity.as_str() {
            "critical" => "critical",
            "high" => "error",
            "medium" => "warning",
            _ => "info",
        };
        let mut links = Vec::new();
        if let Some(l) = &self.link {
            links.push(json!({"href": l, "text": "Live page"}));
        }
        if let Some(r) = &f.runbook {
            links.push(json!({"href": r, "text": "Runbook"}));
        }
        json!({
            "routing_key": self.routing_key.expose(),
            "event_action": "trigger",
            "dedup_key": dedup_key,
            "payload": {
                "summary": truncate(&format!("{}: {}", f.headline(), f.summary), 1024),
                "source": self.source,
                "severity": severity,
                "timestamp": f.since,
                "component": n.label("service").unwrap_or("orchestrator"),
                "class": n.alertname,
                "custom_details": {
                    "condition": f.condition,
                    "value": f.value,
                    "since": f.since,
                    "labels": f.labels,
                    "description": f.description,
                },
            },
            "links": links,
            "client": "orchestrator-telemetry",
        })
    }
}

/// PagerDuty caps `summary` at 1024 characters.
fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

impl Sink for PagerDutySink {
    fn name(&self) -> String {
        "pagerduty".to_owned()
    }

    fn delivery(&self) -> Delivery {
        Delivery::OnChange
    }

    fn deliver(&self, batch: &[Notification]) -> Result<(), DeliveryError> {
        for n in batch {
            let body = self.event(n).to_string();
            self.client.post_json(&self.url, body.as_bytes(), &[])?;
        }
        Ok(())
    }
}
