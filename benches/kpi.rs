//! Distinct users and KPI evaluation.
//!
//! - `distinct_insert`: adding one user id to the HyperLogLog (12.8 KiB, whatever the
//!   count), beside a `HashSet<u64>` of ids (which grows with every new user). The set is
//!   measured per batch of 1,024 inserts into a fresh set; divide by 1,024 per insert.
//! - `kpi_evaluate`: evaluating the five KPIs over one hour of 15 s samples of the series
//!   they read (10 routes: 241 points for each of 205 series).
//!
//! `cargo bench --bench kpi`

use std::collections::HashSet;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use orchestrator_telemetry::catalogue::buckets::REQUEST_DURATION_SECONDS;
use orchestrator_telemetry::orchestrator_kpi::{HyperLogLog, KpiConfig};
use orchestrator_telemetry::orchestrator_query::{SampleStore, StoreLimits, eval};

const IDS: usize = 1 << 20;

fn distinct(c: &mut Criterion) {
    let ids: Vec<String> = (0..IDS).map(|i| format!("user-{i:08}")).collect();
    let numeric: Vec<u64> = (0..IDS as u64)
        .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .collect();
    let mut group = c.benchmark_group("distinct_insert");
    let sketch = HyperLogLog::new();
    let mut i = 0;
    group.bench_function("hyperloglog_string_id", |b| {
        b.iter(|| {
            i = (i + 1) & (IDS - 1);
            black_box(sketch.insert(ids[i].as_bytes()))
        })
    });
    let mut i = 0;
    group.bench_function("hashset_u64", |b| {
        b.iter_batched_ref(
            || HashSet::with_capacity(1024),
            |set: &mut HashSet<u64>| {
                for _ in 0..1024 {
                    i = (i + 1) & (IDS - 1);
                    black_box(set.insert(numeric[i]));
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn store() -> SampleStore {
    let mut store = SampleStore::new(StoreLimits::default());
    let retention = 40 * 86_400_000;
    for step in 0..=240i64 {
        let t = step * 15_000;
        let n = step as f64;
        for route in 0..10 {
            let base = vec![
                ("route".to_owned(), format!("/v1/route/{route}")),
                ("method".to_owned(), "POST".to_owned()),
            ];
            for (status, share) in [("200", 9.0), ("404", 0.5), ("503", 0.5)] {
                let mut labels = base.clone();
                labels.push(("status".to_owned(), status.to_owned()));
                store.append(
                    "orchestrator_requests_total",
                    &labels,
                    t,
                    n * share,
                    retention,
                );
            }
            let mut cumulative = 0.0;
            for (i, le) in REQUEST_DURATION_SECONDS
                .iter()
                .map(|b| b.to_string())
                .chain(["+Inf".to_owned()])
                .enumerate()
            {
                cumulative += n * (i as f64 + 1.0) / 10.0;
                let mut labels = base.clone();
                labels.push(("le".to_owned(), le));
                store.append(
                    "orchestrator_request_duration_seconds_bucket",
                    &labels,
                    t,
                    cumulative,
                    retention,
                );
            }
        }
        let api = [
            ("component".to_owned(), "api".to_owned()),
            ("kind".to_owned(), "server_error".to_owned()),
        ];
        store.append("orchestrator_errors_total", &api, t, n * 5.0, retention);
        store.append(
            "orchestrator_revenue_usd_total",
            &[],
            t,
            n * 12.5,
            retention,
        );
        store.append(
            "orchestrator_user_satisfaction_score_sum",
            &[],
            t,
            n * 42.0,
            retention,
        );
        store.append(
            "orchestrator_user_satisfaction_score_count",
            &[],
            t,
            n * 5.0,
            retention,
        );
        store.append(
            "orchestrator_active_users",
            &[("window".to_owned(), "30d".to_owned())],
            t,
            6_603.0,
            retention,
        );
    }
    store
}

fn kpis(c: &mut Criterion) {
    let config = KpiConfig::default();
    let store = store();
    let at = 240 * 15_000;
    assert_eq!(store.series_count(), 205);
    for kpi in config.kpis() {
        assert!(
            eval(&kpi.expr, &store, at).scalar().is_some(),
            "{} has no value",
            kpi.id
        );
    }
    let mut group = c.benchmark_group("kpi_evaluate");
    group.bench_function("five_kpis_1h_15s", |b| {
        b.iter(|| {
            for kpi in config.kpis() {
                black_box(eval(&kpi.expr, &store, at));
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = distinct, kpis
}
criterion_main!(benches);
