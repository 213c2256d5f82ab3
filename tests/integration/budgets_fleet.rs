//! Budgets shared through a real Redis: three replicas hold one budget (64 concurrent calls
//! through their reqwest clients to a provider on loopback that counts them; exactly the
//! calls that fit are made), a restarted process resumes the spend, and Redis lost mid-run
//! keeps serving (fail-open) or refuses naming the cause (fail-closed), both recovering
//! when Redis returns.
#![cfg(all(feature = "redis", feature = "reqwest"))]

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use orchestrator_telemetry::orchestrator_kpi::RedisBudgetConfig;
use orchestrator_telemetry::{
    Budget, BudgetExceeded, BudgetPeriod, FailMode, LlmOutcome, ModelPrice, OpenAiCompatible,
    Policy, PriceTable, Telemetry, TelemetryGuard, TelemetryMiddleware, TokenUsage, bound_of_body,
    exposition,
};
use orchestrator_testkit::provider::gated_chat_provider;
use orchestrator_testkit::services::Redis;

const BODY: &str =
    r#"{"model":"gpt-4o-mini","max_tokens":200,"messages":[{"role":"user","content":"Hello"}]}"#;

fn price() -> ModelPrice {
    ModelPrice::new(0.15, 0.075, 0.6).unwrap()
}

fn worst() -> f64 {
    bound_of_body(BODY.as_bytes()).worst_cost(&price())
}

/// Telemetry with nothing running beside it, pricing gpt-4o-mini.
fn quiet() -> orchestrator_telemetry::TelemetryBuilder {
    Telemetry::builder()
        .without_listener()
        .without_process_collector()
        .without_monitor()
        .ignore_otel_env()
        .prices(PriceTable::new().with_price("openai", "gpt-4o-mini", price()))
}

/// A replica whose enforced service-wide budget fits `fit` worst cases, kept in `redis`.
fn replica(redis: &str, prefix: &str, fit: f64, fail: FailMode) -> TelemetryGuard {
    quiet()
        .budget(
            Budget::new("*", BudgetPeriod::Day, worst() * fit)
                .unwrap()
                .enforce(Policy::Reject),
        )
        .redis_budgets(
            RedisBudgetConfig::new(redis)
                .key_prefix(prefix)
                .timeout(Duration::from_millis(300)),
            fail,
        )
        .build()
        .expect("a replica")
}

fn sum(telemetry: &TelemetryGuard, name: &str, keep: impl Fn(&exposition::Sample) -> bool) -> f64 {
    exposition::parse(&telemetry.registry().render())
        .unwrap()
        .sum_where(name, keep)
}

fn rejections(telemetry: &TelemetryGuard) -> f64 {
    sum(
        telemetry,
        "orchestrator_tenant_budget_rejections_total",
        |_| true,
    )
}

