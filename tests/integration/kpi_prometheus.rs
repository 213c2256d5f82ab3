//! The KPIs evaluated in-process equal what a real Prometheus computes from the same
//! expressions rendered as PromQL.
//!
//! Two checks at the same instant T, after a scripted workload through the demo:
//! 1. Same data: the raw samples Prometheus stored are loaded into an in-process store and
//!    every KPI is evaluated there. This checks the interpreter's semantics (rate
//!    extrapolation, quantile interpolation, matching); they agree to 1e-9.
//! 2. Independent samplers: the library's own monitor sampled the registry while
//!    Prometheus scraped it. They agree within 1 %: the residual is where each sampler's
//!    samples fall in time, which moves rate extrapolation by at most one interval over the
//!    data's span.

use crate::support;

use std::time::Duration;

use orchestrator_demo::load::{self, LoadConfig};
use orchestrator_demo::provider::ProviderConfig;
use orchestrator_demo::{DemoConfig, DemoServer, demo_prices};
use orchestrator_telemetry::Telemetry;
use orchestrator_telemetry::orchestrator_kpi::KpiConfig;
use orchestrator_telemetry::orchestrator_query::{LOOKBACK_MS, SampleStore, StoreLimits, eval};
use serde_json::Value;
use support::Prometheus;

pub(crate) fn value_of(result: &[Value]) -> Option<f64> {
    match result {
        [only] => only["value"][1]
            .as_str()?
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite()),
        _ => None,
    }
}

fn close(a: Option<f64>, b: Option<f64>, tolerance: f64) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= tolerance * a.abs().max(b.abs()).max(1e-12),
        _ => false,
    }
}

/// Loads every sample Prometheus holds for the expression's selectors into a store.
pub(crate) fn store_from_prometheus(
    prometheus: &Prometheus,
    expr: &orchestrator_telemetry::orchestrator_query::Expr,
    at: i64,
) -> SampleStore {
    let mut store = SampleStore::new(StoreLimits::default());
    // One read per selector, over the furthest any use of it reaches (an expression and its
    // `offset` read the same series over different spans; the store takes points in order).
    let mut reach: Vec<(String, i64)> = Vec::new();
    for (selector, window) in expr.selectors() {
        let range = window.map_or(0, |w| w.millis()) + LOOKBACK_MS;
        match reach.iter_mut().find(|(s, _)| *s == selector.to_string()) {
            Some((_, r)) => *r = (*r).max(range),
            None => reach.push((selector.to_string(), range)),
        }
    }
    for (selector, range) in reach {
        let matrix = prometheus.query_at(&format!("{selector}[{range}ms]"), at);
        for series in matrix {
            let metric = series["metric"].as_object().unwrap();
            let name = metric["__name__"].as_str().unwrap();
            let labels: Vec<(String, String)> = metric
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "__name__" | "job" | "instance"))
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            for point in series["values"].as_array().unwrap() {
                let t = (point[0].as_f64().unwrap() * 1000.0).round() as i64;
                let v: f64 = point[1].as_str().unwrap().parse().unwrap();
                store.append(name, &labels, t, v, i64::MAX / 4);
            }
        }
    }
    store
}

