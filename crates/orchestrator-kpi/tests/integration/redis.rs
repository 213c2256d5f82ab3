//! Distinct users through a real Redis (Debian package `redis-server`), started on a free
//! loopback port.
#![cfg(feature = "redis")]

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use orchestrator_kpi::{
    ActivityBackend, HyperLogLog, LocalActivity, RedisActivity, RedisActivityConfig,
};
use orchestrator_metrics::{Registry, exposition};
use orchestrator_support::{Clock, ManualClock};
use orchestrator_testkit::services::Redis;

const DAY: Duration = Duration::from_secs(86_400);

#[test]
fn redis_counts_what_the_in_process_sketch_counts() {
    let redis = Redis::start();
    let clock = ManualClock::new(1_795_392_000_000);
    let registry = Registry::new();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let remote = RedisActivity::with_clock(
        RedisActivityConfig::new(redis.url()),
        &registry,
        shared.clone(),
    )
    .unwrap();
    let local = LocalActivity::with_clock(shared);
    // 40 days of traffic: a core of returning users and a stream of new ones.
    for day in 0..40u64 {
        for i in 0..2_000u64 {
            let user = if i < 500 {
                format!("core-{i}")
            } else {
                format!("user-{day}-{i}")
            };
            remote.record(&user);
            local.record(&user);
        }
        remote.flush();
        clock.advance(DAY);
    }
    let now = clock.now_ms() - 1;
    let (r, l) = (remote.counts(now).unwrap(), local.counts(now).unwrap());
    println!("Redis {r:?}\nlocal {l:?}");
    // Same hash, same registers, same estimator: the counts are equal, not just close.
    assert_eq!(r.active, l.active);
    assert_eq!(r.churn, l.churn);
    let mau = l.monthly() as f64;
    let truth = 500.0 + 30.0 * 1_500.0;
    assert!((mau - truth).abs() / truth < 0.02, "MAU {mau} vs {truth}");
    let dropped = exposition::parse(&registry.render())
        .unwrap()
        .sum_where("orchestrator_telemetry_dropped_total", |s| {
            s.label("queue") == Some("user_activity")
        });
    assert_eq!(dropped, 0.0);
}

#[test]
fn a_sketch_serialised_in_redis_format_counts_the_same_in_redis() {
    let redis = Redis::start();
    let sketch = HyperLogLog::new();
    for i in 0..25_000 {
        sketch.insert(format!("id-{i}").as_bytes());
    }
    let client = redis::Client::open(redis.url()).unwrap();
    let mut con = client.get_connection().unwrap();
    redis::cmd("SET")
        .arg("ours")
        .arg(sketch.to_redis_dense())
        .query::<()>(&mut con)
        .unwrap();
    let counted: u64 = redis::cmd("PFCOUNT").arg("ours").query(&mut con).unwrap();
    assert_eq!(counted, sketch.count());
    // And Redis's own sketch of the same ids reads back as ours.
    let ids: Vec<String> = (0..25_000).map(|i| format!("id-{i}")).collect();
    redis::cmd("PFADD")
        .arg("theirs")
        .arg(&ids)
        .query::<()>(&mut con)
        .unwrap();
    let raw: Vec<u8> = redis::cmd("GET").arg("theirs").query(&mut con).unwrap();
    assert_eq!(
        HyperLogLog::from_redis_dense(&raw).unwrap().count(),
        counted
    );
}

#[test]
fn an_unreachable_redis_drops_and_counts_and_never_blocks() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let registry = Registry::new();
    let config = RedisActivityConfig::new(format!("redis://127.0.0.1:{port}/"))
        .queue(100)
        .timeout(Duration::from_millis(200));
    let remote = RedisActivity::new(config, &registry).unwrap();
    let start = Instant::now();
    for i in 0..10_000 {
        remote.record(&format!("u{i}"));
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "record() waited on Redis: {:?}",
        start.elapsed()
    );
    remote.flush();
    assert!(remote.counts(0).is_err());
    let dropped = exposition::parse(&registry.render())
        .unwrap()
        .sum_where("orchestrator_telemetry_dropped_total", |s| {
            s.label("queue") == Some("user_activity")
        });
    assert_eq!(
        dropped, 10_000.0,
        "every user is either sent or counted as dropped"
    );
    assert!(RedisActivity::new(RedisActivityConfig::new("not a url"), &registry).is_err());
}
