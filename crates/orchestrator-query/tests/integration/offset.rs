//! `offset`: rendered as PromQL on every selector, evaluated in-process at the earlier time,
//! and counted in how far back the store must keep samples. (Equality with a real
//! Prometheus is tested in the workspace's `tests/integration/kpi_prometheus.rs`.)

use orchestrator_metrics::catalogue::{ACTIVE_USERS, REQUESTS_TOTAL, SESSIONS_TOTAL};
use orchestrator_query::{Expr, SampleStore, Selector, Window, eval};

fn w(secs: u64) -> Window {
    Window::secs(secs).unwrap()
}

#[test]
fn offset_is_written_after_every_selector_and_nested_offsets_add_up() {
    let rate = Expr::rate(Selector::of(&REQUESTS_TOTAL), w(300))
        .unwrap()
        .sum();
    assert_eq!(
        rate.clone().offset(w(86_400)).to_string(),
        "sum(rate(orchestrator_requests_total[5m] offset 1d))"
    );
    assert_eq!(
        rate.clone().offset(w(3600)).offset(w(60)).to_string(),
        "sum(rate(orchestrator_requests_total[5m] offset 61m))"
    );
    let users = Expr::value(Selector::of(&ACTIVE_USERS).eq("window", "30d")).unwrap();
    assert_eq!(
        users.offset(w(86_400)).to_string(),
        r#"orchestrator_active_users{window="30d"} offset 1d"#
    );
    let absent = Expr::absent(Selector::of(&SESSIONS_TOTAL)).unwrap();
    assert_eq!(
        absent.offset(w(60)).to_string(),
        "absent(orchestrator_sessions_total offset 1m)"
    );
    let recorded = rate
        .clone()
        .recorded("orchestrator:requests:rate5m", &[])
        .unwrap();
    assert_eq!(
        recorded.offset(w(3600)).to_string(),
        "orchestrator:requests:rate5m offset 1h"
    );
}

#[test]
fn trends_render_with_the_previous_period_as_denominator() {
    let rate = Expr::rate(Selector::of(&REQUESTS_TOTAL), w(300))
        .unwrap()
        .sum();
    assert_eq!(
        rate.clone().change_since(w(86_400)).unwrap().to_string(),
        "sum(rate(orchestrator_requests_total[5m])) - sum(rate(orchestrator_requests_total[5m] offset 1d))"
    );
    assert_eq!(
        rate.relative_change_since(w(86_400)).unwrap().to_string(),
        "(sum(rate(orchestrator_requests_total[5m])) - sum(rate(orchestrator_requests_total[5m] offset 1d))) / (sum(rate(orchestrator_requests_total[5m] offset 1d)) > 0)"
    );
}

#[test]
fn offset_reads_further_back() {
    let rate = Expr::rate(Selector::of(&REQUESTS_TOTAL), w(300)).unwrap();
    let reach: Vec<_> = rate
        .offset(w(3600))
        .selectors()
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    assert_eq!(reach, [Some(w(3900))]);
    let value = Expr::value(Selector::of(&SESSIONS_TOTAL)).unwrap();
    assert_eq!(value.clone().selectors()[0].1, None);
    assert_eq!(value.offset(w(60)).selectors()[0].1, Some(w(60)));
}

#[test]
fn offset_evaluates_at_the_earlier_time_and_no_previous_period_is_no_data() {
    let mut store = SampleStore::default();
    // 1 session per second for 10 minutes, then 3 per second for 10 minutes.
    let mut total = 0.0;
    for s in 0..=1200 {
        if s > 0 {
            total += if s <= 600 { 1.0 } else { 3.0 };
        }
        store.append(
            "orchestrator_sessions_total",
            &[],
            s * 1000,
            total,
            i64::MAX / 4,
        );
    }
    let at = 1_200_000;
    let rate = Expr::rate(Selector::of(&SESSIONS_TOTAL), w(60))
        .unwrap()
        .sum();
    let now = eval(&rate, &store, at).scalar().unwrap();
    let before = eval(&rate.clone().offset(w(600)), &store, at)
        .scalar()
        .unwrap();
    assert!(
        (now - 3.0).abs() < 1e-9 && (before - 1.0).abs() < 1e-9,
        "{now} {before}"
    );
    assert_eq!(
        eval(&rate.clone().offset(w(600)), &store, at),
        eval(&rate, &store, at - 600_000)
    );
    let trend = rate.clone().relative_change_since(w(600)).unwrap();
    assert!((eval(&trend, &store, at).scalar().unwrap() - 2.0).abs() < 1e-9);
    let change = rate.clone().change_since(w(600)).unwrap();
    assert!((eval(&change, &store, at).scalar().unwrap() - 2.0).abs() < 1e-9);
    // Before the first sample: no previous period, so no trend (never 0 %).
    assert_eq!(
        eval(&rate.relative_change_since(w(3600)).unwrap(), &store, at).scalar(),
        None
    );
}

#[test]
fn has_offset_finds_an_offset_anywhere_in_the_expression() {
    let rate = Expr::rate(Selector::of(&REQUESTS_TOTAL), w(300))
        .unwrap()
        .sum();
    assert!(!rate.has_offset());
    assert!(rate.clone().offset(w(60)).has_offset());
    assert!(rate.clone().change_since(w(60)).unwrap().has_offset());
    assert!(
        rate.relative_change_since(w(60))
            .unwrap()
            .recorded("orchestrator:trend", &[])
            .unwrap()
            .has_offset()
    );
}
