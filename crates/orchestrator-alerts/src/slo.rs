//! Service-level objectives and their multi-window, multi-burn-rate alerts, as in the Google
//! SRE workbook (chapter 5, "Alerting on SLOs").
//!
//! For an objective `o` the error budget is `1 - o`. A burn rate `k` consumes the budget
//! `k` times as fast as it allows.
//! - Page (critical): (1 h and 5 min) above 14.4× the budget, or (6 h and 30 min) above 6×.
//! - Ticket (medium): (1 d and 2 h) above 3×, or (3 d and 6 h) above 1×.
//!
//! The error ratio over each window is a recording rule `slo:sli_error:ratio_rate<w>{slo}`
//! that the alerts read. In-process the alerts evaluate the recorded expressions directly,
//! so both mean the same, with Prometheus up to one rule-evaluation interval behind.

use std::time::Duration;

use orchestrator_metrics::catalogue;
use orchestrator_query::rules::RecordingRule;
use orchestrator_query::{CmpOp, Expr, ExprError, Selector, Window};

use crate::defaults::error_ratio;
use crate::{AlertRule, RuleError, Severity, Unit};

/// What an objective is about.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SloKind {
    /// The share of API requests answered without a server error.
    Availability,
    /// The share of API requests answered within `threshold_seconds`, which must be a
    /// bucket bound of `orchestrator_request_duration_seconds`.
    Latency {
        /// The latency threshold in seconds.
        threshold_seconds: f64,
    },
}

/// A service-level objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// Name, the `slo` label value (`availability`, `latency`).
    pub name: String,
    /// The objective, strictly between 0 and 1 (`0.999`).
    pub objective: f64,
    /// What it measures.
    pub kind: SloKind,
}

/// Why an SLO cannot be turned into rules.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SloError {
    /// The objective is not strictly between 0 and 1.
    #[error("SLO `{name}`: objective {objective} must be strictly between 0 and 1")]
    InvalidObjective {
        /// The SLO.
        name: String,
        /// The objective.
        objective: f64,
    },
    /// A latency threshold that is not a bucket bound.
    #[error(
        "SLO `{name}`: {threshold}s is not a bucket bound of orchestrator_request_duration_seconds ({bounds:?})"
    )]
    NotABucketBound {
        /// The SLO.
        name: String,
        /// The threshold.
        threshold: f64,
        /// The bounds.
        bounds: Vec<f64>,
    },
    /// An expression error.
    #[error("SLO `{name}`: {source}")]
    Expr {
        /// The SLO.
        name: String,
        /// Why.
        source: ExprError,
    },
    /// A rule error.
    #[error(transparent)]
    Rule(#[from] RuleError),
}

/// The recording rules and alerts of one SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct SloRules {
    /// `slo:sli_error:ratio_rate<w>{slo}` for each window the alerts read.
    pub recording: Vec<RecordingRule>,
    /// The page alert, the ticket alert, and the alert for an absent metric.
    pub alerts: Vec<AlertRule>,
}

const WINDOWS: [(u64, &str); 7] = [
    (300, "5m"),
    (1800, "30m"),
    (3600, "1h"),
    (7200, "2h"),
    (21_600, "6h"),
    (86_400, "1d"),
    (259_200, "3d"),
];

/// The default objectives: 99.9 % of API requests without a server error, and 99 % within
/// one second (LLM calls make sub-second objectives unrealistic for chat endpoints).
pub fn default_slos() -> Vec<Slo> {
    vec![Slo::availability(0.999), Slo::latency(0.99, 1.0)]
}

/// The name of the recorded error ratio over a window (`slo:sli_error:ratio_rate1h`).
pub fn recorded_ratio_name(window: &str) -> String {
    format!("slo:sli_error:ratio_rate{window}")
}

