//! `Expr::total`: the exact increase of a counter over a window, for series younger than
//! the window too, falling back to `increase` where a reset happened. (Equality with a
//! real Prometheus is tested in the workspace's `tests/integration/totals_prometheus.rs`.)

use orchestrator_metrics::catalogue::REQUESTS_TOTAL;
use orchestrator_query::{Expr, SampleStore, Selector, Window, eval};

const NAME: &str = "orchestrator_requests_total";

fn total(secs: u64) -> Expr {
    Expr::total(Selector::of(&REQUESTS_TOTAL), Window::secs(secs).unwrap()).unwrap()
}

fn store(points: &[(i64, f64)]) -> SampleStore {
    let mut store = SampleStore::default();
    for &(t, v) in points {
        store.append(NAME, &[], t, v, 86_400_000);
    }
    store
}

#[test]
fn a_series_younger_than_the_window_counts_from_zero() {
    // First sampled at 7 (made by a request between two samples), then 30: 30 in all.
    let s = store(&[(10_000, 7.0), (25_000, 19.0), (40_000, 30.0)]);
    assert_eq!(eval(&total(3600), &s, 41_000).scalar(), Some(30.0));
    // `increase` extrapolates from the first sample (here back towards zero and on past the
    // last one): not 30.
    let increase =
        Expr::increase(Selector::of(&REQUESTS_TOTAL), Window::secs(3600).unwrap()).unwrap();
    let extrapolated = eval(&increase, &s, 41_000).scalar().unwrap();
    assert!((extrapolated - 30.0).abs() > 0.5, "{extrapolated}");
}

#[test]
fn an_older_series_counts_from_its_value_as_the_window_began() {
    let s = store(&[
        (0, 100.0),
        (60_000, 104.0),
        (120_000, 110.0),
        (180_000, 125.0),
    ]);
    // A 2-minute window at 180 s began at 60 s, when the counter read 104.
    assert_eq!(eval(&total(120), &s, 180_000).scalar(), Some(21.0));
    // An `offset` moves both ends.
    let earlier = total(60).offset(Window::secs(60).unwrap());
    assert_eq!(eval(&earlier, &s, 180_000).scalar(), Some(6.0));
}

#[test]
fn a_reset_in_the_window_or_a_negative_difference_is_prometheus_increase() {
    let increase =
        |secs| Expr::increase(Selector::of(&REQUESTS_TOTAL), Window::secs(secs).unwrap()).unwrap();
    // 10, then a restart: 2, 4.
    let reset = store(&[(0, 5.0), (15_000, 10.0), (30_000, 2.0), (45_000, 4.0)]);
    assert_eq!(
        eval(&total(3600), &reset, 45_000).scalar(),
        eval(&increase(3600), &reset, 45_000).scalar()
    );
    // A restart just before the window: the difference 3 − 50 is negative.
    let before = store(&[(0, 50.0), (70_000, 1.0), (85_000, 3.0)]);
    let got = eval(&total(60), &before, 90_000).scalar();
    assert_eq!(got, eval(&increase(60), &before, 90_000).scalar());
    assert!(got.unwrap() >= 0.0);
}
