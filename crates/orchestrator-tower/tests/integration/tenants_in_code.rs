//! A tenant set in code is never lost: inside a request (`set_tenant` in the handler) it
//! bills the calls made after it, spawned work carried with `in_current_trace` included, and
//! counts the request; outside any request the call names it (`LlmCallGuard::tenant`), and a
//! `set_tenant` with nothing to bill says so once.

use crate::support;

use std::process::Command;

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use http::Request;
use orchestrator_metrics::{LlmOutcome, ModelPrice, PriceTable, Registry, TokenUsage};
use orchestrator_tower::{Sampler, TelemetryLayer, TraceFutureExt as _, Tracer, set_tenant};
use support::sum;
use tower::ServiceExt as _;

fn traced() -> (Registry, Tracer) {
    let price = ModelPrice::new(2.0, 1.0, 8.0).unwrap();
    support::priced_tracer(
        PriceTable::new().with_price("openai", "gpt-test", price),
        Sampler::always_on(),
    )
}

/// One call of 1,000 in / 200 out: $0.0036.
fn llm_call(tracer: &Tracer) {
    tracer
        .llm_call("openai", "gpt-test")
        .finish(LlmOutcome::Success, Some(TokenUsage::new(1000, 200)));
}

fn of(registry: &Registry, name: &str, tenant: &str) -> f64 {
    sum(registry, name, |s| s.label("tenant") == Some(tenant))
}

#[tokio::test]
async fn with_a_server_layer_a_tenant_named_in_the_handler_bills_calls_spawned_work_and_the_request()
 {
    let (registry, tracer) = traced();
    let handler = tracer.clone();
    let app = Router::new()
        .route(
            "/v1/chat",
            post(move || {
                let tracer = handler.clone();
                async move {
                    assert!(set_tenant("late-co"));
                    llm_call(&tracer);
                    let spawned = tracer.clone();
                    tokio::spawn(async move { llm_call(&spawned) }.in_current_trace())
                        .await
                        .unwrap();
                    "ok"
                }
            }),
        )
        .layer(TelemetryLayer::server(&tracer));
    let request = Request::post("/v1/chat").body(Body::empty()).unwrap();
    assert_eq!(app.oneshot(request).await.unwrap().status(), 200);
    let cost = of(
        &registry,
        "orchestrator_tenant_llm_cost_usd_total",
        "late-co",
    );
    assert!((cost - 0.0072).abs() < 1e-12, "two calls: {cost}");
    assert_eq!(
        of(&registry, "orchestrator_tenant_requests_total", "late-co"),
        1.0,
        "a request named in code is counted like a header's"
    );
}

#[test]
fn without_a_server_layer_the_call_names_its_tenant() {
    let (registry, tracer) = traced();
    let mut call = tracer.llm_call("openai", "gpt-test");
    call.tenant("batch-co");
    call.finish(LlmOutcome::Success, Some(TokenUsage::new(1000, 200)));
    let cost = of(
        &registry,
        "orchestrator_tenant_llm_cost_usd_total",
        "batch-co",
    );
    assert!((cost - 0.0036).abs() < 1e-12, "{cost}");
    assert_eq!(
        sum(&registry, "orchestrator_tenant_llm_tokens_total", |s| {
            s.label("tenant") == Some("batch-co") && s.label("token_type") == Some("output")
        }),
        200.0
    );
}

/// Names the child process's case.
const CHILD: &str = "ORCHESTRATOR_TOWER_TEST_SET_TENANT_OUTSIDE";

#[test]
fn set_tenant_outside_any_request_says_so_once() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tenants_in_code::child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, "1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{stderr}"
    );
    let warnings: Vec<_> = stderr
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("set_tenant called outside"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("LlmCallGuard::tenant"), "{stderr}");
}

/// Run by [`set_tenant_outside_any_request_says_so_once`] in a process of its own (the
/// warning is once per process).
#[test]
fn child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    assert!(!set_tenant("nobody"));
    assert!(!set_tenant("nobody-again"));
}
