//! The fleet on loopback (issue 17): three replicas of the demo sharing one real Redis,
//! scraped by one real Prometheus started with the bundle `orchestrator-obs generate`
//! writes for them, their in-process alerts pushed to one real Alertmanager whose
//! receivers all point at a webhook receiver in the test.
//!
//! The replicas run in this process (each its own `Telemetry::build`, registry, listener,
//! evaluator and demo server), so the test knows exactly what each load generator sent and
//! to which users; `scripts/fleet` runs the same setup as separate processes.

use crate::support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use orchestrator_demo::incident::Incident;
use orchestrator_demo::load::{self, LoadConfig, LoadReport};
use orchestrator_demo::provider::ProviderConfig;
use orchestrator_demo::{DemoConfig, DemoServer, demo_prices};
use orchestrator_obs::bundle::{self, BundleOptions};
use orchestrator_telemetry::exposition::{self, histogram_quantile};
use orchestrator_telemetry::orchestrator_alerts::generate::{
    AlertmanagerOptions, alertmanager_config,
};
use orchestrator_telemetry::orchestrator_alerts::{AlertState, AlertmanagerSink};
use orchestrator_telemetry::orchestrator_api::{KpiDoc, KpiScope, KpisDoc, UsersScope};
use orchestrator_telemetry::orchestrator_kpi::RedisActivityConfig;
use orchestrator_telemetry::{Telemetry, TelemetryGuard, catalogue};
use orchestrator_testkit::server::RecordingServer;
use orchestrator_testkit::services::{Alertmanager, Redis};
use serde_json::Value;
use support::Prometheus;

/// Replica `i` draws its users from `i * USER_STEP` over `2 * USER_STEP` ids, so each
/// shares half of its range with the next.
const USER_STEP: u64 = 300;

fn replica(i: u64, redis: &Redis, alertmanager: &Alertmanager) -> TelemetryGuard {
    Telemetry::builder()
        .listen("127.0.0.1:0")
        .prices(demo_prices().unwrap())
        .monitor_interval(Duration::from_millis(500))
        .instance(format!("replica-{i}"))
        .redis_activity(RedisActivityConfig::new(redis.url()))
        .alerts(|a| {
            a.tuning(support::brisk_tuning()).sink(Arc::new(
                AlertmanagerSink::new(&alertmanager.url()).unwrap(),
            ))
        })
        .build()
        .unwrap()
}

