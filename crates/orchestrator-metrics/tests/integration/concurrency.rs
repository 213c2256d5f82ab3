//! Many threads recording the same series at once, more threads than the registry has
//! per-thread stripes, some of them exiting and handing their stripe on while others record
//! and a reader renders: no update is lost, `_count` equals the `+Inf` bucket and the sum of
//! the buckets, and no counter a reader sees ever goes down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use orchestrator_metrics::{Metrics, Registry, catalogue};

/// The value of the series whose line starts with `prefix` (name and labels).
fn value(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
}

#[test]
fn no_update_is_lost_and_no_counter_goes_down_under_contention() {
    let registry = Registry::new();
    let metrics = Metrics::new(&registry);
    let revenue = registry
        .counter(&catalogue::REVENUE_USD_TOTAL, &[])
        .expect("revenue counter");
    const WAVES: usize = 3;
    const THREADS: usize = 12;
    const PER_THREAD: u64 = 20_000;
    // Durations and amounts that are exact binary fractions, so the sums are exact whatever
    // order the stripes are added in.
    let slow = Duration::from_millis(500);
    let fast = Duration::from_millis(125);

    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (registry, done) = (registry.clone(), done.clone());
        std::thread::spawn(move || {
            let mut last = 0.0;
            let mut reads = 0;
            while !done.load(Ordering::Acquire) || reads == 0 {
                let text = registry.render();
                let now = value(&text, "orchestrator_revenue_usd_total ");
                assert!(now >= last, "the counter went down: {last} then {now}");
                last = now;
                reads += 1;
            }
            reads
        })
    };
    for _ in 0..WAVES {
        // A new wave of threads: the last wave's stripes were handed back when it exited.
        let start = Arc::new(Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (metrics, revenue, start) = (metrics.clone(), revenue.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    for i in 0..PER_THREAD {
                        let d = if (i + t as u64).is_multiple_of(2) {
                            slow
                        } else {
                            fast
                        };
                        metrics.requests().record("/v1/chat", "POST", 200u16, d);
                        revenue.add(0.25).expect("a valid amount");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("recording thread");
        }
    }
    done.store(true, Ordering::Release);
    let reads = reader.join().expect("reader thread");
    assert!(reads > 0);

    let n = (WAVES * THREADS) as u64 * PER_THREAD;
    let text = registry.render();
    let series = r#"{route="/v1/chat",method="POST"}"#;
    let requests = value(
        &text,
        r#"orchestrator_requests_total{route="/v1/chat",method="POST",status="200"} "#,
    );
    assert_eq!(requests, n as f64);
    let count = value(
        &text,
        &format!("orchestrator_request_duration_seconds_count{series} "),
    );
    let inf = value(
        &text,
        r#"orchestrator_request_duration_seconds_bucket{route="/v1/chat",method="POST",le="+Inf"} "#,
    );
    let sum = value(
        &text,
        &format!("orchestrator_request_duration_seconds_sum{series} "),
    );
    assert_eq!((count, inf), (n as f64, n as f64));
    // Half the requests took 0.5 s, half 0.125 s.
    assert_eq!(sum, (n / 2) as f64 * 0.625);
    let le_0_15 = value(
        &text,
        r#"orchestrator_request_duration_seconds_bucket{route="/v1/chat",method="POST",le="0.15"} "#,
    );
    assert_eq!(le_0_15, (n / 2) as f64);
    assert_eq!(
        value(&text, "orchestrator_revenue_usd_total "),
        n as f64 * 0.25
    );
}
