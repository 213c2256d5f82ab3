//! A sink that writes a structured `tracing` event per alert.

use super::{Delivery, DeliveryError, Notification, NotifyState, Sink};

/// Logs firing alerts at `warn` and resolutions at `info`, with the alert's name,
/// severity, value (in the rule's unit, `value` as printed and `raw_value` as measured)
/// and summary as fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSink;

impl Sink for LogSink {
    fn name(&self) -> String {
        "log".to_owned()
    }

    fn delivery(&self) -> Delivery {
        Delivery::OnChange
    }

    fn deliver(&self, batch: &[Notification]) -> Result<(), DeliveryError> {
        for n in batch {
            let severity = n.label("severity").unwrap_or("");
            let summary = n
                .annotations
                .iter()
                .find(|(k, _)| k == "summary")
                .map_or("", |(_, v)| v.as_str());
            // What tells one alert of a rule from another (`tenant`, `period`, ...).
            let series: Vec<String> = n
                .labels
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "alertname" | "severity" | "service"))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let labels = series.join(",");
            let value = super::facts::shown_value(n);
            let raw_value = n.value;
            match n.state {
                NotifyState::Firing => {
                    tracing::warn!(alertname = %n.alertname, severity, labels, value, raw_value, summary, "alert firing")
                }
                NotifyState::Resolved => {
                    tracing::info!(alertname = %n.alertname, severity, labels, value, raw_value, summary, "alert resolved")
                }
            }
        }
        Ok(())
    }
}
