//! End to end against a real Prometheus: the demo's server runs in-process, Prometheus
//! scrapes its /metrics every second, and the test checks through Prometheus's HTTP API.

use crate::support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orchestrator_demo::middleware::ObservedRequest;
use orchestrator_demo::provider::ProviderConfig;
use orchestrator_demo::{DemoConfig, DemoServer, demo_prices};
use orchestrator_telemetry::catalogue::{self, buckets};
use orchestrator_telemetry::orchestrator_exporters::ProcessCollectorConfig;
use orchestrator_telemetry::{Status, Telemetry};
use support::Prometheus;

/// Sends the scripted workload; returns the number of requests answered, by status.
async fn workload(api: String) -> BTreeMap<u16, u64> {
    let client = reqwest::Client::new();
    let counts = Arc::new(Mutex::new(BTreeMap::<u16, u64>::new()));
    let mut tasks = Vec::new();
    for worker in 0..8u64 {
        let (client, api, counts) = (client.clone(), api.clone(), counts.clone());
        tasks.push(tokio::spawn(async move {
            let count = |status: reqwest::StatusCode| *counts.lock().unwrap().entry(status.as_u16()).or_default() += 1;
            for s in 0..5u64 {
                let user = format!("user-{}", worker * 5 + s);
                let r = client.post(format!("{api}/v1/sessions")).json(&serde_json::json!({"user_id": user})).send().await.unwrap();
                count(r.status());
                let id = r.json::<serde_json::Value>().await.unwrap()["session_id"].as_i64().unwrap();
                for m in 0..3u64 {
                    let model = ["gpt-4o-mini", "claude-3-5-haiku", "gpt-4o"][(m % 3) as usize];
                    let mut request = client
                        .post(format!("{api}/v1/sessions/{id}/messages"))
                        .header("x-tenant-id", format!("tenant-{}", worker % 3))
                        .json(&serde_json::json!({"prompt": format!("question {} of {worker}", m + s), "model": model}));
                    if worker == 0 && s == 0 && m == 0 {
                        request = request.header("x-simulate", "error");
                    }
                    if worker == 1 && s == 0 && m == 0 {
                        request = request.header("x-simulate", "rate_limit");
                    }
                    count(request.send().await.unwrap().status());
                }
                // One question for the research agent per worker: the agent and tool series.
                if s == 1 {
                    let r = client
                        .post(format!("{api}/v1/sessions/{id}/research"))
                        .json(&serde_json::json!({"question": format!("research {worker}")}))
                        .send()
                        .await
                        .unwrap();
                    count(r.status());
                }
                let feedback = serde_json::json!({
                    "satisfaction": 6.0 + (s as f64), "quality": 70.0 + worker as f64,
                    "converted": s == 2, "purchase_usd": if s == 2 { 19.99 } else { 0.0 },
                });
                let r = client.post(format!("{api}/v1/sessions/{id}/feedback")).json(&feedback).send().await.unwrap();
                count(r.status());
                count(client.delete(format!("{api}/v1/sessions/{id}")).send().await.unwrap().status());
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Bad input and unknown routes are requests too.
    let count = |status: reqwest::StatusCode| {
        *counts.lock().unwrap().entry(status.as_u16()).or_default() += 1
    };
    let r = client
        .post(format!("{api}/v1/sessions"))
        .json(&serde_json::json!({"user_id": "late"}))
        .send()
        .await
        .unwrap();
    count(r.status());
    let open = r.json::<serde_json::Value>().await.unwrap()["session_id"]
        .as_i64()
        .unwrap();
    let bad = serde_json::json!({"satisfaction": 11.0});
    count(
        client
            .post(format!("{api}/v1/sessions/{open}/feedback"))
            .json(&bad)
            .send()
            .await
            .unwrap()
            .status(),
    );
    count(
        client
            .get(format!("{api}/no/such/route"))
            .send()
            .await
            .unwrap()
            .status(),
    );
    Arc::try_unwrap(counts).unwrap().into_inner().unwrap()
}

fn bucket_index(bounds: &[f64], value: f64) -> usize {
    bounds.partition_point(|b| *b < value)
}

#[test]
fn prometheus_scrapes_every_catalogue_metric_and_counts_exactly() {
    let runtime = crate::support::runtime();
    // The budgets kept in Redis: the series of a shared budget exist too.
    let redis = orchestrator_testkit::services::Redis::start();
    let telemetry = Telemetry::builder()
        .listen("127.0.0.1:0")
        .prices(demo_prices().unwrap())
        .redis_budgets(
            orchestrator_telemetry::orchestrator_kpi::RedisBudgetConfig::new(redis.url()),
            orchestrator_telemetry::FailMode::Open,
        )
        // The budget series exist once a budget does (the rejections once one enforces).
        .budget(
            orchestrator_telemetry::Budget::new(
                "*",
                orchestrator_telemetry::BudgetPeriod::Day,
                100.0,
            )
            .unwrap()
            .enforce(orchestrator_telemetry::Policy::Reject),
        )
        .process_collector(
            ProcessCollectorConfig::default()
                .interval(Duration::from_secs(1))
                .memory_limit(2 << 30),
        )
        .build()
        .unwrap();
    let observed: Arc<Mutex<Vec<ObservedRequest>>> = Arc::default();
    let sink = observed.clone();
    let config = DemoConfig {
        api_addr: "127.0.0.1:0".into(),
        // Only the forced failures fail, so the expected counts are exact.
        provider: ProviderConfig::without_failures(),
        observer: Some(Arc::new(move |r: &ObservedRequest| {
            sink.lock().unwrap().push(r.clone())
        })),
        ..Default::default()
    };
    let server = runtime
        .block_on(DemoServer::start(config, &telemetry))
        .unwrap();
    let prometheus = Prometheus::start(telemetry.metrics_addr().unwrap(), &[]);

    let by_status = runtime.block_on(workload(server.api_url()));
    let sent: u64 = by_status.values().sum();
    assert_eq!(by_status.get(&502), Some(&1), "{by_status:?}");
    assert_eq!(by_status.get(&503), Some(&1), "{by_status:?}");
    assert_eq!(by_status.get(&404), Some(&1), "{by_status:?}");
    assert_eq!(by_status.get(&422), Some(&1), "{by_status:?}");

    // Exactly the number of requests sent, once Prometheus has scraped after the last one.
    let mut last = None;
    let equal = prometheus.wait_for(Duration::from_secs(30), |p| {
        last = p.scalar("sum(orchestrator_requests_total)");
        last == Some(sent as f64)
    });
    assert!(
        equal,
        "sum(orchestrator_requests_total) = {last:?}, sent {sent}"
    );
    let api_errors = prometheus.scalar(r#"sum(orchestrator_errors_total{component="api"})"#);
    assert_eq!(api_errors, Some(2.0), "one 502 and one 503");
    let unmatched =
        prometheus.scalar(r#"sum(orchestrator_requests_total{route="unmatched",status="404"})"#);
    assert_eq!(unmatched, Some(1.0));

    // Every catalogue metric is present with its type, except those that cannot be computed
    // yet and are absent rather than a made-up zero.
    let not_computable = [
        // Needs a previous 30-day window of users to compare with.
        catalogue::CHURN_RATIO.name,
        // Revenue per user divided by churn.
        catalogue::CUSTOMER_LIFETIME_VALUE_USD.name,
    ];
    telemetry.evaluate_now();
    std::thread::sleep(Duration::from_secs(2));
    let metadata = prometheus.api("/api/v1/metadata");
    for name in not_computable {
        assert!(
            prometheus.query(name).is_empty(),
            "{name} is exported without data to compute it"
        );
    }
    for def in catalogue::ALL
        .iter()
        .filter(|d| !not_computable.contains(&d.name))
    {
        // Prometheus scrapes OpenMetrics, whose counter families are named without `_total`.
        let family = def.name.strip_suffix("_total").unwrap_or(def.name);
        let kind = metadata["data"][family][0]["type"].as_str();
        assert_eq!(
            kind,
            Some(def.kind.as_str()),
            "{family} in Prometheus metadata"
        );
        let unit = metadata["data"][family][0]["unit"].as_str().unwrap_or("");
        if def.unit != orchestrator_telemetry::catalogue::Unit::Count {
            assert_eq!(
                unit,
                def.unit.as_str(),
                "{family}'s unit in Prometheus metadata"
            );
        }
        let series = prometheus.query(&format!(
            "count({{__name__=~\"{}\"}})",
            def.series_names().join("|")
        ));
        assert!(
            !series.is_empty(),
            "{} has no series in Prometheus",
            def.name
        );
    }

    // Every message request named its tenant: 8 workers × 5 sessions × 3 messages, spread
    // over three tenants (workers 0, 3, 6 → tenant-0: 45).
    assert_eq!(
        prometheus.scalar("sum(orchestrator_tenant_requests_total)"),
        Some(120.0)
    );
    assert_eq!(
        prometheus.scalar("sum(orchestrator_tenant_requests_total{tenant=\"tenant-0\"})"),
        Some(45.0)
    );

    // p95 over everything recorded falls within one bucket of the true p95.
    let mut durations: Vec<f64> = observed
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.duration.as_secs_f64())
        .collect();
    assert_eq!(
        durations.len() as u64,
        sent,
        "the observer saw every request"
    );
    assert!(
        observed
            .lock()
            .unwrap()
            .iter()
            .all(|r| r.status != Status::Cancelled)
    );
    durations.sort_by(f64::total_cmp);
    let true_p95 = durations[(durations.len() as f64 * 0.95).ceil() as usize - 1];
    let prom_p95 = prometheus
        .scalar(
            "histogram_quantile(0.95, sum by (le) (orchestrator_request_duration_seconds_bucket))",
        )
        .expect("p95 from Prometheus");
    let bounds = buckets::REQUEST_DURATION_SECONDS;
    let (a, b) = (
        bucket_index(bounds, prom_p95),
        bucket_index(bounds, true_p95),
    );
    assert!(
        a.abs_diff(b) <= 1,
        "Prometheus p95 {prom_p95} (bucket {a}) vs true p95 {true_p95} (bucket {b})"
    );

    drop(prometheus);
    drop(server);
    telemetry.shutdown();
}