fn round12(v: f64) -> f64 {
    if v == 0.0 {
        return 0.0;
    }
    let digits = 12 - v.abs().log10().ceil() as i32;
    let scale = 10f64.powi(digits);
    (v * scale).round() / scale
}

impl Slo {
    /// An availability objective.
    pub fn availability(objective: f64) -> Self {
        Slo {
            name: "availability".to_owned(),
            objective,
            kind: SloKind::Availability,
        }
    }

    /// A latency objective: `objective` of requests within `threshold_seconds`.
    pub fn latency(objective: f64, threshold_seconds: f64) -> Self {
        Slo {
            name: "latency".to_owned(),
            objective,
            kind: SloKind::Latency { threshold_seconds },
        }
    }

    /// The error ratio over a window: failed (or slow) requests over all requests.
    fn error_ratio(&self, window: Window) -> Result<Expr, ExprError> {
        match self.kind {
            SloKind::Availability => error_ratio(window),
            SloKind::Latency { threshold_seconds } => {
                let le = orchestrator_support::format_number(threshold_seconds);
                let def = &catalogue::REQUEST_DURATION_SECONDS;
                let total = Expr::rate(Selector::count(def), window)?.sum();
                let fast = Expr::rate(Selector::buckets(def).eq("le", &le), window)?.sum();
                let slow = total.clone().minus(fast)?;
                slow.ratio(total)
            }
        }
    }

    /// The recording rules and alerts, with the `service` label on every alert.
    pub fn rules(&self, service: &str) -> Result<SloRules, SloError> {
        let wrap = |source| SloError::Expr {
            name: self.name.clone(),
            source,
        };
        if !(self.objective > 0.0 && self.objective < 1.0) {
            return Err(SloError::InvalidObjective {
                name: self.name.clone(),
                objective: self.objective,
            });
        }
        if let SloKind::Latency { threshold_seconds } = self.kind {
            let bounds = catalogue::buckets::REQUEST_DURATION_SECONDS;
            if !bounds.contains(&threshold_seconds) {
                return Err(SloError::NotABucketBound {
                    name: self.name.clone(),
                    threshold: threshold_seconds,
                    bounds: bounds.to_vec(),
                });
            }
        }
        let mut recording = Vec::new();
        let mut recorded = std::collections::HashMap::new();
        for (seconds, label) in WINDOWS {
            let window = Window::secs(seconds).map_err(wrap)?;
            let ratio = self.error_ratio(window).map_err(wrap)?;
            let name = recorded_ratio_name(label);
            recording.push(RecordingRule {
                record: name.clone(),
                expr: ratio.clone(),
                labels: vec![("slo".to_owned(), self.name.clone())],
            });
            let reference = ratio
                .recorded(&name, &[("slo", &self.name)])
                .map_err(wrap)?;
            recorded.insert(label, reference);
        }
        let budget = 1.0 - self.objective;
        let over = |window: &str, burn: f64| -> Result<Expr, ExprError> {
            recorded[window]
                .clone()
                .compare(CmpOp::Gt, round12(burn * budget))
        };
        let both = |long: &str, short: &str, burn: f64| -> Result<Expr, ExprError> {
            over(long, burn)?.and(over(short, burn)?)
        };
        let page = both("1h", "5m", 14.4)
            .and_then(|a| a.or(both("6h", "30m", 6.0)?))
            .map_err(wrap)?;
        let ticket = both("1d", "2h", 3.0)
            .and_then(|a| a.or(both("3d", "6h", 1.0)?))
            .map_err(wrap)?;
        let title = title_case(&self.name);
        let objective = format!("{:.3} %", self.objective * 100.0);
        let total = match self.kind {
            SloKind::Availability => Selector::of(&catalogue::REQUESTS_TOTAL),
            SloKind::Latency { .. } => Selector::count(&catalogue::REQUEST_DURATION_SECONDS),
        };
        let absent = Expr::absent(total).map_err(wrap)?;
        let alerts = vec![
            AlertRule::builder(&format!("{title}ErrorBudgetBurn"), page)
                .unit(Unit::Ratio)
                .for_duration(Duration::from_secs(120))
                .severity(Severity::Critical)
                .label("service", service)
                .label("slo", &self.name)
                .condition_text("burn rate > 14.4x (1h & 5m) or > 6x (6h & 30m)")
                .summary(&format!("{title} SLO ({objective}): error budget burning fast"))
                .description("At this rate the 30-day error budget is gone within days: page.")
                .build()?,
            AlertRule::builder(&format!("{title}ErrorBudgetBurnSlow"), ticket)
                .unit(Unit::Ratio)
                .for_duration(Duration::from_secs(900))
                .severity(Severity::Medium)
                .label("service", service)
                .label("slo", &self.name)
                .condition_text("burn rate > 3x (1d & 2h) or > 1x (3d & 6h)")
                .summary(&format!("{title} SLO ({objective}): error budget burning"))
                .description("The error budget is being spent faster than the objective allows: open a ticket.")
                .build()?,
            AlertRule::builder(&format!("{title}SliAbsent"), absent)
                .unit(Unit::Number)
                .for_duration(Duration::from_secs(600))
                .severity(Severity::High)
                .label("service", service)
                .label("slo", &self.name)
                .condition_text("no request series for 10m")
                .summary(&format!("{title} SLO cannot be computed: its metric is absent"))
                .description("No request series reaches the rule evaluator: scraping or instrumentation is broken.")
                .build()?,
        ];
        Ok(SloRules { recording, alerts })
    }
}