#[test]
fn kpis_in_process_equal_prometheus() {
    let runtime = crate::support::runtime();
    let kpis = KpiConfig::default();
    let telemetry = Telemetry::builder()
        .listen("127.0.0.1:0")
        .prices(demo_prices().unwrap())
        .kpis({
            let kpis = kpis.clone();
            move |_| Ok(kpis)
        })
        .monitor_interval(Duration::from_millis(250))
        .build()
        .unwrap();
    let prometheus =
        Prometheus::start_with_interval(telemetry.metrics_addr().unwrap(), &[], "250ms");
    let config = DemoConfig {
        api_addr: "127.0.0.1:0".into(),
        provider: ProviderConfig::default(),
        observer: None,
        ..Default::default()
    };
    let server = runtime
        .block_on(DemoServer::start(config, &telemetry))
        .unwrap();
    // Both samplers must see the registry before traffic starts, or each extrapolates
    // from a different first sample.
    prometheus.wait_for_first_scrape();
    std::thread::sleep(Duration::from_secs(1));
    let load_config = LoadConfig {
        duration: Duration::from_secs(30),
        concurrency: 8,
        seed: 7,
        ..LoadConfig::default()
    };
    let sent = runtime.block_on(load::run(&server.api_url(), &load_config));
    assert!(sent.answered() > 500, "workload too small: {sent:?}");
    std::thread::sleep(Duration::from_secs(2));

    let report = telemetry.evaluate_now().expect("a KPI report");
    let at = report.at;
    let mut failures = Vec::new();
    for (kpi, result) in kpis.kpis().iter().zip(&report.results) {
        let promql = kpi.expr.to_string();
        let from_prometheus = value_of(&prometheus.query_at(&promql, at));
        let same_data = eval(
            &kpi.expr,
            &store_from_prometheus(&prometheus, &kpi.expr, at),
            at,
        )
        .scalar();
        println!(
            "{:<22} in-process {:<22?} same data {:<22?} Prometheus {:<22?} {promql}",
            kpi.id, result.value, same_data, from_prometheus
        );
        assert!(
            from_prometheus.is_some(),
            "{}: Prometheus has no value for {promql}",
            kpi.id
        );
        if !close(same_data, from_prometheus, 1e-9) {
            failures.push(format!(
                "{}: same data {same_data:?} vs Prometheus {from_prometheus:?}",
                kpi.id
            ));
        }
        // Different samplers: the two see each series first at a different moment (a status
        // or route series appears mid-run), so `rate()` extrapolates a little differently.
        // The evaluator itself is held to 1e-9 above, on the same data. 1 % holds for sums
        // and ratios; the p95 interpolates inside one bucket, which magnifies the difference
        // (measured up to 1.8 % on this 2-core machine, 2 runs of 4 on 2026-11-30), so it
        // gets 3 %.
        let tolerance = if kpi.id == "response_time_p95" {
            0.03
        } else {
            0.01
        };
        if !close(result.value, from_prometheus, tolerance) {
            failures.push(format!(
                "{}: in-process {:?} vs Prometheus {from_prometheus:?}",
                kpi.id, result.value
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    drop(server);
    telemetry.shutdown();
}

/// Issue 16 item 9: `offset` and the trends built on it (`change_since`,
/// `relative_change_since`) evaluate in-process as a real Prometheus does, on the same
/// samples (to 1e-9); with no previous period, both say "no data", never 0.
#[test]
fn offsets_and_trends_in_process_equal_prometheus() {
    use orchestrator_telemetry::orchestrator_metrics::catalogue::{
        REQUEST_DURATION_SECONDS, REQUESTS_TOTAL,
    };
    use orchestrator_telemetry::orchestrator_query::{Expr, Selector, Window};

    let telemetry = Telemetry::builder()
        .listen("127.0.0.1:0")
        .without_monitor()
        .build()
        .unwrap();
    let prometheus =
        Prometheus::start_with_interval(telemetry.metrics_addr().unwrap(), &[], "250ms");
    prometheus.wait_for_first_scrape();
    // Two phases of different traffic, 4 s each: 5 then 20 requests every 250 ms, slower
    // in the second phase.
    for step in 0..32u64 {
        let (n, ms) = if step < 16 { (5, 40) } else { (20, 260) };
        for i in 0..n {
            let status = if i % 5 == 4 { 500 } else { 200 };
            telemetry.metrics().requests().record(
                "/v1/chat",
                "POST",
                status,
                Duration::from_millis(ms + i * 3),
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    // T just after the traffic (one scrape later), then time for Prometheus to ingest it.
    std::thread::sleep(Duration::from_millis(300));
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    std::thread::sleep(Duration::from_millis(700));

    let w = Window::secs(2).unwrap();
    let back = Window::secs(4).unwrap();
    let rate = Expr::rate(Selector::of(&REQUESTS_TOTAL), w).unwrap().sum();
    let p95 =
        Expr::histogram_quantile_of(0.95, Selector::buckets(&REQUEST_DURATION_SECONDS), w).unwrap();
    let cases = [
        ("rate 4 s ago", rate.clone().offset(back)),
        ("rate change", rate.clone().change_since(back).unwrap()),
        (
            "rate trend",
            rate.clone().relative_change_since(back).unwrap(),
        ),
        ("p95 4 s ago", p95.clone().offset(back)),
        ("p95 change", p95.change_since(back).unwrap()),
        (
            "nested offsets add up",
            rate.clone()
                .offset(Window::secs(1).unwrap())
                .offset(Window::secs(3).unwrap()),
        ),
    ];
    for (name, expr) in &cases {
        let promql = expr.to_string();
        assert!(promql.contains("offset 4s"), "{name}: {promql}");
        let from_prometheus = value_of(&prometheus.query_at(&promql, at));
        let same_data = eval(expr, &store_from_prometheus(&prometheus, expr, at), at).scalar();
        println!(
            "{name:<22} same data {same_data:<22?} Prometheus {from_prometheus:<22?} {promql}"
        );
        assert!(from_prometheus.is_some(), "{name}: no value for {promql}");
        assert!(
            close(same_data, from_prometheus, 1e-9),
            "{name}: same data {same_data:?} vs Prometheus {from_prometheus:?} for {promql}"
        );
    }
    // The second phase had four times the traffic of the first: the trend is well above 0
    // (about +130 % with the windows' edges).
    let trend = eval(
        &cases[2].1,
        &store_from_prometheus(&prometheus, &cases[2].1, at),
        at,
    )
    .scalar()
    .unwrap();
    assert!(trend > 0.5, "{trend}");

    // A previous period before any traffic: no data in both, never 0 %.
    let long_ago = Window::secs(600).unwrap();
    let no_previous = rate.relative_change_since(long_ago).unwrap();
    let promql = no_previous.to_string();
    assert!(prometheus.query_at(&promql, at).is_empty(), "{promql}");
    assert_eq!(
        eval(
            &no_previous,
            &store_from_prometheus(&prometheus, &no_previous, at),
            at
        )
        .scalar(),
        None
    );
    telemetry.shutdown();
}