/// The notifications Alertmanager sent the webhook for `alert`, by status, in order.
fn notifications(hook: &RecordingServer, alert: &str) -> Vec<String> {
    hook.requests()
        .iter()
        .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
        .filter(|n| n["commonLabels"]["alertname"] == alert)
        .map(|n| n["status"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// The index of the bucket `value` falls in (the first bound at or above it).
fn bucket_of(value: f64) -> usize {
    let bounds = catalogue::REQUEST_DURATION_SECONDS.buckets;
    bounds
        .iter()
        .position(|b| value <= *b)
        .unwrap_or(bounds.len())
}

#[test]
fn three_replicas_one_redis_one_prometheus_one_alertmanager() {
    let redis = Redis::start();
    let hook = RecordingServer::start("127.0.0.1:0", None, |_| (200, "ok".into()));
    let alertmanager = Alertmanager::start(&alertmanager_config(&AlertmanagerOptions {
        webhook_override: Some(format!("{}/alerts", hook.url())),
        group_wait: Duration::from_secs(1),
        group_interval: Duration::from_secs(2),
        ..AlertmanagerOptions::default()
    }));
    let runtime = support::runtime();
    let replicas: Vec<TelemetryGuard> = (0..3).map(|i| replica(i, &redis, &alertmanager)).collect();
    let servers: Vec<DemoServer> = replicas
        .iter()
        .map(|telemetry| {
            let config = DemoConfig {
                api_addr: "127.0.0.1:0".into(),
                // The incident is the only cause of server errors.
                provider: ProviderConfig::without_failures(),
                ..Default::default()
            };
            runtime
                .block_on(DemoServer::start(config, telemetry))
                .unwrap()
        })
        .collect();

    // One Prometheus with the generated bundle for these three targets.
    let dir = tempfile::tempdir().unwrap();
    let options = BundleOptions {
        targets: replicas
            .iter()
            .map(|t| t.metrics_addr().unwrap().to_string())
            .collect(),
        alertmanager_target: alertmanager.address(),
        scrape_interval: Duration::from_secs(1),
        kpi_interval: Duration::from_secs(1),
        ..BundleOptions::default()
    };
    bundle::write(dir.path(), &options).unwrap();
    let prometheus = Prometheus::start_config(
        &dir.path().join("prometheus/prometheus.yml"),
        tempfile::tempdir().unwrap(),
    );
    let up = prometheus.wait_for(Duration::from_secs(20), |p| {
        p.scalar("count(up == 1)") == Some(3.0)
    });
    assert!(up, "Prometheus did not scrape the three replicas");

    // An error incident on replicas 0 and 1 (not 2), from 3 s to 11 s of a 25 s load: it
    // resolves one 10 s window after it ends.
    let reports: Vec<LoadReport> = runtime.block_on(async {
        for server in &servers[..2] {
            server.incident().schedule(
                Incident::Errors,
                Duration::from_secs(3),
                Duration::from_secs(8),
            );
        }
        let runs = servers.iter().enumerate().map(|(i, server)| {
            let config = LoadConfig {
                duration: Duration::from_secs(25),
                concurrency: 5,
                users_from: i as u64 * USER_STEP,
                users: 2 * USER_STEP,
                seed: 100 + i as u64,
                incident: server.incident().clone(),
                ..LoadConfig::default()
            };
            let url = server.api_url();
            async move { load::run(&url, &config).await }
        });
        futures_util::future::join_all(runs).await
    });

    // Distinct users: every replica's KPI is the one fleet-wide figure, close to the truth.
    let truth: BTreeSet<u64> = reports.iter().flat_map(|r| r.users.clone()).collect();
    for telemetry in &replicas {
        telemetry.evaluate_now(); // sends what each replica still had queued
    }
    let mau: Vec<f64> = replicas
        .iter()
        .map(|t| {
            t.evaluate_now()
                .and_then(|r| r.get("monthly_active_users").and_then(|k| k.value))
                .expect("monthly active users")
        })
        .collect();
    println!("distinct users sent {}, replicas' KPI {mau:?}", truth.len());
    assert!(mau.iter().all(|m| *m == mau[0]), "{mau:?}");
    let error = (mau[0] - truth.len() as f64).abs() / truth.len() as f64;
    assert!(
        error <= 0.02,
        "{} vs {} distinct users",
        mau[0],
        truth.len()
    );
    for telemetry in &replicas {
        assert!(telemetry.activity_status().is_available());
    }

    // Prometheus agrees once a scrape after the last request and evaluation is in.
    std::thread::sleep(Duration::from_millis(2_500));
    let sent: u64 = reports
        .iter()
        .map(|r| {
            assert!(!r.by_status.contains_key(&0), "{:?}", r.by_status);
            r.by_status.values().sum::<u64>()
        })
        .sum();
    assert_eq!(
        prometheus.scalar("sum(orchestrator_requests_total)"),
        Some(sent as f64)
    );
    assert_eq!(
        prometheus.scalar("max(orchestrator_active_users{window=\"30d\"})"),
        Some(mau[0])
    );

    // The fleet p95 of the generated recording rule, against the merged histograms.
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for telemetry in &replicas {
        let parsed = exposition::parse(&telemetry.registry().render()).unwrap();
        for (le, n) in parsed.buckets(catalogue::REQUEST_DURATION_SECONDS.name, |_| true) {
            match merged.iter_mut().find(|(l, _)| *l == le) {
                Some((_, total)) => *total += n,
                None => merged.push((le, n)),
            }
        }
    }
    merged.sort_by(|a, b| a.0.total_cmp(&b.0));
    let ours = histogram_quantile(0.95, &merged).unwrap();
    let recorded = prometheus
        .scalar("orchestrator:kpi:response_time_p95")
        .expect("the recording rule was evaluated");
    println!("fleet p95: recording rule {recorded:.4} s, merged histograms {ours:.4} s");
    assert!(
        bucket_of(recorded).abs_diff(bucket_of(ours)) <= 1,
        "{recorded} vs {ours}"
    );

    // Two replicas fired HighErrorRate, the third did not; Alertmanager notified once.
    let fired: Vec<bool> = replicas
        .iter()
        .map(|t| {
            t.alerts_report()
                .unwrap()
                .history
                .iter()
                .any(|h| h.rule == "HighErrorRate" && h.to == Some(AlertState::Firing))
        })
        .collect();
    assert_eq!(fired, [true, true, false]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !notifications(&hook, "HighErrorRate").contains(&"resolved".to_owned()) {
        assert!(
            Instant::now() < deadline,
            "no resolved notification: {:?}",
            notifications(&hook, "HighErrorRate")
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    // Time for a duplicate to show up, were there one (two group intervals).
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        notifications(&hook, "HighErrorRate"),
        ["firing", "resolved"]
    );
    drop(servers);
    for telemetry in replicas {
        telemetry.shutdown();
    }
}

/// The page's `/api/v1/kpis` document.
fn kpis_doc(telemetry: &TelemetryGuard) -> KpisDoc {
    let url = format!("http://{}/api/v1/kpis", telemetry.metrics_addr().unwrap());
    let (status, body) = support::http_get(&url).expect("the live page answers");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn kpi<'a>(doc: &'a KpisDoc, id: &str) -> &'a KpiDoc {
    doc.kpis.iter().find(|k| k.id == id).unwrap()
}

/// Issue 17, bad input: Redis going away mid-run. The replica keeps recording; user
/// activity is dropped and counted; `orchestrator_active_users` leaves the exposition and
/// the KPI has no value (not the last one, not a local one), and the live page says why.
#[test]
fn redis_going_away_makes_distinct_users_unavailable_not_stale() {
    let mut redis = Redis::start();
    let telemetry = Telemetry::builder()
        .listen("127.0.0.1:0")
        .monitor_interval(Duration::from_secs(3600))
        .instance("replica-x")
        .redis_activity(RedisActivityConfig::new(redis.url()).timeout(Duration::from_millis(500)))
        .build()
        .unwrap();
    telemetry.business().session_started("user-1");
    telemetry.business().session_started("user-2");
    let mau = |t: &TelemetryGuard| {
        t.evaluate_now()
            .and_then(|r| r.get("monthly_active_users").and_then(|k| k.value))
    };
    assert_eq!(mau(&telemetry), Some(2.0));
    let doc = kpis_doc(&telemetry);
    assert_eq!(doc.instance.as_deref(), Some("replica-x"));
    let users = doc.users.as_ref().unwrap();
    assert_eq!(users.scope, UsersScope::Fleet);
    assert!(users.available);
    assert_eq!(kpi(&doc, "monthly_active_users").scope, KpiScope::Fleet);
    assert_eq!(
        kpi(&doc, "revenue_per_user").scope,
        KpiScope::ReplicaOverFleet
    );
    assert_eq!(kpi(&doc, "error_rate").scope, KpiScope::Replica);

    redis.stop();
    telemetry.business().session_started("user-3");
    assert_eq!(mau(&telemetry), None);
    let text = telemetry.registry().render();
    assert!(!text.contains("orchestrator_active_users{"), "{text}");
    assert!(
        text.contains("orchestrator_telemetry_dropped_total{queue=\"user_activity\"} 1\n"),
        "{text}"
    );
    let status = telemetry.activity_status();
    assert!(!status.is_available());
    let doc = kpis_doc(&telemetry);
    let users = doc.users.as_ref().unwrap();
    assert!(!users.available);
    assert!(
        users
            .error
            .as_deref()
            .unwrap()
            .contains("cannot count distinct users"),
        "{doc:?}"
    );
    assert_eq!(
        kpi(&doc, "monthly_active_users").display_value,
        "unavailable"
    );
    telemetry.shutdown();
}
