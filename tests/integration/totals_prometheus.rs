//! "Last day" totals are exact for a process younger than the day: N requests read N, in
//! the process and in a real Prometheus, for series that existed from the start and series
//! that appeared later with a first sample above zero. A restart inside the window (two
//! processes on one port, one after the other) gives Prometheus's counter-reset handling,
//! in-process and in Prometheus alike.

use crate::kpi_prometheus::{store_from_prometheus, value_of};
use crate::support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use orchestrator_telemetry::Telemetry;
use orchestrator_telemetry::orchestrator_metrics::catalogue::REQUESTS_TOTAL;
use orchestrator_telemetry::orchestrator_query::{Expr, Selector, Window, eval};
use support::Prometheus;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn day_total() -> Expr {
    Expr::total(Selector::of(&REQUESTS_TOTAL), Window::hours(24).unwrap())
        .unwrap()
        .sum()
}

fn day_increase() -> String {
    "sum(increase(orchestrator_requests_total[1d]))".to_owned()
}

#[test]
fn n_requests_in_a_young_process_read_n_in_process_and_in_prometheus() {
    let telemetry = Telemetry::builder()
        .listen("127.0.0.1:0")
        .monitor_interval(Duration::from_millis(250))
        .build()
        .unwrap();
    let prometheus =
        Prometheus::start_with_interval(telemetry.metrics_addr().unwrap(), &[], "250ms");
    prometheus.wait_for_first_scrape();
    // 30 requests over 3 s; each route and status is a series made by its first request,
    // so most series' first sample (in either sampler) is already above zero.
    let requests = telemetry.metrics().requests();
    for i in 0..30u64 {
        let route = ["/v1/chat", "/v1/sessions", "/v1/feedback"][(i % 3) as usize];
        let status = if i % 7 == 6 { 500 } else { 200 };
        requests.record(route, "POST", status, Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(100));
    }
    // Both samplers see the last request, then Prometheus has ingested the scrape.
    std::thread::sleep(Duration::from_secs(1));
    let report = telemetry.evaluate_now().expect("a KPI report");
    let at = report.at;
    std::thread::sleep(Duration::from_millis(500));

    let expr = day_total();
    let promql = expr.to_string();
    let in_process = report
        .figures
        .iter()
        .find(|f| f.id == "requests")
        .and_then(|f| f.value);
    let from_prometheus = value_of(&prometheus.query_at(&promql, at));
    let same_data = eval(&expr, &store_from_prometheus(&prometheus, &expr, at), at).scalar();
    let increase = value_of(&prometheus.query_at(&day_increase(), at));
    println!(
        "30 requests: in-process {in_process:?}, Prometheus {from_prometheus:?}, same data {same_data:?}; increase() gave {increase:?}"
    );
    assert_eq!(in_process, Some(30.0));
    assert_eq!(from_prometheus, Some(30.0));
    assert_eq!(same_data, Some(30.0));
    // The figures' trends read the total `offset` a period: the same in both evaluators.
    let earlier = expr.offset(Window::secs(2).unwrap());
    let promql = earlier.to_string();
    assert!(
        promql.contains("offset 86402s") && promql.contains("[1d] offset 2s"),
        "{promql}"
    );
    let from_prometheus = value_of(&prometheus.query_at(&promql, at));
    let same_data = eval(
        &earlier,
        &store_from_prometheus(&prometheus, &earlier, at),
        at,
    )
    .scalar();
    println!("2 s earlier: Prometheus {from_prometheus:?}, same data {same_data:?}");
    assert!(from_prometheus.is_some_and(|v| v > 0.0 && v <= 30.0));
    assert_eq!(same_data, from_prometheus);
    telemetry.shutdown();
}

#[test]
fn a_restart_inside_the_window_follows_prometheus_counter_reset_handling() {
    let first = Telemetry::builder()
        .listen("127.0.0.1:0")
        .without_monitor()
        .build()
        .unwrap();
    let addr = first.metrics_addr().unwrap();
    let prometheus = Prometheus::start_with_interval(addr, &[], "250ms");
    prometheus.wait_for_first_scrape();
    for _ in 0..10 {
        first
            .metrics()
            .requests()
            .record("/v1/chat", "POST", 200, Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_secs(1));
    first.shutdown();
    // The same service again, on the same address: its counters start over.
    let second = Telemetry::builder()
        .listen(addr.to_string())
        .without_monitor()
        .build()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..4 {
        second
            .metrics()
            .requests()
            .record("/v1/chat", "POST", 200, Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_secs(1));
    let at = now_ms();
    std::thread::sleep(Duration::from_millis(500));

    let expr = day_total();
    let from_prometheus = value_of(&prometheus.query_at(&expr.to_string(), at));
    let same_data = eval(&expr, &store_from_prometheus(&prometheus, &expr, at), at).scalar();
    let increase = value_of(&prometheus.query_at(&day_increase(), at));
    println!(
        "10 then 4 after a restart: Prometheus {from_prometheus:?}, same data {same_data:?}, increase() {increase:?}"
    );
    // The reset sends the series to Prometheus's `increase`, in both evaluators alike: its
    // reset handling adds the value before the reset to what follows, but the first life's
    // series appeared at 10 (made by its first request), which `increase` cannot see, and
    // it extrapolates. So about 4.6 here: the documented case where the total is not exact.
    assert!(from_prometheus.is_some());
    assert_eq!(from_prometheus, increase);
    let (a, b) = (same_data.unwrap(), from_prometheus.unwrap());
    assert!((a - b).abs() <= 1e-9 * b.abs(), "{a} vs {b}");
    assert!((4.0..14.0).contains(&b), "{b}");
    second.shutdown();
}
