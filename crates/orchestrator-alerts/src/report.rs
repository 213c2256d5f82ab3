//! The alert table, as the seed's report prints it, measured.

use std::fmt;
use std::time::Duration;

use orchestrator_support::Millis;

use crate::Severity;
use crate::state::{Alert, AlertState, Transition};

/// One rule's state.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleReport {
    /// The rule name.
    pub name: String,
    /// Its severity.
    pub severity: Severity,
    /// Its condition, in words.
    pub condition: String,
    /// Firing, pending or resolved (the last of its alerts' states that applies), or
    /// inactive (`None`).
    pub status: Option<AlertState>,
    /// When its state last changed.
    pub since: Option<Millis>,
    /// Its alerts.
    pub alerts: Vec<Alert>,
}

/// Every rule at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertsReport {
    /// When (ms since the epoch).
    pub at: Millis,
    /// The rules, in configuration order.
    pub rules: Vec<RuleReport>,
    /// The latest transitions, oldest first (bounded).
    pub history: Vec<Transition>,
    /// How many alerts resolved after firing.
    pub resolved: u64,
    /// Their mean time from firing to resolution.
    pub mean_time_to_resolution: Option<Duration>,
}

impl AlertsReport {
    /// How many rules fire.
    pub fn firing(&self) -> usize {
        self.rules
            .iter()
            .filter(|r| r.status == Some(AlertState::Firing))
            .count()
    }

    /// The rule with this name.
    pub fn rule(&self, name: &str) -> Option<&RuleReport> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// "Active alerts: 1/4 (25%)".
    pub fn summary(&self) -> String {
        let total = self.rules.len();
        let share = if total == 0 {
            0.0
        } else {
            100.0 * self.firing() as f64 / total as f64
        };
        format!("Active alerts: {}/{} ({share:.0}%)", self.firing(), total)
    }
}

/// `HighErrorRate` → `High Error Rate`.
pub fn title(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A duration as `45s`, `12m 5s`, `3h 2m`.
pub fn ago(ms: Millis) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, s / 60 % 60),
    }
}

impl fmt::Display for AlertsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "| Rule | Condition | Severity | Status | Since |")?;
        writeln!(f, "|------|-----------|----------|--------|-------|")?;
        for r in &self.rules {
            let status = r.status.map_or("ok", AlertState::as_str).to_uppercase();
            let since = r.since.map_or_else(|| "-".to_owned(), |t| ago(self.at - t));
            writeln!(
                f,
                "| {} | {} | {} | {status} | {since} |",
                title(&r.name),
                r.condition,
                r.severity.as_str().to_uppercase()
            )?;
        }
        writeln!(f)?;
        write!(f, "{}", self.summary())?;
        match self.mean_time_to_resolution {
            Some(mttr) => write!(
                f,
                "\nMean time to resolution: {:.1} s ({} resolved)",
                mttr.as_secs_f64(),
                self.resolved
            ),
            None => write!(f, "\nMean time to resolution: no alert resolved yet"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_durations() {
        assert_eq!(title("HighErrorRate"), "High Error Rate");
        assert_eq!(ago(45_000), "45s");
        assert_eq!(ago(725_000), "12m 5s");
        assert_eq!(ago(3_725_000), "1h 2m");
    }
}