fn title_case(name: &str) -> String {
    name.split(['_', '-'])
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burn_thresholds_are_the_workbook_ones() {
        let rules = Slo::availability(0.999).rules("orchestrator").unwrap();
        assert_eq!(rules.recording.len(), 7);
        let page = rules.alerts[0].condition().to_string();
        assert_eq!(
            page,
            r#"(slo:sli_error:ratio_rate1h{slo="availability"} > 0.0144 and slo:sli_error:ratio_rate5m{slo="availability"} > 0.0144) or (slo:sli_error:ratio_rate6h{slo="availability"} > 0.006 and slo:sli_error:ratio_rate30m{slo="availability"} > 0.006)"#
        );
        let ticket = rules.alerts[1].condition().to_string();
        assert!(
            ticket.contains("ratio_rate1d{slo=\"availability\"} > 0.003"),
            "{ticket}"
        );
        assert!(
            ticket.contains("ratio_rate3d{slo=\"availability\"} > 0.001"),
            "{ticket}"
        );
        assert_eq!(
            rules.alerts[2].condition().to_string(),
            "absent(orchestrator_requests_total)"
        );
    }

    #[test]
    fn latency_slo_counts_slow_requests() {
        let rules = Slo::latency(0.99, 0.2).rules("orchestrator").unwrap();
        let five = rules.recording[0].expr.to_string();
        assert_eq!(
            five,
            r#"(sum(rate(orchestrator_request_duration_seconds_count[5m])) - sum(rate(orchestrator_request_duration_seconds_bucket{le="0.2"}[5m]))) / (sum(rate(orchestrator_request_duration_seconds_count[5m])) > 0)"#
        );
    }

    #[test]
    fn bad_objectives_and_thresholds_are_errors() {
        assert!(matches!(
            Slo::availability(1.0).rules("s"),
            Err(SloError::InvalidObjective { .. })
        ));
        assert!(matches!(
            Slo::availability(0.0).rules("s"),
            Err(SloError::InvalidObjective { .. })
        ));
        assert!(matches!(
            Slo::availability(f64::NAN).rules("s"),
            Err(SloError::InvalidObjective { .. })
        ));
        assert!(matches!(
            Slo::latency(0.99, 0.123).rules("s"),
            Err(SloError::NotABucketBound { .. })
        ));
    }
}