/// `orchestrator_tenant_budget_shared` once it reads `value` (1: the fleet's spend; 0: this
/// process's own, the store unreachable), within 10 s.
fn eventually_shared(telemetry: &TelemetryGuard, value: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while sum(telemetry, "orchestrator_tenant_budget_shared", |_| true) != value {
        assert!(
            Instant::now() < deadline,
            "the budget's figure never became shared={value}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn store_failures(telemetry: &TelemetryGuard) -> f64 {
    sum(telemetry, "orchestrator_telemetry_dropped_total", |s| {
        s.label("queue") == Some("budget_store")
    })
}

#[test]
fn three_replicas_hold_one_budget_through_redis() {
    let redis = Redis::start();
    let runtime = crate::support::runtime();
    let replicas: Vec<TelemetryGuard> = (0..3)
        .map(|_| replica(&redis.url(), "fleet-test", 10.5, FailMode::Closed))
        .collect();
    let (open, shut) = tokio::sync::watch::channel(false);
    let (url, hits) = runtime.block_on(gated_chat_provider(shut));
    let clients: Vec<_> = replicas
        .iter()
        .map(|r| {
            orchestrator_telemetry::reqwest_middleware::ClientBuilder::new(
                orchestrator_telemetry::reqwest::Client::new(),
            )
            .with(TelemetryMiddleware::llm(
                r.tracer(),
                "openai",
                OpenAiCompatible,
            ))
            .build()
        })
        .collect();
    let calls: Vec<_> = (0..64)
        .map(|i| {
            let (client, url) = (clients[i % 3].clone(), url.clone());
            runtime.spawn(async move {
                match client.post(url).body(BODY).send().await {
                    Ok(response) => {
                        response.text().await.unwrap();
                        false
                    }
                    Err(orchestrator_telemetry::reqwest_middleware::Error::Middleware(e)) => {
                        assert!(e.downcast_ref::<BudgetExceeded>().is_some(), "{e}");
                        true
                    }
                    Err(other) => panic!("{other}"),
                }
            })
        })
        .collect();
    let refused_so_far = || replicas.iter().map(rejections).sum::<f64>() as usize;
    let deadline = Instant::now() + Duration::from_secs(20);
    while hits.load(Ordering::SeqCst) + refused_so_far() < 64 {
        assert!(Instant::now() < deadline, "calls stuck");
        std::thread::sleep(Duration::from_millis(10));
    }
    open.send(true).unwrap();
    let refused = calls
        .into_iter()
        .map(|call| runtime.block_on(call).unwrap())
        .filter(|refused| *refused)
        .count();
    assert_eq!(refused, 54);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        10,
        "exactly the calls that fit, fleet-wide"
    );
    assert_eq!(refused_so_far(), 54);
    let spent: f64 = replicas
        .iter()
        .map(|r| sum(r, "orchestrator_llm_cost_usd_total", |_| true))
        .sum();
    assert!(spent <= worst() * 10.5, "{spent}");
}

#[test]
fn a_restarted_process_resumes_its_budget_from_redis() {
    let redis = Redis::start();
    let bound = bound_of_body(BODY.as_bytes());
    let first = replica(&redis.url(), "restart-test", 100.0, FailMode::Closed);
    for _ in 0..5 {
        let call = first
            .tracer()
            .try_llm_call("openai", "gpt-4o-mini", None, bound)
            .unwrap();
        call.finish(LlmOutcome::Success, Some(TokenUsage::new(40, 12)));
    }
    let spent = 5.0 * price().cost(&TokenUsage::new(40, 12));
    drop(first); // its queue is sent before it goes
    let second = replica(&redis.url(), "restart-test", 100.0, FailMode::Closed);
    let expected = spent / (worst() * 100.0);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ratio = sum(&second, "orchestrator_tenant_budget_spend_ratio", |_| true);
        if (ratio - expected).abs() < 1e-9 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the ratio resumes from Redis: {ratio} (expected {expected})"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn redis_lost_mid_run_fails_open_or_closed_and_both_recover() {
    let mut redis = Redis::start();
    let bound = bound_of_body(BODY.as_bytes());
    let open = replica(&redis.url(), "lost-test", 100.0, FailMode::Open);
    let closed = replica(&redis.url(), "lost-test", 100.0, FailMode::Closed);
    for r in [&open, &closed] {
        let call = r
            .tracer()
            .try_llm_call("openai", "gpt-4o-mini", None, bound);
        assert!(call.is_ok(), "admitted through Redis");
    }
    eventually_shared(&open, 1.0);
    redis.stop();
    // The page and `/api/v1` mark the figure as this process's own while Redis is away.
    eventually_shared(&open, 0.0);
    let kept = open
        .tracer()
        .try_llm_call("openai", "gpt-4o-mini", None, bound)
        .expect("fail-open keeps serving");
    kept.finish(LlmOutcome::Success, Some(TokenUsage::new(40, 12)));
    assert!(store_failures(&open) >= 1.0, "counted");
    let refused = closed
        .tracer()
        .try_llm_call("openai", "gpt-4o-mini", None, bound)
        .unwrap_err();
    let cause = refused
        .unavailable
        .clone()
        .expect("refused because Redis is away");
    assert!(refused.to_string().contains("fail-closed"), "{refused}");
    assert!(!cause.is_empty());
    assert!(store_failures(&closed) >= 1.0);
    redis.restart();
    for r in [&open, &closed] {
        let deadline = Instant::now() + Duration::from_secs(10);
        while r
            .tracer()
            .try_llm_call("openai", "gpt-4o-mini", None, bound)
            .is_err()
        {
            assert!(Instant::now() < deadline, "recovers when Redis returns");
            std::thread::sleep(Duration::from_millis(100));
        }
        eventually_shared(r, 1.0);
    }
}

/// The bad-input rows: a tenant name with control characters, and 10,000 distinct tenants,
/// add no key of their own to Redis: keys carry a hash of a configured budget's tenant, one
/// pair per configured budget.
#[test]
fn hostile_and_countless_tenants_leave_the_redis_key_space_bounded() {
    let redis = Redis::start();
    let evil = "evil\n\u{7}tenant:{*}\u{0}";
    let telemetry = quiet()
        .budget(
            Budget::new(evil, BudgetPeriod::Day, 1.0)
                .unwrap()
                .enforce(Policy::Reject),
        )
        .budget(
            Budget::new("*", BudgetPeriod::Day, 1_000.0)
                .unwrap()
                .enforce(Policy::Reject),
        )
        .redis_budgets(
            RedisBudgetConfig::new(redis.url()).key_prefix("keys-test"),
            FailMode::Closed,
        )
        .build()
        .unwrap();
    let bound = bound_of_body(BODY.as_bytes());
    let call = telemetry
        .tracer()
        .try_llm_call("openai", "gpt-4o-mini", Some(evil), bound)
        .expect("a hostile name is a tenant like another");
    call.finish(LlmOutcome::Success, Some(TokenUsage::new(40, 12)));
    for i in 0..10_000 {
        let tenant = format!("tenant-{i}");
        let call = telemetry
            .tracer()
            .try_llm_call("openai", "gpt-4o-mini", Some(&tenant), bound)
            .unwrap();
        drop(call);
    }
    drop(telemetry); // its queue sent
    let port = redis
        .url()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let scan = std::process::Command::new("redis-cli")
        .args(["-p", &port, "--scan", "--pattern", "*"])
        .output()
        .expect("redis-cli, from Debian's redis-tools beside redis-server");
    let keys: Vec<String> = String::from_utf8(scan.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(!keys.is_empty());
    for key in &keys {
        let parts: Vec<&str> = key.split(':').collect();
        assert!(
            parts.len() == 4
                && parts[0] == "keys-test"
                && parts[1].len() == 16
                && parts[1].bytes().all(|b| b.is_ascii_hexdigit())
                && parts[2] == "1d"
                && ["spend", "holds"].contains(&parts[3]),
            "a key of a configured budget, the tenant hashed: {key:?}"
        );
    }
    assert!(
        keys.len() <= 4,
        "two budgets, two keys each at most: {keys:?}"
    );
}
