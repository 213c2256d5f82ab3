//! Issue 16 item 6: the sampler visits the local registry in place (no exposition built)
//! and stores exactly what ingesting the rendered text stores: same series, same labels
//! (hostile values included), same points, staleness markers included, tick after tick.

use std::time::Duration;

use orchestrator_metrics::catalogue::{ACTIVE_USERS, REQUEST_DURATION_SECONDS, REQUESTS_TOTAL};
use orchestrator_metrics::{Metrics, Registry};
use orchestrator_query::{Expr, SampleStore, Sampler, Selector, Window};

type Dump = Vec<(String, Vec<(String, String)>, Vec<(i64, u64)>)>;

/// Every series with its points (values as bits, so a staleness marker compares equal).
fn dump(store: &SampleStore) -> Dump {
    let mut all: Dump = store
        .iter()
        .map(|s| {
            (
                s.name().to_owned(),
                s.labels().to_vec(),
                s.range(i64::MIN, i64::MAX)
                    .map(|(t, v)| (t, v.to_bits()))
                    .collect(),
            )
        })
        .collect();
    all.sort();
    all
}

fn watching(registry: &Registry) -> Sampler {
    let w = Window::minutes(5).unwrap();
    let mut sampler = Sampler::local(registry);
    sampler.watch(&Expr::rate(Selector::of(&REQUESTS_TOTAL), w).unwrap().sum());
    sampler.watch(
        &Expr::histogram_quantile_of(0.95, Selector::buckets(&REQUEST_DURATION_SECONDS), w)
            .unwrap(),
    );
    sampler.watch(&Expr::histogram_mean(&REQUEST_DURATION_SECONDS, w).unwrap());
    sampler.watch(&Expr::value(Selector::of(&ACTIVE_USERS).eq("window", "30d")).unwrap());
    sampler
}

#[test]
fn visiting_in_place_stores_what_ingesting_the_text_stores() {
    let registry = Registry::new();
    let metrics = Metrics::new(&registry);
    let users = registry.gauge(&ACTIVE_USERS, &["30d"]).unwrap();
    let hostile = [
        "/plain",
        "/quote \" in",
        "/back\\slash",
        "/new\nline",
        "/ünïcode ✓",
    ];
    let mut visited = watching(&registry);
    let mut ingested = watching(&registry);
    for (tick, at) in [1_000i64, 16_000, 31_000, 46_000].into_iter().enumerate() {
        for (i, route) in hostile.iter().enumerate() {
            for _ in 0..=(tick + i) {
                metrics.requests().record(
                    route,
                    "POST",
                    if i % 2 == 0 { 200 } else { 503 },
                    Duration::from_millis(7 * (i as u64 + 1) * (tick as u64 + 1)),
                );
            }
        }
        // The gauge is set, then cleared (absent: a staleness marker), then set again.
        match tick {
            1 => users.clear(),
            _ => {
                let _ = users.set(10.0 * (tick + 1) as f64);
            }
        }
        let n = visited.sample(at).unwrap();
        let m = ingested.ingest(&registry.render(), at).unwrap();
        assert_eq!(n, m, "tick {tick}: points stored");
        assert_eq!(
            dump(visited.store()),
            dump(ingested.store()),
            "tick {tick}: the two stores differ"
        );
    }
    assert!(visited.store().series_count() > 5 * 15);
}
