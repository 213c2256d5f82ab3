//! Alert rules: a condition (an expression compared with a threshold), a `for` duration, a
//! severity, labels and annotations.

use std::fmt;
use std::time::Duration;

use orchestrator_query::{CmpOp, Expr, ExprError};

use crate::Unit;

/// How urgent an alert is; Alertmanager routes by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Page someone now.
    Critical,
    /// Needs attention soon.
    High,
    /// Should be looked at.
    Medium,
    /// For information.
    Low,
}

impl Severity {
    /// Every severity, most urgent first.
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    /// The `severity` label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a rule cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    /// The `for` duration is zero or negative.
    #[error("alert `{rule}`: `for` must be positive, got {given}")]
    NonPositiveFor {
        /// The rule.
        rule: String,
        /// What was given.
        given: String,
    },
    /// A `for` longer than Prometheus can hold (a duration is 64-bit nanoseconds there:
    /// about 292 years).
    #[error("alert `{rule}`: `for` of {given} is longer than Prometheus can hold (292 years)")]
    DurationTooLong {
        /// The rule.
        rule: String,
        /// What was given.
        given: String,
    },
    /// A duration string that does not parse.
    #[error("alert `{rule}`: `{given}` is not a duration (use 30s, 5m, 1h, 2d)")]
    InvalidDuration {
        /// The rule.
        rule: String,
        /// What was given.
        given: String,
    },
    /// The alert name is empty or not a valid label value.
    #[error("alert name `{0}` must be non-empty letters, digits and underscores")]
    InvalidName(String),
    /// A label name is not a valid Prometheus label name.
    #[error("alert `{rule}`: `{label}` is not a valid label name")]
    InvalidLabel {
        /// The rule.
        rule: String,
        /// The label.
        label: String,
    },
    /// A default rule's threshold is NaN, infinite, or outside its range.
    #[error("alert `{rule}`: threshold {given} must be {range}")]
    InvalidThreshold {
        /// The rule.
        rule: String,
        /// What was given.
        given: f64,
        /// What it must be.
        range: &'static str,
    },
    /// The expression could not be built (for example, an unknown metric).
    #[error("alert `{rule}`: {source}")]
    Expr {
        /// The rule.
        rule: String,
        /// Why.
        source: ExprError,
    },
}

/// Parses a Prometheus-style duration of one unit (`90s`, `5m`, `2h`, `1d`). Zero and
/// negative durations are [`RuleError::NonPositiveFor`]; anything else that does not parse is
/// [`RuleError::InvalidDuration`].
pub fn parse_for(rule: &str, text: &str) -> Result<Duration, RuleError> {
    let invalid = || RuleError::InvalidDuration {
        rule: rule.to_owned(),
        given: text.to_owned(),
    };
    let non_positive = || RuleError::NonPositiveFor {
        rule: rule.to_owned(),
        given: text.to_owned(),
    };
    let trimmed = text.trim();
    if trimmed.starts_with('-') {
        return Err(non_positive());
    }
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let n: u64 = number.parse().map_err(|_| invalid())?;
    if n == 0 {
        return Err(non_positive());
    }
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        _ => return Err(invalid()),
    };
    let millis = n
        .checked_mul(millis_per_unit)
        .ok_or_else(|| too_long(rule, text))?;
    positive(rule, text, Duration::from_millis(millis))
}

/// The longest `for` Prometheus holds: its durations are `i64` nanoseconds.
const MAX_FOR: Duration = Duration::from_nanos(i64::MAX as u64);

fn too_long(rule: &str, text: &str) -> RuleError {
    RuleError::DurationTooLong {
        rule: rule.to_owned(),
        given: text.to_owned(),
    }
}

fn positive(rule: &str, text: &str, d: Duration) -> Result<Duration, RuleError> {
    if d.is_zero() {
        return Err(RuleError::NonPositiveFor {
            rule: rule.to_owned(),
            given: text.to_owned(),
        });
    }
    if d > MAX_FOR {
        return Err(too_long(rule, text));
    }
    Ok(d)
}

fn valid_label(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

/// What [`AlertRule::builder`] accepts as the compared value.
pub trait IntoRuleValue {
    /// The expression, or why it could not be built.
    fn into_rule_value(self) -> Result<Expr, ExprError>;
}

impl IntoRuleValue for Expr {
    fn into_rule_value(self) -> Result<Expr, ExprError> {
        Ok(self)
    }
}

impl IntoRuleValue for Result<Expr, ExprError> {
    fn into_rule_value(self) -> Result<Expr, ExprError> {
        self
    }
}

/// An alert rule. Build it with [`AlertRule::builder`].
///
/// ```
/// use std::time::Duration;
/// use orchestrator_alerts::{AlertRule, Severity};
/// use orchestrator_metrics::catalogue::ACTIVE_SESSIONS;
/// use orchestrator_query::{CmpOp, Expr, Selector};
///
/// let rule = AlertRule::builder("TooManySessions", Expr::value(Selector::of(&ACTIVE_SESSIONS))?.sum())
///     .when(CmpOp::Gt, 5000.0)
///     .for_duration(Duration::from_secs(300))
///     .severity(Severity::Medium)
///     .summary("More than 5,000 open sessions")
///     .build()?;
/// assert_eq!(rule.condition().to_string(), "sum(orchestrator_active_sessions) > 5000");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    name: String,
    value: Expr,
    comparison: Option<(CmpOp, f64)>,
    condition: Expr,
    for_: Duration,
    severity: Severity,
    labels: Vec<(String, String)>,
    annotations: Vec<(String, String)>,
    description_of_condition: String,
    unit: Unit,
}

