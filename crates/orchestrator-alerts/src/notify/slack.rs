//! Slack: an incoming webhook, one message per alert change with Block Kit `blocks` and a
//! `text` fallback (what notifications and screen readers show).

use orchestrator_http::{HttpClient, Secret};
use serde_json::{Value, json};

use super::facts::Facts;
use super::{Delivery, DeliveryError, Notification, NotifyState, Sink};

/// Posts to a Slack incoming webhook when alerts fire and when they resolve (a second
/// message). The webhook URL is a secret (its path is the credential): it is never logged
/// and `Debug` shows `***`.
#[derive(Debug, Clone)]
pub struct SlackSink {
    webhook: Secret,
    client: HttpClient,
    link: Option<String>,
}

impl SlackSink {
    /// A sink posting to `webhook` (from [`Secret::from_file`] or [`Secret::from_env`])
    /// with `client` (its deadline bounds each attempt).
    pub fn new(webhook: Secret, client: HttpClient) -> Self {
        SlackSink {
            webhook,
            client,
            link: None,
        }
    }

    /// A link to the live page, shown under each message.
    pub fn link(mut self, url: impl Into<String>) -> Self {
        self.link = Some(url.into());
        self
    }

    /// The message for one notification: `text` and `blocks`.
    pub fn message(&self, n: &Notification) -> Value {
        let f = Facts::of(n);
        let emoji = match (n.state, f.severity.as_str()) {
            (NotifyState::Resolved, _) => ":white_check_mark:",
            (_, "critical") => ":rotating_light:",
            (_, "high") => ":red_circle:",
            (_, "medium") => ":large_orange_circle:",
            _ => ":large_yellow_circle:",
        };
        let mut fields = vec![
            mrkdwn(&format!("*Severity*\n{}", f.severity)),
            mrkdwn(&format!("*Value*\n{}", f.value)),
            mrkdwn(&format!("*Since*\n{}", f.since)),
        ];
        if let Some(at) = &f.resolved_at {
            fields.push(mrkdwn(&format!("*Resolved*\n{at}")));
        }
        let mut blocks = vec![
            json!({
                "type": "header",
                "text": {"type": "plain_text", "text": format!("{emoji} [{}] {}", f.state, f.title), "emoji": true},
            }),
            json!({"type": "section", "text": mrkdwn(&escape(&f.summary)), "fields": fields}),
            json!({"type": "section", "text": mrkdwn(&format!("*Condition*\n```{}```", escape(&f.condition)))}),
        ];
        let mut context = Vec::new();
        if !f.labels.is_empty() {
            context.push(mrkdwn(&escape(&f.labels.join(", "))));
        }
        if let Some(r) = &f.runbook {
            context.push(mrkdwn(&format!("<{r}|Runbook>")));
        }
        if let Some(l) = &self.link {
            context.push(mrkdwn(&format!("<{l}|Live page>")));
        }
        if !context.is_empty() {
            blocks.push(json!({"type": "context", "elements": context}));
        }
        json!({
            "text": format!("{emoji} {}: {}", f.headline(), f.summary),
            "blocks": blocks,
        })
    }
}

fn mrkdwn(text: &str) -> Value {
    json!({"type": "mrkdwn", "text": text})
}

/// Slack's three control characters in `mrkdwn`.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Sink for SlackSink {
    fn name(&self) -> String {
        "slack".to_owned()
    }

    fn delivery(&self) -> Delivery {
        Delivery::OnChange
    }

    fn deliver(&self, batch: &[Notification]) -> Result<(), DeliveryError> {
        for n in batch {
            let body = self.message(n).to_string();
            self.client
                .post_json(self.webhook.expose(), body.as_bytes(), &[])?;
        }
        Ok(())
    }
}
