//! Evaluating the rules in-process after every sample.

use std::collections::VecDeque;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use orchestrator_metrics::{GaugeHandle, Registry, RegistryError, catalogue};
use orchestrator_query::{Evaluator, Expr, SampleStore, eval};
use orchestrator_support::Millis;

use crate::notify::{Dispatcher, Notification, NotifyState, RetryPolicy, Sink};
use crate::state::{Alert, AlertState, RuleState, Transition};
use crate::{AlertRule, AlertsReport, RuleReport};

/// How the evaluator notifies and remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvaluatorConfig {
    /// How often firing alerts are re-sent to Alertmanager (Prometheus's
    /// `--rules.alert.resend-delay`, default 1 minute).
    pub resend_delay: Duration,
    /// The evaluation interval, used for `endsAt` as Prometheus does.
    pub interval: Duration,
    /// Transitions kept in the history.
    pub history: usize,
    /// Retries of failed deliveries.
    pub retry: RetryPolicy,
}

impl Default for EvaluatorConfig {
    fn default() -> Self {
        EvaluatorConfig {
            resend_delay: Duration::from_secs(60),
            interval: Duration::from_secs(15),
            history: 256,
            retry: RetryPolicy::default(),
        }
    }
}

/// The latest state of the rules, shared with whoever shows it.
#[derive(Debug, Clone, Default)]
pub struct AlertsHandle(Arc<RwLock<Option<AlertsReport>>>);

impl AlertsHandle {
    /// The state after the latest evaluation.
    pub fn latest(&self) -> Option<AlertsReport> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Evaluates alert rules over the sample store: the pending/firing state machine, the
/// `orchestrator_alerts` gauge, a bounded history, the mean time to resolution, and
/// notifications to sinks (on their own threads).
#[derive(Debug)]
pub struct AlertEvaluator {
    states: Vec<RuleState>,
    gauges: Vec<[GaugeHandle; 2]>,
    history: VecDeque<Transition>,
    resolved: u64,
    resolution_ms: u128,
    dispatcher: Dispatcher,
    handle: AlertsHandle,
    config: EvaluatorConfig,
}

impl AlertEvaluator {
    /// An evaluator for `rules`, exporting into `registry` and notifying `sinks`.
    pub fn new(
        rules: Vec<AlertRule>,
        registry: &Registry,
        sinks: Vec<Arc<dyn Sink>>,
        config: EvaluatorConfig,
    ) -> Result<Self, EvaluatorError> {
        let mut gauges = Vec::new();
        for rule in &rules {
            let labels = |state| [rule.name(), rule.severity().as_str(), state];
            gauges.push([
                registry.gauge(&catalogue::ALERTS, &labels("pending"))?,
                registry.gauge(&catalogue::ALERTS, &labels("firing"))?,
            ]);
        }
        let dropped = registry.counter(
            &catalogue::TELEMETRY_DROPPED_TOTAL,
            &["alert_notifications"],
        )?;
        let dispatcher =
            Dispatcher::new(sinks, config.retry, dropped).map_err(EvaluatorError::Thread)?;
        Ok(AlertEvaluator {
            states: rules.into_iter().map(RuleState::new).collect(),
            gauges,
            history: VecDeque::new(),
            resolved: 0,
            resolution_ms: 0,
            dispatcher,
            handle: AlertsHandle::default(),
            config,
        })
    }

    /// The handle to the latest report.
    pub fn handle(&self) -> AlertsHandle {
        self.handle.clone()
    }

