//! Recording rules for the KPIs, from the same expressions the engine evaluates.

use std::time::Duration;

use orchestrator_query::rules::{RecordingRule, Rule, RuleGroup};

use crate::KpiConfig;

/// The name of the series a KPI is recorded as (`orchestrator:kpi:error_rate`).
pub fn recorded_name(id: &str) -> String {
    format!("orchestrator:kpi:{id}")
}

/// One recording rule per KPI, labelled with `kpi`, evaluated every minute.
///
/// ```
/// use orchestrator_kpi::{KpiConfig, recording_rules};
/// use orchestrator_query::rules::rule_file;
///
/// let yaml = rule_file(&[recording_rules(&KpiConfig::default())]);
/// assert!(yaml.contains("record: \"orchestrator:kpi:error_rate\""));
/// ```
pub fn recording_rules(config: &KpiConfig) -> RuleGroup {
    RuleGroup {
        name: "orchestrator-kpis".to_owned(),
        interval: Some(Duration::from_secs(60)),
        rules: config
            .kpis()
            .iter()
            .map(|kpi| {
                Rule::Recording(RecordingRule {
                    record: recorded_name(kpi.id),
                    expr: kpi.expr.clone(),
                    labels: vec![("kpi".to_owned(), kpi.id.to_owned())],
                })
            })
            .collect(),
    }
}
