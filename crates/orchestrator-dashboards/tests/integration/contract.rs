//! The dashboards' contract with the metrics: golden files, panel counts and refresh
//! intervals, units and the datasource variable everywhere, thresholds from the KPI targets
//! and alert rules, every metric a panel names known (catalogue or declared exporter list,
//! read back out of the PromQL text by a tokenizer of its own), and every expression parsed
//! by Prometheus's own parser (`promtool check rules`).
//!
//! To accept a deliberate change: `UPDATE_GOLDEN=1 cargo test -p orchestrator-dashboards`.

use std::collections::BTreeSet;
use std::process::Command;

use orchestrator_dashboards::{
    Context, Dashboard, STANDARD_METRICS, Source, dashboards, provisioning,
};
use orchestrator_metrics::catalogue;
use orchestrator_support::yaml::{Yaml, map};
use orchestrator_testkit::tool;
use serde_json::Value;

fn golden(name: &str, actual: &str) {
    orchestrator_testkit::golden(env!("CARGO_MANIFEST_DIR"), name, actual);
}

fn all() -> Vec<Dashboard> {
    dashboards(&Context::defaults().unwrap()).unwrap()
}

#[test]
fn golden_files() {
    for d in all() {
        golden(&format!("{}.json", d.uid), &d.render());
    }
    golden(
        "datasource.yml",
        &provisioning::datasource("http://prometheus:9090"),
    );
    golden(
        "dashboards.yml",
        &provisioning::dashboard_provider("/var/lib/grafana/dashboards"),
    );
}

#[test]
fn panel_counts_and_refresh_intervals_are_the_specification_s() {
    let shape: Vec<(&str, usize, &str)> = all()
        .iter()
        .map(|d| (d.title, d.panels.len(), d.refresh))
        .collect();
    assert_eq!(
        shape,
        [
            ("Orchestrator — Executive", 12, "1m"),
            ("Orchestrator — System health", 8, "30s"),
            ("Orchestrator — Business intelligence", 22, "5m"),
            ("Orchestrator — Infrastructure", 20, "15s"),
        ]
    );
    for d in all() {
        let json = d.to_json();
        assert_eq!(json["panels"].as_array().unwrap().len(), d.panels.len());
        assert_eq!(json["refresh"], d.refresh);
    }
}

#[test]
fn every_panel_has_a_unit_the_datasource_variable_and_a_place_on_the_grid() {
    for d in all() {
        let json = d.to_json();
        let variables = json["templating"]["list"].as_array().unwrap();
        assert!(
            variables.iter().any(|v| v["name"] == "datasource"
                && v["type"] == "datasource"
                && v["query"] == "prometheus"),
            "{}",
            d.uid
        );
        let mut ids = BTreeSet::new();
        for panel in json["panels"].as_array().unwrap() {
            let title = panel["title"].as_str().unwrap();
            assert!(
                ids.insert(panel["id"].as_u64().unwrap()),
                "{title}: duplicate id"
            );
            let unit = panel["fieldConfig"]["defaults"]["unit"]
                .as_str()
                .unwrap_or("");
            assert!(!unit.is_empty(), "{title}: no unit");
            assert_eq!(panel["datasource"]["uid"], "${datasource}", "{title}");
            let grid = &panel["gridPos"];
            assert!(
                grid["x"].as_u64().unwrap() + grid["w"].as_u64().unwrap() <= 24,
                "{title}"
            );
            for target in panel["targets"].as_array().unwrap() {
                assert_eq!(target["datasource"]["uid"], "${datasource}", "{title}");
                assert!(!target["expr"].as_str().unwrap().is_empty(), "{title}");
            }
        }
    }
}

fn steps(d: &Dashboard, title: &str) -> Vec<Value> {
    let json = d.to_json();
    let panel = json["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"] == title)
        .unwrap_or_else(|| panic!("no panel {title}"))
        .clone();
    panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn thresholds_come_from_the_kpi_targets_and_the_alert_rules() {
    // A changed target moves the threshold: nothing is spelled twice.
    let mut ctx = Context::defaults().unwrap();
    ctx.kpis = ctx.kpis.target("monthly_active_users", 25_000.0).unwrap();
    let executive = orchestrator_dashboards::executive(&ctx).unwrap();
    assert_eq!(
        steps(&executive, "Monthly active users")[1]["value"],
        25_000.0
    );
    assert_eq!(
        steps(&executive, "Monthly active users")[1]["color"],
        "green"
    );
    assert_eq!(steps(&executive, "Response time p95")[1]["value"], 0.15);
    assert_eq!(steps(&executive, "Response time p95")[1]["color"], "red");
    let system = orchestrator_dashboards::system_health(&ctx).unwrap();
    assert_eq!(steps(&system, "Error rate")[1]["value"], 0.01);
    assert_eq!(steps(&system, "Memory against its limit")[1]["value"], 0.9);
    assert_eq!(steps(&system, "Request duration p95")[1]["value"], 0.2);
    let business = orchestrator_dashboards::business_intelligence(&ctx).unwrap();
    assert_eq!(steps(&business, "Mean satisfaction (1 h)")[1]["value"], 7.0);
    assert_eq!(
        steps(&business, "Mean satisfaction (1 h)")[1]["color"],
        "green"
    );
}

