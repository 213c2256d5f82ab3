//! The facts every channel shows about one notification, formatted once.

use orchestrator_support::rfc3339;

use super::{Notification, NotifyState};
use crate::report::title;

/// What a message says about one alert.
pub(crate) struct Facts {
    /// `FIRING` or `RESOLVED`.
    pub(crate) state: &'static str,
    /// "High Error Rate".
    pub(crate) title: String,
    /// `critical`, `high`, `medium`, `low` (`-` when unset).
    pub(crate) severity: String,
    /// The summary annotation, or the alert name.
    pub(crate) summary: String,
    /// The description annotation, if any.
    pub(crate) description: Option<String>,
    /// The condition, PromQL.
    pub(crate) condition: String,
    /// The value in the rule's unit; for a resolved alert, said to be the value at the
    /// resolution or the last firing one.
    pub(crate) value: String,
    /// When it started firing, RFC 3339.
    pub(crate) since: String,
    /// When it resolved, RFC 3339.
    pub(crate) resolved_at: Option<String>,
    /// The runbook link, if any.
    pub(crate) runbook: Option<String>,
    /// Labels other than `alertname` and `severity`, as `k=v`.
    pub(crate) labels: Vec<String>,
}

impl Facts {
    pub(crate) fn of(n: &Notification) -> Self {
        Facts {
            state: match n.state {
                NotifyState::Firing => "FIRING",
                NotifyState::Resolved => "RESOLVED",
            },
            title: title(&n.alertname),
            severity: n.label("severity").unwrap_or("-").to_owned(),
            summary: n.annotation("summary").unwrap_or(&n.alertname).to_owned(),
            description: n.annotation("description").map(str::to_owned),
            condition: n.condition.clone(),
            value: shown_value(n),
            since: rfc3339(n.starts_at),
            resolved_at: (n.state == NotifyState::Resolved).then(|| rfc3339(n.ends_at)),
            runbook: n
                .annotation("runbook_url")
                .or(n.annotation("runbook"))
                .map(str::to_owned),
            labels: n
                .labels
                .iter()
                .filter(|(k, _)| k != "alertname" && k != "severity")
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
        }
    }

    /// `[FIRING] High Error Rate (critical)`.
    pub(crate) fn headline(&self) -> String {
        format!("[{}] {} ({})", self.state, self.title, self.severity)
    }

    /// The facts as plain-text lines (email body, logs).
    pub(crate) fn lines(&self, link: Option<&str>) -> Vec<String> {
        let mut lines = vec![
            self.headline(),
            format!("Summary:   {}", self.summary),
            format!("Condition: {}", self.condition),
            format!("Value:     {}", self.value),
            format!("Since:     {}", self.since),
        ];
        if let Some(at) = &self.resolved_at {
            lines.push(format!("Resolved:  {at}"));
        }
        if let Some(d) = &self.description {
            lines.push(format!("Details:   {d}"));
        }
        if !self.labels.is_empty() {
            lines.push(format!("Labels:    {}", self.labels.join(", ")));
        }
        if let Some(r) = &self.runbook {
            lines.push(format!("Runbook:   {r}"));
        }
        if let Some(l) = link {
            lines.push(format!("Live page: {l}"));
        }
        lines
    }
}

/// `4.06 s`, `120 ms at resolution`, or `485 ms (last firing value)`: a resolved
/// message never shows the firing value as if it were current.
pub(crate) fn shown_value(n: &Notification) -> String {
    let value = n.unit.format(n.value);
    match n.state {
        NotifyState::Firing => value,
        NotifyState::Resolved if n.value_is_last_firing => {
            format!("{value} (last firing value; none at resolution)")
        }
        NotifyState::Resolved => format!("{value} at resolution"),
    }
}

/// A value as Prometheus prints it: `0.0123`, `NaN`, `+Inf`.
pub(crate) fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        let rounded = (v * 1e6).round() / 1e6;
        format!("{rounded}")
    }
}
