//! The deployment bundle and the validation report against the real thing: a Prometheus
//! started with the generated bundle (its target rewritten to the demo's loopback address,
//! its scrape interval to 1 s) scrapes the demo, lists every generated rule as healthy and the
//! target as up; `validate` against the running demo and that Prometheus produces a report
//! whose figures are the demo's.

use crate::support;

use std::time::Duration;

use orchestrator_demo::load::{self, LoadConfig};
use orchestrator_obs::bundle::{self, BundleOptions};
use orchestrator_obs::validate::{self, ValidateOptions};
use orchestrator_telemetry::exposition;
use support::Prometheus;

#[test]
fn a_prometheus_started_with_the_bundle_scrapes_the_demo_and_validate_reports_it() {
    let runtime = support::runtime();
    let telemetry = support::telemetry(Duration::from_millis(500));
    let addr = telemetry.metrics_addr().unwrap();
    let server = support::start_demo(&runtime, &telemetry);

    let dir = tempfile::tempdir().unwrap();
    let options = BundleOptions {
        targets: vec![addr.to_string()],
        alertmanager_target: "127.0.0.1:9".into(),
        scrape_interval: Duration::from_secs(1),
        // The KPI recording rules are evaluated every minute in production; every second
        // here, so that the test sees them evaluated.
        kpi_interval: Duration::from_secs(1),
        ..BundleOptions::default()
    };
    bundle::write(dir.path(), &options).unwrap();
    let kpis = dir.path().join("prometheus/rules/kpis.yml");
    let text = std::fs::read_to_string(&kpis).unwrap();
    assert!(text.contains("interval: \"1s\""), "{text}");
    let prometheus = Prometheus::start_config(
        &dir.path().join("prometheus/prometheus.yml"),
        tempfile::tempdir().unwrap(),
    );
    prometheus.wait_for_first_scrape();

    // Load, and validate during it (rates are measured between two scrapes).
    let api = server.api_url();
    let load = runtime.spawn(async move {
        let config = LoadConfig {
            duration: Duration::from_secs(8),
            concurrency: 4,
            seed: 3,
            ..LoadConfig::default()
        };
        load::run(&api, &config).await
    });
    std::thread::sleep(Duration::from_secs(4));
    let out = tempfile::tempdir().unwrap();
    let options = ValidateOptions {
        prometheus: Some(prometheus.url.clone()),
        interval: Duration::from_secs(1),
        ..ValidateOptions::new(format!("http://{addr}"))
    };
    let during = validate::run(&options, out.path()).unwrap();
    let sent = runtime.block_on(load).unwrap();

    // Every generated rule is loaded and healthy (after its first evaluation).
    let healthy = prometheus.wait_for(Duration::from_secs(30), |p| {
        let rules = p.api("/api/v1/rules");
        let all: Vec<_> = rules["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().into_iter().flatten())
            .collect();
        all.len() == 34 && all.iter().all(|r| r["health"] == "ok")
    });
    assert!(healthy, "{}", prometheus.api("/api/v1/rules"));
    let targets = prometheus.api("/api/v1/targets");
    let target = &targets["data"]["activeTargets"][0];
    assert_eq!(target["health"], "up", "{targets}");
    assert_eq!(target["labels"]["job"], "orchestrator");

    // The report made during the load: every check passes, Prometheus's included.
    let failed: Vec<_> = during
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("[{}] {}: {}", c.component, c.name, c.reason))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(during.checks.iter().any(|c| c.component == "prometheus"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json["score"], 1.0);
    // The performance sections are measured, not copied: the panel queries ran against the
    // real Prometheus at rising concurrency, and 35 viewers polled the live page.
    let queries = &json["query_performance"];
    assert!(queries["runs"].as_u64().unwrap() >= queries["queries"].as_u64().unwrap() * 4);
    assert_eq!(queries["concurrency"], serde_json::json!([1, 2, 4, 8]));
    assert!(queries["p95_ms"].as_f64().unwrap() > 0.0, "{queries}");
    let page = &json["dashboard_performance"];
    assert_eq!(page["viewers"], 35);
    assert_eq!(page["api_requests"], 35 * 4 * 3);
    assert!(page["load_ms"].as_f64().unwrap() > 0.0, "{page}");
    assert!(
        std::fs::read_to_string(out.path().join("report.md"))
            .unwrap()
            .contains("## Collection performance")
    );

    // After the load, the report's counts are what the demo recorded.
    std::thread::sleep(Duration::from_millis(500));
    let after = validate::run(
        &ValidateOptions {
            interval: Duration::from_millis(200),
            ..ValidateOptions::new(format!("http://{addr}"))
        },
        out.path(),
    )
    .unwrap();
    let json = after.json();
    let requests = json["business"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["metric"] == "API requests")
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .replace(',', "");
    let sent_total: u64 = sent.by_status.values().sum();
    assert_eq!(
        requests,
        sent_total.to_string(),
        "requests in the report vs sent"
    );
    let exposition = exposition::parse(&telemetry.registry().render()).unwrap();
    for row in &after.metrics {
        let expected = exposition.family(row.name).map_or(0, |f| f.samples.len());
        assert_eq!(row.samples, expected, "{}", row.name);
    }
    drop(server);
}