/// The metric names a PromQL expression reads, found by scanning its text: identifiers that
/// are not functions, keywords, label names (inside braces or `by (...)`), numbers or
/// durations.
fn metric_names(promql: &str) -> BTreeSet<String> {
    const KEYWORDS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
    ];
    // Aggregations may be followed by `by (...)` before their parenthesis.
    const AGGREGATIONS: &[&str] = &[
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
        "group",
    ];
    let chars: Vec<char> = promql.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    let mut skip_group = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
            }
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                while i < chars.len() && chars[i] != close {
                    if chars[i] == '"' {
                        i += 1;
                        while i < chars.len() && chars[i] != '"' {
                            i += 1;
                        }
                    }
                    i += 1;
                }
                i += 1;
            }
            '(' if skip_group => {
                while i < chars.len() && chars[i] != ')' {
                    i += 1;
                }
                skip_group = false;
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut j = i;
                while j < chars.len() && chars[j] == ' ' {
                    j += 1;
                }
                if matches!(
                    word.as_str(),
                    "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
                ) {
                    skip_group = true;
                } else if KEYWORDS.contains(&word.as_str())
                    || AGGREGATIONS.contains(&word.as_str())
                    || chars.get(j) == Some(&'(')
                {
                    // a keyword, a function or an aggregation
                } else {
                    names.insert(word);
                }
            }
            c if c.is_ascii_digit() || c == '.' => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    names
}

#[test]
fn the_tokenizer_finds_metric_names() {
    let found = metric_names(
        r#"histogram_quantile(0.95, sum by (le, target) (rate(a_bucket{dependency="x",b=~"5.."}[5m]))) / on(x) b_total unless c"#,
    );
    assert_eq!(
        found,
        BTreeSet::from(["a_bucket".into(), "b_total".into(), "c".into()])
    );
}

#[test]
fn every_metric_a_panel_names_is_in_the_catalogue_or_the_declared_exporter_list() {
    let catalogue: BTreeSet<String> = catalogue::ALL
        .iter()
        .flat_map(|d| d.series_names())
        .map(|s| s.to_string())
        .collect();
    let exporters: BTreeSet<String> = STANDARD_METRICS.iter().map(|m| m.name.to_owned()).collect();
    let mut orchestrator_queries = 0;
    let mut exporter_queries = 0;
    for d in all() {
        for panel in &d.panels {
            for q in &panel.queries {
                let names = metric_names(&q.promql);
                assert!(!names.is_empty(), "{}: {}", panel.title, q.promql);
                match &q.source {
                    Source::Orchestrator(_) => {
                        orchestrator_queries += 1;
                        for n in &names {
                            assert!(
                                catalogue.contains(n),
                                "{}: {n} is not in the catalogue",
                                panel.title
                            );
                        }
                    }
                    Source::Exporter(uses) => {
                        exporter_queries += 1;
                        let declared: BTreeSet<String> =
                            uses.iter().map(|m| m.name.to_owned()).collect();
                        assert_eq!(names, declared, "{}: {}", panel.title, q.promql);
                        for n in &names {
                            assert!(
                                exporters.contains(n),
                                "{}: {n} is not declared",
                                panel.title
                            );
                        }
                    }
                }
            }
        }
    }
    // Every query was checked: 58 over the catalogue (42, the six KPI trends, the four
    // business-figure trends and the six agent panels), 24 over the exporters.
    assert_eq!((orchestrator_queries, exporter_queries), (58, 24));
}

#[test]
fn promtool_parses_every_panel_expression() {
    let mut rules = Vec::new();
    for d in all() {
        for (p, panel) in d.panels.iter().enumerate() {
            for (q, query) in panel.queries.iter().enumerate() {
                let record = format!(
                    "dashboard:{}:panel{}_{}",
                    d.uid.replace('-', "_"),
                    p + 1,
                    q + 1
                );
                rules.push(map([
                    ("record", record.into()),
                    ("expr", query.promql.clone().into()),
                ]));
            }
        }
    }
    let count = rules.len();
    let file = map([(
        "groups",
        Yaml::List(vec![map([
            ("name", "dashboards".into()),
            ("rules", Yaml::List(rules)),
        ])]),
    )])
    .render();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dashboards.rules.yml");
    std::fs::write(&path, file).unwrap();
    let output = Command::new(tool("promtool", "prometheus"))
        .args(["check", "rules"])
        .arg(&path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(&format!("SUCCESS: {count} rules found")),
        "{text}"
    );
}
