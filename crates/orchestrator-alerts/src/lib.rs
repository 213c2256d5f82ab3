//! Alerting for an LLM orchestrator: rules whose conditions are `orchestrator-query`
//! expressions, evaluated in-process with Prometheus's pending/firing state machine, and the
//! same rules exported for Prometheus and Alertmanager.
//!
//! - [`AlertRule`]: a condition, `for`, severity, labels and annotations.
//! - [`default_rules`]: the four rules of the spec; [`Slo`]: multi-window, multi-burn-rate
//!   alerts for availability and latency objectives, with the recording rules they read.
//! - [`AlertEvaluator`]: an `orchestrator_query::Evaluator` (run it on a monitor thread);
//!   exports `orchestrator_alerts{alertname,severity,alertstate}`, keeps a bounded
//!   history and the mean time to resolution, and notifies sinks ([`LogSink`],
//!   [`WebhookSink`], [`AlertmanagerSink`]) through bounded queues with retries.
//! - [`generate`]: the Prometheus rule file, a promtool unit-test file whose expectations
//!   the in-process evaluator computed, and the Alertmanager configuration.
//!
//! ```
//! use std::sync::Arc;
//! use orchestrator_alerts::{AlertEvaluator, AlertTuning, EvaluatorConfig, LogSink, default_rules};
//! use orchestrator_metrics::Registry;
//! use orchestrator_query::{MonitorBuilder, Sampler};
//!
//! let registry = Registry::new();
//! let rules = default_rules(&AlertTuning::production())?;
//! let evaluator = AlertEvaluator::new(rules, &registry, vec![Arc::new(LogSink)], EvaluatorConfig::default())?;
//! let alerts = evaluator.handle();
//! let monitor = MonitorBuilder::new(Sampler::local(&registry)).evaluator(Box::new(evaluator)).start()?;
//! monitor.tick_now();
//! println!("{}", alerts.latest().unwrap());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs, unreachable_pub, unsafe_code)]

mod defaults;
mod evaluator;
pub mod generate;
mod notify;
mod report;
mod routing;
mod rule;
mod setup;
mod slo;
mod state;
mod unit;

pub use defaults::{
    AlertTuning, Thresholds, agent_runaway, budget_rules, default_rules, error_ratio,
};
pub use evaluator::{AlertEvaluator, AlertsHandle, EvaluatorConfig, EvaluatorError};
pub use notify::{
    AlertmanagerSink, Delivery, DeliveryError, Dispatcher, EmailSink, EmailSinkBuilder, LogSink,
    Notification, NotifyState, PAGERDUTY_EVENTS_URL, PagerDutySink, RetryPolicy, Sink, SlackSink,
    SmtpError, WebhookSink,
};
pub use report::{AlertsReport, RuleReport, ago, title};
pub use rule::{AlertRule, AlertRuleBuilder, IntoRuleValue, RuleError, Severity, parse_for};
pub use setup::{AlertSetupError, AlertingConfig};
pub use slo::{Slo, SloError, SloKind, SloRules, default_slos, recorded_ratio_name};
pub use state::{Alert, AlertState, Labels, RESOLVED_RETENTION, RuleState, Transition};
pub use unit::Unit;
