//! The Prometheus rule groups: the same conditions the in-process evaluator evaluates,
//! rendered as PromQL.

use std::time::Duration;

use orchestrator_query::rules::{AlertingRule, Rule, RuleGroup};

use crate::{AlertRule, SloRules};

fn alerting(rule: &AlertRule) -> Rule {
    Rule::Alerting(AlertingRule {
        alert: rule.name().to_owned(),
        expr: rule.condition().clone(),
        for_: rule.for_duration(),
        labels: rule.labels().to_vec(),
        annotations: rule.annotations().to_vec(),
    })
}

/// A group of alerting rules.
pub fn alert_group(name: &str, rules: &[AlertRule], interval: Option<Duration>) -> RuleGroup {
    RuleGroup {
        name: name.to_owned(),
        interval,
        rules: rules.iter().map(alerting).collect(),
    }
}

/// The rule groups for Prometheus: `orchestrator-alerts` with `rules`, then one group per
/// SLO holding its recording rules followed by its alerts (in one group, so that each
/// evaluation of the alerts reads the ratios recorded by the same evaluation, as the
/// in-process evaluator computes them).
pub fn rule_groups(
    rules: &[AlertRule],
    slos: &[(String, SloRules)],
    interval: Option<Duration>,
) -> Vec<RuleGroup> {
    let mut groups = vec![alert_group("orchestrator-alerts", rules, interval)];
    for (name, slo) in slos {
        let mut group_rules: Vec<Rule> =
            slo.recording.iter().cloned().map(Rule::Recording).collect();
        group_rules.extend(slo.alerts.iter().map(alerting));
        groups.push(RuleGroup {
            name: format!("slo-{name}"),
            interval,
            rules: group_rules,
        });
    }
    groups
}
