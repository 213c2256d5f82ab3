//! The alert state machine, as Prometheus's alerting rules run it (rules/alerting.go):
//! - a series the condition returns for the first time is a *pending* alert;
//! - it *fires* at the first evaluation where it has been active for at least `for`;
//! - a pending alert whose series goes away is dropped (it never fired);
//! - a firing alert whose series goes away is *resolved*, and kept 15 minutes so that the
//!   resolution is sent (and re-sent) to Alertmanager.
//!
//! Time is whatever the caller says it is: tests drive it with any clock.

use std::collections::BTreeMap;
use std::time::Duration;

use orchestrator_query::Vector;
use orchestrator_support::Millis;

use crate::AlertRule;

/// A label set, sorted by name.
pub type Labels = Vec<(String, String)>;

/// How long a resolved alert is kept to send its resolution (Prometheus's
/// `resolvedRetention`).
pub const RESOLVED_RETENTION: Duration = Duration::from_secs(15 * 60);

/// The state of one alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertState {
    /// The condition holds, for less than `for` so far.
    Pending,
    /// The condition has held for at least `for`.
    Firing,
    /// It fired, and the condition no longer holds.
    Resolved,
}

impl AlertState {
    /// The `alertstate` label value (`pending`, `firing`) or `resolved`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }
}

/// One alert: a series of a rule's condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Its labels: the series' labels, the rule's labels, and `alertname`.
    pub labels: Labels,
    /// Its state.
    pub state: AlertState,
    /// When the condition started to hold.
    pub active_at: Millis,
    /// When it started firing.
    pub fired_at: Option<Millis>,
    /// When it resolved.
    pub resolved_at: Option<Millis>,
    /// The value of the condition's series at the last evaluation where it held; once
    /// resolved, the rule's value at the resolution when it still had the series.
    pub value: f64,
    /// Whether `value` was measured at the resolution (else, for a resolved alert, it is
    /// the last firing value).
    pub(crate) measured_at_resolution: bool,
    /// When it was last sent to Alertmanager.
    pub(crate) last_sent_at: Option<Millis>,
}

/// A change of an alert's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The rule.
    pub rule: String,
    /// The alert's labels.
    pub labels: Labels,
    /// The previous state (`None` for a new alert).
    pub from: Option<AlertState>,
    /// The new state (`None` when a pending alert was dropped).
    pub to: Option<AlertState>,
    /// When.
    pub at: Millis,
    /// The condition's value then.
    pub value: f64,
}

/// The alerts of one rule.
#[derive(Debug, Clone)]
pub struct RuleState {
    pub(crate) rule: AlertRule,
    pub(crate) alerts: BTreeMap<Labels, Alert>,
    /// The time of the last transition of any of its alerts.
    pub(crate) last_change: Option<Millis>,
}

impl RuleState {
    /// The state of `rule`, with no alert yet.
    pub fn new(rule: AlertRule) -> Self {
        RuleState {
            rule,
            alerts: BTreeMap::new(),
            last_change: None,
        }
    }

    /// The rule.
    pub fn rule(&self) -> &AlertRule {
        &self.rule
    }

    /// The alerts, pending, firing, or resolved within the retention.
    pub fn alerts(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.values()
    }

    fn alert_labels(&self, series: &Labels) -> Labels {
        let mut labels: BTreeMap<String, String> = series.iter().cloned().collect();
        labels.remove("__name__");
        for (k, v) in self.rule.labels() {
            labels.insert(k.clone(), v.clone());
        }
        labels.insert("alertname".to_owned(), self.rule.name().to_owned());
        labels.into_iter().collect()
    }