impl AlertRule {
    /// Starts a rule named `name` over the value `value`: an [`Expr`], or the `Result` of
    /// building one, so that an expression error (an unknown metric) is reported with the
    /// rule's name.
    pub fn builder(name: &str, value: impl IntoRuleValue) -> AlertRuleBuilder {
        AlertRuleBuilder {
            name: name.to_owned(),
            value: value.into_rule_value(),
            comparison: None,
            for_: Ok(Duration::from_secs(300)),
            severity: Severity::Medium,
            labels: Vec::new(),
            annotations: Vec::new(),
            condition_text: None,
            unit: Unit::Number,
        }
    }

    /// The rule (and alert) name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value compared with the threshold.
    pub fn value(&self) -> &Expr {
        &self.value
    }

    /// The comparison and threshold, for rules built with
    /// [`AlertRuleBuilder::when`]; `None` when the value is itself the condition.
    pub fn comparison(&self) -> Option<(CmpOp, f64)> {
        self.comparison
    }

    /// `value OP threshold` (or the value itself): the expression whose series are the
    /// alerts.
    pub fn condition(&self) -> &Expr {
        &self.condition
    }

    /// How long the condition must hold before the alert fires.
    pub fn for_duration(&self) -> Duration {
        self.for_
    }

    /// The severity.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// Labels on the alert, `severity` included.
    pub fn labels(&self) -> &[(String, String)] {
        &self.labels
    }

    /// Annotations (summary, description, runbook_url).
    pub fn annotations(&self) -> &[(String, String)] {
        &self.annotations
    }

    /// A short human description of the condition (`error_rate > 1%`).
    pub fn condition_text(&self) -> &str {
        &self.description_of_condition
    }

    /// The unit of the value, which notifications print it in.
    pub fn unit(&self) -> Unit {
        self.unit
    }

    /// The annotation with this name.
    pub fn annotation(&self, name: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Builds an [`AlertRule`]; every setter takes and returns the builder.
#[derive(Debug, Clone)]
pub struct AlertRuleBuilder {
    name: String,
    value: Result<Expr, ExprError>,
    comparison: Option<(CmpOp, f64)>,
    for_: Result<Duration, RuleError>,
    severity: Severity,
    labels: Vec<(String, String)>,
    annotations: Vec<(String, String)>,
    condition_text: Option<String>,
    unit: Unit,
}

impl AlertRuleBuilder {
    /// The alert fires while `value OP threshold`. Without it, the value itself is the
    /// condition (each series it returns is an alert), as for compound conditions built
    /// with `and`/`or`.
    pub fn when(mut self, op: CmpOp, threshold: f64) -> Self {
        self.comparison = Some((op, threshold));
        self
    }

    /// How long the condition must hold (default 5 minutes); zero is an error.
    pub fn for_duration(mut self, d: Duration) -> Self {
        self.for_ = positive(&self.name, &format!("{d:?}"), d);
        self
    }

    /// The same from a Prometheus duration string (`5m`); zero, negative or malformed is
    /// an error.
    pub fn for_text(mut self, text: &str) -> Self {
        self.for_ = parse_for(&self.name, text);
        self
    }

    /// The severity (default medium).
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Adds a label.
    pub fn label(mut self, name: &str, value: &str) -> Self {
        self.labels.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The `summary` annotation.
    pub fn summary(self, text: &str) -> Self {
        self.annotation("summary", text)
    }

    /// The `description` annotation.
    pub fn description(self, text: &str) -> Self {
        self.annotation("description", text)
    }

    /// The `runbook_url` annotation.
    pub fn runbook(self, url: &str) -> Self {
        self.annotation("runbook_url", url)
    }

    /// Adds an annotation.
    pub fn annotation(mut self, name: &str, text: &str) -> Self {
        self.annotations.push((name.to_owned(), text.to_owned()));
        self
    }

    /// A short human description of the condition for tables (default: the PromQL).
    pub fn condition_text(mut self, text: &str) -> Self {
        self.condition_text = Some(text.to_owned());
        self
    }

    /// The unit of the value (default [`Unit::Number`]): notifications print `4.06 s`
    /// rather than `4.0612345`.
    pub fn unit(mut self, unit: Unit) -> Self {
        self.unit = unit;
        self
    }

    /// Checks and builds the rule.
    pub fn build(self) -> Result<AlertRule, RuleError> {
        let name = self.name;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(RuleError::InvalidName(name));
        }
        let for_ = self.for_?;
        let value = self.value.map_err(|source| RuleError::Expr {
            rule: name.clone(),
            source,
        })?;
        let condition = match self.comparison {
            Some((op, threshold)) => {
                value
                    .clone()
                    .compare(op, threshold)
                    .map_err(|source| RuleError::Expr {
                        rule: name.clone(),
                        source,
                    })?
            }
            None => value.clone(),
        };
        let mut labels = vec![("severity".to_owned(), self.severity.as_str().to_owned())];
        for (k, v) in self.labels {
            if !valid_label(&k) || k == "alertname" {
                return Err(RuleError::InvalidLabel {
                    rule: name,
                    label: k,
                });
            }
            labels.retain(|(existing, _)| *existing != k);
            labels.push((k, v));
        }
        for (k, _) in &self.annotations {
            if !valid_label(k) {
                return Err(RuleError::InvalidLabel {
                    rule: name,
                    label: k.clone(),
                });
            }
        }
        let description_of_condition = self.condition_text.unwrap_or_else(|| condition.to_string());
        Ok(AlertRule {
            name,
            value,
            comparison: self.comparison,
            condition,
            for_,
            severity: self.severity,
            labels,
            annotations: self.annotations,
            description_of_condition,
            unit: self.unit,
        })
    }
}

#[cfg(test)]
mod tests;