    /// Evaluates every rule at `at` and returns the transitions.
    pub fn evaluate_at(&mut self, store: &SampleStore, at: Millis) -> Vec<Transition> {
        let resend = millis(self.config.resend_delay);
        let valid_for = 4 * resend.max(millis(self.config.interval));
        let mut all = Vec::new();
        let mut changes = Vec::new();
        let mut resends = Vec::new();
        for (state, gauges) in self.states.iter_mut().zip(&self.gauges) {
            let result = eval(state.rule().condition(), store, at);
            let mut transitions = state.apply(&result, at);
            let resolved_now = transitions
                .iter()
                .any(|t| t.to == Some(AlertState::Resolved));
            if resolved_now && state.rule().comparison().is_some() {
                // Only when something resolved: the value without its threshold.
                state.measure_resolutions(&eval(state.rule().value(), store, at), at);
                for t in transitions
                    .iter_mut()
                    .filter(|t| t.to == Some(AlertState::Resolved))
                {
                    if let Some(alert) = state.alerts().find(|a| a.labels == t.labels) {
                        t.value = alert.value;
                    }
                }
            }
            for t in &transitions {
                let resolved =
                    t.from == Some(AlertState::Firing) && t.to == Some(AlertState::Resolved);
                if resolved
                    && let Some(fired) = state
                        .alerts()
                        .find(|a| a.labels == t.labels)
                        .and_then(|a| a.fired_at)
                {
                    self.resolved += 1;
                    self.resolution_ms += u128::try_from(at - fired).unwrap_or(0);
                }
                let notify = match t.to {
                    Some(AlertState::Firing) => Some(NotifyState::Firing),
                    Some(AlertState::Resolved) => Some(NotifyState::Resolved),
                    _ => None,
                };
                if let (Some(notify), Some(alert)) =
                    (notify, state.alerts().find(|a| a.labels == t.labels))
                {
                    changes.push(notification(state.rule(), alert, notify, at + valid_for));
                }
            }
            for alert in state.due(at, resend) {
                let notify = if alert.state == AlertState::Resolved {
                    NotifyState::Resolved
                } else {
                    NotifyState::Firing
                };
                resends.push(notification(state.rule(), &alert, notify, at + valid_for));
            }
            let _ = gauges[0].set(state.count(AlertState::Pending) as f64);
            let _ = gauges[1].set(state.count(AlertState::Firing) as f64);
            all.extend(transitions);
        }
        self.dispatcher.dispatch(&changes, &resends);
        for t in &all {
            if self.history.len() == self.config.history.max(1) {
                self.history.pop_front();
            }
            self.history.push_back(t.clone());
        }
        *self
            .handle
            .0
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(self.report(at));
        all
    }

    /// The report as of `at`.
    pub fn report(&self, at: Millis) -> AlertsReport {
        AlertsReport {
            at,
            rules: self
                .states
                .iter()
                .map(|s| RuleReport {
                    name: s.rule().name().to_owned(),
                    severity: s.rule().severity(),
                    condition: s.rule().condition_text().to_owned(),
                    status: s.status(),
                    since: s.last_change,
                    alerts: s.alerts().cloned().collect(),
                })
                .collect(),
            history: self.history.iter().cloned().collect(),
            resolved: self.resolved,
            mean_time_to_resolution: (self.resolved > 0).then(|| {
                Duration::from_millis((self.resolution_ms / u128::from(self.resolved)) as u64)
            }),
        }
    }

    /// Waits for queued notifications to be delivered (or dropped).
    pub fn flush(&mut self) {
        self.dispatcher.shutdown();
    }
}

fn millis(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn notification(
    rule: &AlertRule,
    alert: &Alert,
    state: NotifyState,
    valid_until: Millis,
) -> Notification {
    Notification {
        alertname: rule.name().to_owned(),
        state,
        labels: alert.labels.clone(),
        annotations: rule.annotations().to_vec(),
        value: alert.value,
        value_is_last_firing: state == NotifyState::Resolved && !alert.measured_at_resolution,
        unit: rule.unit(),
        condition: rule.condition_text().to_owned(),
        starts_at: alert.fired_at.unwrap_or(alert.active_at),
        ends_at: alert.resolved_at.unwrap_or(valid_until),
    }
}

impl Evaluator for AlertEvaluator {
    fn watches(&self) -> Vec<Expr> {
        self.states
            .iter()
            .map(|s| s.rule().condition().clone())
            .collect()
    }

    fn evaluate(&mut self, store: &SampleStore, at: Millis) {
        self.evaluate_at(store, at);
    }
}

/// Why the evaluator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EvaluatorError {
    /// Its gauges could not be registered.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A sink thread could not start.
    #[error("cannot start an alert sink thread: {0}")]
    Thread(#[source] std::io::Error),
}
