//! Prometheus rule files: recording and alerting rules whose expressions are
//! [`Expr`]s rendered as PromQL, so the files mean what the in-process
//! interpreter computes.

use std::time::Duration;

use crate::Expr;
use orchestrator_support::yaml::{Yaml, map};

/// A Prometheus duration string (`30s`, `5m`, `1h`, `0s`).
pub fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    const UNITS: [(u128, &str); 5] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
        (1, "ms"),
    ];
    if ms == 0 {
        return "0s".to_owned();
    }
    UNITS
        .iter()
        .find(|(scale, _)| ms.is_multiple_of(*scale))
        .map_or_else(
            || format!("{ms}ms"),
            |(scale, unit)| format!("{}{unit}", ms / scale),
        )
}

/// A recording rule: `record` is the name of the series Prometheus writes from `expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingRule {
    /// The recorded series name (`level:metric:operations`).
    pub record: String,
    /// The expression.
    pub expr: Expr,
    /// Labels added to the recorded series.
    pub labels: Vec<(String, String)>,
}

/// An alerting rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertingRule {
    /// The alert name.
    pub alert: String,
    /// The condition: the series it returns are the firing alerts.
    pub expr: Expr,
    /// How long the condition must hold before the alert fires.
    pub for_: Duration,
    /// Labels added to the alert (severity, ...).
    pub labels: Vec<(String, String)>,
    /// Annotations (summary, description, runbook_url).
    pub annotations: Vec<(String, String)>,
}

/// One rule of a group.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// A recording rule.
    Recording(RecordingRule),
    /// An alerting rule.
    Alerting(AlertingRule),
}

/// A group of rules evaluated together.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleGroup {
    /// The group name.
    pub name: String,
    /// The evaluation interval (Prometheus's global one when `None`).
    pub interval: Option<Duration>,
    /// The rules.
    pub rules: Vec<Rule>,
}

fn pairs(list: &[(String, String)]) -> Yaml {
    map(list.iter().map(|(k, v)| (k.clone(), Yaml::Str(v.clone()))))
}

impl Rule {
    fn to_yaml(&self) -> Yaml {
        let mut fields: Vec<(String, Yaml)> = Vec::new();
        match self {
            Rule::Recording(r) => {
                fields.push(("record".into(), r.record.clone().into()));
                fields.push(("expr".into(), r.expr.to_string().into()));
                if !r.labels.is_empty() {
                    fields.push(("labels".into(), pairs(&r.labels)));
                }
            }
            Rule::Alerting(a) => {
                fields.push(("alert".into(), a.alert.clone().into()));
                fields.push(("expr".into(), a.expr.to_string().into()));
                fields.push(("for".into(), duration(a.for_).into()));
                if !a.labels.is_empty() {
                    fields.push(("labels".into(), pairs(&a.labels)));
                }
                if !a.annotations.is_empty() {
                    fields.push(("annotations".into(), pairs(&a.annotations)));
                }
            }
        }
        Yaml::Map(fields)
    }
}

/// The rule file holding these groups, in Prometheus's format.
pub fn rule_file(groups: &[RuleGroup]) -> String {
    let groups = groups
        .iter()
        .map(|g| {
            let mut fields = vec![("name".to_owned(), Yaml::Str(g.name.clone()))];
            if let Some(interval) = g.interval {
                fields.push(("interval".to_owned(), duration(interval).into()));
            }
            fields.push((
                "rules".to_owned(),
                Yaml::List(g.rules.iter().map(Rule::to_yaml).collect()),
            ));
            Yaml::Map(fields)
        })
        .collect();
    map([("groups", Yaml::List(groups))]).render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(Duration::ZERO), "0s");
        assert_eq!(duration(Duration::from_secs(300)), "5m");
        assert_eq!(duration(Duration::from_secs(90)), "90s");
        assert_eq!(duration(Duration::from_millis(250)), "250ms");
        assert_eq!(duration(Duration::from_secs(86_400 * 30)), "30d");
    }
}
