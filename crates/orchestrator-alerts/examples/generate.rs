//! Prints the Prometheus rule file (the four default rules and the default SLOs' burn-rate
//! alerts) and the Alertmanager configuration.
//!
//! `cargo run -p orchestrator-alerts --example generate`

use orchestrator_alerts::generate::{AlertmanagerOptions, alertmanager_config, rule_groups};
use orchestrator_alerts::{AlertTuning, default_rules, default_slos};
use orchestrator_query::rules::rule_file;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rules = default_rules(&AlertTuning::production())?;
    let slos = default_slos()
        .iter()
        .map(|s| Ok((s.name.clone(), s.rules("orchestrator")?)))
        .collect::<Result<Vec<_>, orchestrator_alerts::SloError>>()?;
    println!(
        "# prometheus/rules/alerts.yml\n{}",
        rule_file(&rule_groups(&rules, &slos, None))
    );
    println!(
        "# alertmanager/alertmanager.yml\n{}",
        alertmanager_config(&AlertmanagerOptions::default())
    );
    Ok(())
}
