//! [`AlertingConfig`]: which rules are evaluated in-process and where their notifications
//! go, built into an [`AlertEvaluator`] (what the facade's `.alerts(|a| ..)` configures).

use std::sync::Arc;
use std::time::Duration;

use orchestrator_metrics::Registry;

use crate::generate::{Channel, Routing};
use crate::{
    AlertEvaluator, AlertRule, AlertTuning, EvaluatorConfig, EvaluatorError, LogSink, RetryPolicy,
    RuleError, Sink, Slo, SloError, default_rules,
};

/// Why alerting could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum AlertSetupError {
    /// A default rule could not be built (a bug: they are tested).
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// An SLO could not be turned into rules.
    #[error(transparent)]
    Slo(#[from] SloError),
    /// The evaluator refused the rules or could not start.
    #[error(transparent)]
    Evaluator(#[from] EvaluatorError),
}

/// The alert rules evaluated in-process and where their notifications go. Defaults: the
/// spec's four rules with production tuning, a log sink, the default routing and retry
/// policy, firing alerts re-sent every minute.
///
/// ```
/// use std::sync::Arc;
/// use orchestrator_alerts::{AlertTuning, AlertingConfig, WebhookSink};
/// use orchestrator_alerts::generate::Channel;
///
/// let config = AlertingConfig::default()
///     .tuning(AlertTuning::production())
///     .sink(Arc::new(WebhookSink::new("http://127.0.0.1:9/hook")?));
/// # let _ = (config, Channel::Slack);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct AlertingConfig {
    rules: Option<Vec<AlertRule>>,
    tuning: AlertTuning,
    slos: Vec<Slo>,
    sinks: Vec<Arc<dyn Sink>>,
    channels: Vec<(Channel, Arc<dyn Sink>)>,
    routing: Routing,
    retry: RetryPolicy,
    resend_delay: Duration,
    evaluate: bool,
}

impl Default for AlertingConfig {
    fn default() -> Self {
        AlertingConfig {
            rules: None,
            tuning: AlertTuning::production(),
            slos: Vec::new(),
            sinks: vec![Arc::new(LogSink)],
            channels: Vec::new(),
            routing: Routing::default(),
            retry: RetryPolicy::default(),
            resend_delay: Duration::from_secs(60),
            evaluate: true,
        }
    }
}

impl AlertingConfig {
    /// Replaces the rules (default: the spec's four, with [`tuning`](Self::tuning)).
    pub fn rules(mut self, rules: Vec<AlertRule>) -> Self {
        self.rules = Some(rules);
        self
    }

    /// Windows, `for` durations and the `service` label of the default rules (default:
    /// production).
    pub fn tuning(mut self, tuning: AlertTuning) -> Self {
        self.tuning = tuning;
        self
    }

    /// Adds the burn-rate alerts of service-level objectives.
    pub fn slos(mut self, slos: Vec<Slo>) -> Self {
        self.slos = slos;
        self
    }

    /// Adds a sink for every notification (a log sink is always there).
    pub fn sink(mut self, sink: Arc<dyn Sink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// Adds a direct channel (a [`SlackSink`](crate::SlackSink),
    /// [`PagerDutySink`](crate::PagerDutySink) or [`EmailSink`](crate::EmailSink)) that
    /// receives only the severities the [routing](Self::routing) sends to `channel`: by
    /// default critical to PagerDuty and Slack, high to Slack and email, medium and low to
    /// email, as the generated Alertmanager configuration.
    pub fn channel(mut self, channel: Channel, sink: Arc<dyn Sink>) -> Self {
        self.channels.push((channel, sink));
        self
    }

    /// Which severities go to which [channel](Self::channel); the same type (and `--route`
    /// syntax) as `orchestrator-obs generate`.
    pub fn routing(mut self, routing: Routing) -> Self {
        self.routing = routing;
        self
    }

    /// Retries of failed notifications (default: 4 attempts, full-jitter backoff from 0.5 s
    /// capped at 30 s, 64 batches queued per sink) and how long shutdown waits for them
    /// (default 5 s; then what is left is counted as dropped).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How often firing alerts are re-sent to Alertmanager (default 1 minute, as
    /// Prometheus).
    pub fn resend_delay(mut self, delay: Duration) -> Self {
        self.resend_delay = delay;
        self
    }

    /// Evaluates no rule in this process (no evaluator work, no notification): for a fleet
    /// where Prometheus evaluates the rules `orchestrator-obs generate` writes, over every
    /// replica's series, and sends them to Alertmanager.
    pub fn without_evaluator(mut self) -> Self {
        self.evaluate = false;
        self
    }

    /// The evaluator of these rules over `registry`, evaluated every `interval`.
    pub fn evaluator(
        self,
        interval: Duration,
        registry: &Registry,
    ) -> Result<AlertEvaluator, AlertSetupError> {
        let mut rules = match self.rules {
            _ if !self.evaluate => Vec::new(),
            Some(rules) => rules,
            None => default_rules(&self.tuning)?,
        };
        for slo in self.slos.iter().filter(|_| self.evaluate) {
            rules.extend(slo.rules(&self.tuning.service)?.alerts);
        }
        let config = EvaluatorConfig {
            resend_delay: self.resend_delay,
            interval,
            retry: self.retry,
            ..EvaluatorConfig::default()
        };
        let mut sinks = self.sinks;
        for (channel, sink) in self.channels {
            sinks.push(self.routing.sink(channel, sink));
        }
        Ok(AlertEvaluator::new(rules, registry, sinks, config)?)
    }
}
