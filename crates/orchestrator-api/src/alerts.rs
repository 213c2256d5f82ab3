//! `/api/v1/alerts`: each alert rule's state.

use serde::{Deserialize, Serialize};

/// `/api/v1/alerts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertsDoc {
    /// When the rules were last evaluated (ms since the epoch), `null` before the first time.
    pub evaluated_at: Option<i64>,
    /// How many rules are firing.
    pub firing: usize,
    /// How many rules there are.
    pub total: usize,
    /// Every rule.
    pub rules: Vec<RuleDoc>,
}

/// One alert rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleDoc {
    /// Its alert name (`HighErrorRate`).
    pub name: String,
    /// Its display title (`High Error Rate`).
    pub title: String,
    /// Its condition, as the origin document writes it (`error_rate > 1%`).
    pub condition: String,
    /// Its severity.
    pub severity: Severity,
    /// Its state.
    pub state: RuleState,
    /// Since when it is in that state (ms since the epoch), `null` when inactive.
    pub since: Option<i64>,
    /// How many alerts (label sets) it has active.
    #[serde(default)]
    pub active_alerts: usize,
}

/// How urgent a rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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

/// A rule's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleState {
    /// Its condition does not hold.
    Inactive,
    /// Its condition holds, not yet for its `for` duration.
    Pending,
    /// Its condition has held for its `for` duration.
    Firing,
    /// It fired and its condition no longer holds.
    Resolved,
}

impl RuleState {
    /// The state as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleState::Inactive => "inactive",
            RuleState::Pending => "pending",
            RuleState::Firing => "firing",
            RuleState::Resolved => "resolved",
        }
    }
}

impl Severity {
    /// The severity as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}
