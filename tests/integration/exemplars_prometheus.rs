//! Issue 15 item 8, end to end: a real Prometheus (Debian's, with exemplar storage) scrapes
//! the demo under load, negotiates OpenMetrics, and stores the exemplars of the request
//! duration histogram; every exemplar's `trace_id` is a trace the embedded store holds (so
//! only sampled requests left exemplars: an unsampled one would point at no trace).

use crate::support;

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use orchestrator_demo::load::{self, LoadConfig};
use serde_json::Value;
use support::{Prometheus, http_get};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn prometheus_stores_exemplars_that_point_at_sampled_traces() {
    let runtime = support::runtime();
    let telemetry = orchestrator_telemetry::Telemetry::builder()
        .listen("127.0.0.1:0")
        .prices(orchestrator_demo::demo_prices().unwrap())
        .monitor_interval(Duration::from_millis(250))
        // Every sampled trace of the run stays in the store (the default ratio, 10 %).
        .tracing(|t| t.store_capacity(10_000))
        .ignore_otel_env()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 250ms\nscrape_configs:\n  - job_name: orchestrator\n    static_configs:\n      - targets: ['{}']\n",
            telemetry.metrics_addr().unwrap()
        ),
    )
    .unwrap();
    let prometheus =
        Prometheus::start_config_with(&config, dir, &["--enable-feature=exemplar-storage"]);
    let server = support::start_demo(&runtime, &telemetry);
    prometheus.wait_for_first_scrape();
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 5;
    let load_config = LoadConfig {
        duration: Duration::from_secs(6),
        concurrency: 4,
        seed: 5,
        ..LoadConfig::default()
    };
    let sent = runtime.block_on(load::run(&server.api_url(), &load_config));
    assert!(sent.answered() > 50, "workload too small: {sent:?}");
    std::thread::sleep(Duration::from_secs(1));

    // The text format has no exemplar syntax: an exemplar in Prometheus proves the scrape
    // negotiated OpenMetrics.
    let target = &prometheus.api("/api/v1/targets")["data"]["activeTargets"][0];
    assert_eq!(target["health"], "up", "{target}");

    let end = start + 60;
    let query = |series: &str| -> Vec<Value> {
        let url = format!(
            "{}/api/v1/query_exemplars?query={series}&start={start}&end={end}",
            prometheus.url
        );
        let (code, body) = http_get(&url).expect("Prometheus answers");
        assert_eq!(code, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["exemplars"].as_array().cloned().unwrap_or_default())
            .collect()
    };
    let exemplars = query("orchestrator_request_duration_seconds_bucket");
    assert!(!exemplars.is_empty(), "no exemplar stored");
    let stored: HashSet<String> = telemetry
        .tracer()
        .store()
        .traces()
        .iter()
        .filter_map(|t| t.root().map(|r| hex(&r.trace_id)))
        .collect();
    for exemplar in &exemplars {
        let trace_id = exemplar["labels"]["trace_id"].as_str().unwrap();
        assert_eq!(exemplar["labels"]["span_id"].as_str().unwrap().len(), 16);
        assert!(
            stored.contains(trace_id),
            "exemplar {exemplar} points at a trace the store does not hold ({} traces)",
            stored.len()
        );
    }
    // `_created` is opt-in: Debian's Prometheus would store each line as a series.
    assert!(prometheus.query("{__name__=~\".+_created\"}").is_empty());
    // The LLM latency histogram carries them too.
    assert!(!query("orchestrator_llm_latency_seconds_bucket").is_empty());
    println!(
        "{} request-duration exemplars, all among {} stored traces ({} requests answered)",
        exemplars.len(),
        stored.len(),
        sent.answered()
    );
    drop(server);
    telemetry.shutdown();
}
