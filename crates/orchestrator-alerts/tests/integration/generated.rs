//! The generated files: golden copies, and Prometheus's and Alertmanager's own tools on them.
//!
//! To accept a deliberate change: `UPDATE_GOLDEN=1 cargo test -p orchestrator-alerts --test integration generated::`.

use std::path::{Path, PathBuf};

use orchestrator_alerts::generate::{
    AlertmanagerOptions, alertmanager_config, default_scenarios, promtool_tests, rule_groups,
};
use orchestrator_alerts::{AlertRule, AlertTuning, default_rules, default_slos};
use orchestrator_query::rules::rule_file;
use orchestrator_testkit::tool;

fn golden(name: &str, actual: &str) {
    orchestrator_testkit::golden(env!("CARGO_MANIFEST_DIR"), name, actual);
}

fn run(program: PathBuf, dir: &Path, args: &[&str]) -> (bool, String) {
    orchestrator_testkit::run(&program, dir, args)
}

fn all_rules() -> (Vec<AlertRule>, String) {
    let rules = default_rules(&AlertTuning::production()).unwrap();
    let slos: Vec<_> = default_slos()
        .iter()
        .map(|s| (s.name.clone(), s.rules("orchestrator").unwrap()))
        .collect();
    let mut every = rules.clone();
    for (_, slo) in &slos {
        every.extend(slo.alerts.iter().cloned());
    }
    (every, rule_file(&rule_groups(&rules, &slos, None)))
}

#[test]
fn golden_rule_file() {
    golden("alerts.yml", &all_rules().1);
}

#[test]
fn golden_promtool_tests() {
    let (rules, _) = all_rules();
    golden(
        "alerts_test.yml",
        &promtool_tests("alerts.yml", &rules, &default_scenarios()),
    );
}

#[test]
fn golden_alertmanager_config() {
    golden(
        "alertmanager.yml",
        &alertmanager_config(&AlertmanagerOptions::default()),
    );
}

#[test]
fn promtool_checks_and_tests_the_rules() {
    let (rules, file) = all_rules();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alerts.yml"), &file).unwrap();
    std::fs::write(
        dir.path().join("alerts_test.yml"),
        promtool_tests("alerts.yml", &rules, &default_scenarios()),
    )
    .unwrap();
    let (ok, text) = run(
        tool("promtool", "prometheus"),
        dir.path(),
        &["check", "rules", "alerts.yml"],
    );
    assert!(ok, "promtool check rules:\n{text}");
    assert!(text.contains("SUCCESS: 29 rules found"), "{text}");
    let (ok, text) = run(
        tool("promtool", "prometheus"),
        dir.path(),
        &["test", "rules", "alerts_test.yml"],
    );
    assert!(
        ok,
        "promtool test rules (the expectations are the in-process evaluator's):\n{text}"
    );
}

#[test]
fn amtool_accepts_the_alertmanager_config_and_its_test_copy() {
    let dir = tempfile::tempdir().unwrap();
    let test_copy = AlertmanagerOptions {
        webhook_override: Some("http://127.0.0.1:9/hook".into()),
        ..AlertmanagerOptions::default()
    };
    for (name, options) in [
        ("production.yml", AlertmanagerOptions::default()),
        ("test.yml", test_copy),
    ] {
        std::fs::write(dir.path().join(name), alertmanager_config(&options)).unwrap();
        let (ok, text) = run(
            tool("amtool", "prometheus-alertmanager"),
            dir.path(),
            &["check-config", name],
        );
        assert!(ok, "amtool check-config {name}:\n{text}");
        assert!(
            text.contains("3 receivers") && text.contains("1 inhibit rules"),
            "{text}"
        );
    }
}

#[test]
fn secrets_are_files_never_values() {
    let yaml = alertmanager_config(&AlertmanagerOptions::default());
    for field in [
        "smtp_auth_password_file",
        "slack_api_url_file",
        "routing_key_file",
    ] {
        assert!(yaml.contains(field), "{field} missing");
    }
    for inline in [
        "smtp_auth_password:",
        "slack_api_url:",
        "routing_key:",
        "service_key:",
        "api_url:",
    ] {
        assert!(!yaml.contains(inline), "{inline} would inline a secret");
    }
}
