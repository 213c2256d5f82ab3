//! Issue 16 item 9: each KPI's trend against its previous window, evaluated in-process once
//! the store holds the whole previous window, "no data" before (never 0), and formatted in
//! the KPI's unit.

use orchestrator_kpi::{KpiConfig, KpiEngine, KpiUnit};
use orchestrator_metrics::Registry;
use orchestrator_query::{SampleStore, Window};

const MINUTE: i64 = 60_000;

/// 2 % of API requests failing for the first 5 minutes, then 5 %: 100 requests a second.
fn store(minutes: i64) -> SampleStore {
    let mut store = SampleStore::default();
    let (mut requests, mut errors) = (0.0, 0.0);
    for s in 0..=minutes * 60 {
        if s > 0 {
            requests += 100.0;
            errors += if s <= 5 * 60 { 2.0 } else { 5.0 };
        }
        let t = s * 1000;
        store.append(
            "orchestrator_requests_total",
            &[],
            t,
            requests,
            i64::MAX / 4,
        );
        store.append(
            "orchestrator_errors_total",
            &[("component".into(), "api".into())],
            t,
            errors,
            i64::MAX / 4,
        );
    }
    store
}

fn engine() -> KpiEngine {
    let config = KpiConfig::default()
        .window("error_rate", Window::minutes(5).unwrap())
        .unwrap();
    KpiEngine::new(config, &Registry::new()).unwrap()
}

#[test]
fn the_trend_is_the_change_against_the_previous_window() {
    let report = engine().report(&store(10), 10 * MINUTE);
    let error_rate = report.get("error_rate").unwrap();
    assert!((error_rate.value.unwrap() - 0.05).abs() < 1e-9);
    // A ratio's trend is a difference: 5 % now, 2 % one window ago, so +3 points.
    let trend = error_rate.trend.unwrap();
    assert!((trend - 0.03).abs() < 1e-9, "{trend}");
    assert_eq!(error_rate.unit.format_trend(trend), "+3.00 pts");
}

#[test]
fn without_the_whole_previous_window_the_trend_is_no_data() {
    // 7 minutes held: the previous window (minutes 0 to 5 before minus 5) is not whole.
    let report = engine().report(&store(7), 7 * MINUTE);
    let error_rate = report.get("error_rate").unwrap();
    assert!(error_rate.value.is_some());
    assert_eq!(error_rate.trend, None);
    // The 30-day KPIs have no previous window after 10 minutes either.
    let report = engine().report(&store(10), 10 * MINUTE);
    assert!(
        report
            .results
            .iter()
            .filter(|r| r.id != "error_rate")
            .all(|r| r.trend.is_none()),
        "{report:?}"
    );
}

#[test]
fn counts_and_money_trend_relatively() {
    assert!(KpiUnit::Users.relative_trend() && KpiUnit::Usd.relative_trend());
    assert!(!KpiUnit::Score10.relative_trend());
    let rpu = KpiConfig::default();
    let rpu = rpu
        .kpis()
        .iter()
        .find(|k| k.id == "revenue_per_user")
        .unwrap();
    let trend = rpu.trend().unwrap().to_string();
    assert!(
        trend.contains("offset 30d") && trend.contains(" / ("),
        "{trend}"
    );
}

/// The business figures: the last period's totals, and their relative change against the
/// period before once the store holds it whole.
#[test]
fn business_figures_trend_against_the_period_before() {
    let config = KpiConfig::default()
        .trend_period(Window::minutes(5).unwrap())
        .unwrap();
    let engine = KpiEngine::new(config, &Registry::new()).unwrap();
    let ids: Vec<&str> = engine
        .report(&SampleStore::default(), 0)
        .figures
        .iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(
        ids,
        [
            "revenue",
            "llm_spend",
            "sessions",
            "conversions",
            "requests"
        ]
    );
    // 100 requests a second throughout: the same in both periods, a +0 % trend.
    let report = engine.report(&store(10), 10 * MINUTE);
    let requests = report.figures.iter().find(|f| f.id == "requests").unwrap();
    assert!(
        (requests.value.unwrap() - 30_000.0).abs() < 1e-6,
        "{requests:?}"
    );
    assert!(requests.trend.unwrap().abs() < 1e-9, "{requests:?}");
    assert_eq!(requests.unit.format_trend(requests.trend.unwrap()), "+0.0%");
    // Revenue was never recorded: no value, no trend.
    let revenue = report.figures.iter().find(|f| f.id == "revenue").unwrap();
    assert_eq!((revenue.value, revenue.trend), (None, None));
    // Seven minutes held: the period before is not whole yet.
    let early = engine.report(&store(7), 7 * MINUTE);
    let requests = early.figures.iter().find(|f| f.id == "requests").unwrap();
    assert!(requests.value.is_some() && requests.trend.is_none());
}