    /// Applies one evaluation of the condition at time `at`; returns the transitions.
    pub fn apply(&mut self, result: &Vector, at: Millis) -> Vec<Transition> {
        let hold = i64::try_from(self.rule.for_duration().as_millis()).unwrap_or(i64::MAX);
        let name = self.rule.name().to_owned();
        let mut transitions = Vec::new();
        let mut seen = Vec::new();
        for element in &result.0 {
            let labels = self.alert_labels(&element.labels);
            seen.push(labels.clone());
            let active = self
                .alerts
                .get(&labels)
                .is_some_and(|a| a.state != AlertState::Resolved);
            if !active {
                // New, or active again after a resolution: a new pending alert.
                let alert = Alert {
                    labels: labels.clone(),
                    state: AlertState::Pending,
                    active_at: at,
                    fired_at: None,
                    resolved_at: None,
                    value: element.value,
                    measured_at_resolution: false,
                    last_sent_at: None,
                };
                transitions.push(transition(
                    &name,
                    &alert,
                    None,
                    Some(AlertState::Pending),
                    at,
                ));
                self.alerts.insert(labels.clone(), alert);
            }
            if let Some(alert) = self.alerts.get_mut(&labels) {
                alert.value = element.value;
                if alert.state == AlertState::Pending && at - alert.active_at >= hold {
                    alert.state = AlertState::Firing;
                    alert.fired_at = Some(at);
                    transitions.push(transition(
                        &name,
                        alert,
                        Some(AlertState::Pending),
                        Some(AlertState::Firing),
                        at,
                    ));
                }
            }
        }
        let retention = i64::try_from(RESOLVED_RETENTION.as_millis()).unwrap_or(i64::MAX);
        let mut dropped = Vec::new();
        for (labels, alert) in &mut self.alerts {
            if seen.contains(labels) {
                continue;
            }
            match alert.state {
                AlertState::Pending => {
                    transitions.push(transition(
                        &name,
                        alert,
                        Some(AlertState::Pending),
                        None,
                        at,
                    ));
                    dropped.push(labels.clone());
                }
                AlertState::Firing => {
                    alert.state = AlertState::Resolved;
                    alert.resolved_at = Some(at);
                    transitions.push(transition(
                        &name,
                        alert,
                        Some(AlertState::Firing),
                        Some(AlertState::Resolved),
                        at,
                    ));
                }
                AlertState::Resolved => {}
            }
        }
        for labels in dropped {
            self.alerts.remove(&labels);
        }
        self.alerts
            .retain(|_, a| a.resolved_at.is_none_or(|r| at - r < retention));
        if !transitions.is_empty() {
            self.last_change = Some(at);
        }
        transitions
    }

    /// Gives the alerts resolved at `at` the rule's value then (`values`: the rule's value
    /// without its comparison, evaluated at `at`), where it still has their series: a
    /// resolved notification then says where the value went, not where it was.
    pub(crate) fn measure_resolutions(&mut self, values: &Vector, at: Millis) {
        let measured: Vec<(Labels, f64)> = values
            .0
            .iter()
            .map(|e| (self.alert_labels(&e.labels), e.value))
            .collect();
        for alert in self.alerts.values_mut() {
            if alert.resolved_at != Some(at) {
                continue;
            }
            if let Some((_, value)) = measured.iter().find(|(l, _)| *l == alert.labels) {
                alert.value = *value;
                alert.measured_at_resolution = true;
            }
        }
    }

    /// The rule's state: firing if any alert fires, else pending if any is pending, else
    /// resolved if any resolved within the retention, else inactive (`None`).
    pub fn status(&self) -> Option<AlertState> {
        let has = |s| self.alerts.values().any(|a| a.state == s);
        [
            AlertState::Firing,
            AlertState::Pending,
            AlertState::Resolved,
        ]
        .into_iter()
        .find(|s| has(*s))
    }

    /// How many alerts are in `state`.
    pub fn count(&self, state: AlertState) -> usize {
        self.alerts.values().filter(|a| a.state == state).count()
    }

    /// Alerts to send to Alertmanager at `at`, as Prometheus's `needsSending` decides:
    /// firing or resolved ones not sent for `resend_delay`, and any resolved since last sent.
    pub(crate) fn due(&mut self, at: Millis, resend_delay: Millis) -> Vec<Alert> {
        let mut due = Vec::new();
        for alert in self.alerts.values_mut() {
            let needs = match alert.state {
                AlertState::Pending => false,
                _ if alert
                    .resolved_at
                    .is_some_and(|r| alert.last_sent_at.is_none_or(|s| r > s)) =>
                {
                    true
                }
                _ => alert.last_sent_at.is_none_or(|s| s + resend_delay < at),
            };
            if needs {
                alert.last_sent_at = Some(at);
                due.push(alert.clone());
            }
        }
        due
    }
}

fn transition(
    rule: &str,
    alert: &Alert,
    from: Option<AlertState>,
    to: Option<AlertState>,
    at: Millis,
) -> Transition {
    Transition {
        rule: rule.to_owned(),
        labels: alert.labels.clone(),
        from,
        to,
        at,
        value: alert.value,
    }
}
