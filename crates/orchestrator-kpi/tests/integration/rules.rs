//! The KPI recording rules: a golden file, and Prometheus's own tools on it.
//!
//! To accept a deliberate change: `UPDATE_GOLDEN=1 cargo test -p orchestrator-kpi --test integration rules::`.

use std::path::PathBuf;
use std::process::Command;

use orchestrator_kpi::{KpiConfig, recording_rules};
use orchestrator_query::rules::rule_file;

fn golden(name: &str, actual: &str) {
    orchestrator_testkit::golden(env!("CARGO_MANIFEST_DIR"), name, actual);
}

fn promtool() -> PathBuf {
    orchestrator_testkit::tool("promtool", "prometheus")
}

#[test]
fn recording_rules_match_the_golden_file() {
    golden(
        "recording_rules.yml",
        &rule_file(&[recording_rules(&KpiConfig::default())]),
    );
}

#[test]
fn every_kpi_expression_renders_as_expected() {
    let text: String = KpiConfig::default()
        .kpis()
        .iter()
        .map(|k| format!("{}: {}\n", k.id, k.expr))
        .collect();
    golden("expressions.txt", &text);
}

#[test]
fn promtool_accepts_the_recording_rules() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kpis.yml");
    std::fs::write(&path, rule_file(&[recording_rules(&KpiConfig::default())])).unwrap();
    let output = Command::new(promtool())
        .arg("check")
        .arg("rules")
        .arg(&path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool check rules:\n{text}");
    assert!(text.contains("SUCCESS: 5 rules found"), "{text}");
}

#[test]
fn promtool_evaluates_the_error_rate_rule_as_the_in_process_interpreter_does() {
    use orchestrator_query::{SampleStore, eval};
    // A minute of series at 15 s: 1,000 requests and 30 API errors per minute.
    let kpis = KpiConfig::default();
    let error_rate = &kpis.kpis()[4];
    let mut store = SampleStore::default();
    let mut series = String::new();
    let requests: Vec<f64> = (0..=8).map(|i| (i * 250) as f64).collect();
    let errors: Vec<f64> = (0..=8).map(|i| (i * 30 / 4) as f64).collect();
    for (i, (r, e)) in requests.iter().zip(&errors).enumerate() {
        let t = i as i64 * 15_000;
        store.append(
            "orchestrator_requests_total",
            &[
                ("route".into(), "/v1/chat".into()),
                ("method".into(), "POST".into()),
                ("status".into(), "200".into()),
            ],
            t,
            *r,
            10_000_000,
        );
        store.append(
            "orchestrator_errors_total",
            &[
                ("component".into(), "api".into()),
                ("kind".into(), "server_error".into()),
            ],
            t,
            *e,
            10_000_000,
        );
    }
    let expected = eval(&error_rate.expr, &store, 120_000).scalar().unwrap();
    let join = |v: &[f64]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    series.push_str(&format!(
        "      - series: 'orchestrator_requests_total{{route=\"/v1/chat\",method=\"POST\",status=\"200\"}}'\n        values: '{}'\n",
        join(&requests)
    ));
    series.push_str(&format!(
        "      - series: 'orchestrator_errors_total{{component=\"api\",kind=\"server_error\"}}'\n        values: '{}'\n",
        join(&errors)
    ));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kpis.yml"),
        rule_file(&[recording_rules(&kpis)]),
    )
    .unwrap();
    let test = format!(
        "rule_files:\n  - kpis.yml\nevaluation_interval: 15s\ntests:\n  - interval: 15s\n    input_series:\n{series}    promql_expr_test:\n      - expr: 'orchestrator:kpi:error_rate'\n        eval_time: 2m\n        exp_samples:\n          - labels: 'orchestrator:kpi:error_rate{{kpi=\"error_rate\"}}'\n            value: {expected}\n"
    );
    std::fs::write(dir.path().join("test.yml"), &test).unwrap();
    let output = Command::new(promtool())
        .current_dir(dir.path())
        .args(["test", "rules", "test.yml"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "promtool test rules (expected {expected}):\n{text}\n{test}"
    );
}
