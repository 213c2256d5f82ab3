//! Budgets that hold the line: 64 concurrent calls against a budget that allows 10 of them,
//! through the reqwest middleware to a real provider on loopback (each call it answers is
//! counted there), through `BudgetLayer` in front of the layer, and through the guard's
//! `try_llm_call`. Exactly the calls that fit are made; the spend never passes the budget;
//! holds are released once the calls are charged, the difference to the real cost
//! included.
#![cfg(feature = "reqwest")]

use crate::support;

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use orchestrator_metrics::{
    Budget, BudgetExceeded, BudgetPeriod, LlmOutcome, Metrics, ModelPrice, Policy, PriceTable,
    Registry, TokenUsage,
};
use orchestrator_testkit::provider::gated_chat_provider;
use orchestrator_tower::{
    BudgetLayer, CallBound, GenAiRequest, OpenAiCompatible, ReqwestService, Sampler,
    TelemetryLayer, TelemetryMiddleware, Tracer, bound_of_body,
};
use tower::{Layer as _, ServiceExt as _};

const BODY: &str =
    r#"{"model":"gpt-4o-mini","max_tokens":200,"messages":[{"role":"user","content":"Hello"}]}"#;

fn price() -> ModelPrice {
    ModelPrice::new(0.15, 0.075, 0.6).unwrap()
}

/// What one call of `BODY` may cost at most.
fn worst() -> f64 {
    bound_of_body(BODY.as_bytes()).worst_cost(&price())
}

/// A tracer whose service-wide budget (`*`, enforced) allows exactly `fit` calls of `BODY`.
fn tracer(fit: usize) -> (Registry, Tracer, f64) {
    let usd = worst() * (fit as f64 + 0.5);
    let registry = Registry::new();
    let metrics = Metrics::builder()
        .prices(PriceTable::new().with_price("openai", "gpt-4o-mini", price()))
        .budget(
            Budget::new("*", BudgetPeriod::Day, usd)
                .unwrap()
                .enforce(Policy::Reject),
        )
        .build(&registry);
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_off())
        .build()
        .unwrap();
    (registry, tracer, usd)
}

/// A provider that answers after 300 ms.
async fn provider() -> (String, Arc<AtomicUsize>) {
    let (open, shut) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = open.send(true);
        open.closed().await;
    });
    gated_chat_provider(shut).await
}

fn spent(registry: &Registry) -> f64 {
    support::sum(
        registry,
        "orchestrator_tenant_budget_spend_usd_total",
        |_| true,
    )
}

fn rejections(registry: &Registry) -> f64 {
    support::sum(
        registry,
        "orchestrator_tenant_budget_rejections_total",
        |_| true,
    )
}

/// One real call's cost: 40 tokens in, 12 out.
fn real_cost() -> f64 {
    price().cost(&TokenUsage::new(40, 12))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_reqwest_calls_ten_fit_ten_are_made() {
    let (open, shut) = tokio::sync::watch::channel(false);
    let (url, hits) = gated_chat_provider(shut).await;
    let (registry, tracer, budget) = tracer(10);
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TelemetryMiddleware::llm(
            &tracer,
            "openai",
            OpenAiCompatible,
        ))
        .build();
    let calls: Vec<_> = (0..64)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let sent = client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(BODY)
                    .send()
                    .await;
                match sent {
                    Ok(response) => {
                        response.text().await.unwrap();
                        None
                    }
                    Err(reqwest_middleware::Error::Middleware(e)) => Some(
                        e.downcast_ref::<BudgetExceeded>()
                            .cloned()
                            .expect("a refusal"),
                    ),
                    Err(other) => panic!("{other}"),
                }
            })
        })
        .collect();
    // Every call admitted (and at the provider) or refused before any is answered.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while hits.load(Ordering::SeqCst) + (rejections(&registry) as usize) < 64 {
        assert!(tokio::time::Instant::now() < deadline, "calls stuck");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    open.send(true).unwrap();
    let mut refused = Vec::new();
    for call in calls {
        refused.extend(call.await.unwrap());
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        10,
        "exactly the calls that fit were made"
    );
    assert_eq!(refused.len(), 54);
    assert_eq!(rejections(&registry), 54.0);
    let outcome = |o: &'static str| {
        support::sum(&registry, "orchestrator_llm_requests_total", move |s| {
            s.labels.iter().any(|(k, v)| k == "outcome" && v == o)
        })
    };
    assert_eq!(
        outcome("rejected_budget"),
        54.0,
        "the refusal is the call's outcome"
    );
    assert_eq!(outcome("success"), 10.0);
    let r = &refused[0];
    assert_eq!((r.tenant.as_str(), r.period), ("*", "1d"));
    assert!((r.needed_usd - worst()).abs() < 1e-12);
    assert!(
        spent(&registry) <= budget,
        "{} > {budget}",
        spent(&registry)
    );
    assert!(
        (spent(&registry) - 10.0 * real_cost()).abs() < 1e-12,
        "charged the real cost"
    );
    // The holds are released: room again for what the real spend left.
    let again = client.post(&url).body(BODY).send().await;
    assert!(again.is_ok(), "admitted once the holds were released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budget_layer_refuses_before_the_layer_sends() {
    let (url, hits) = provider().await;
    let (registry, tracer, _) = tracer(1);
    let client = BudgetLayer::new(&tracer).layer(
        TelemetryLayer::llm(&tracer, OpenAiCompatible)
            .layer(ReqwestService::new(reqwest::Client::new())),
    );
    let request = || {
        let mut request = http::Request::post(&url)
            .header("content-type", "application/json")
            .body(reqwest::Body::from(BODY))
            .unwrap();
        request.extensions_mut().insert(GenAiRequest {
            operation: "chat",
            provider: Cow::Borrowed("openai"),
            model: Cow::Borrowed("gpt-4o-mini"),
            prompt: None,
        });
        request
            .extensions_mut()
            .insert(bound_of_body(BODY.as_bytes()));
        request
    };
    let first = client.clone().oneshot(request());
    let second = client.clone().oneshot(request());
    let (first, second) = tokio::join!(first, second);
    let (ok, err) = match (first, second) {
        (Ok(ok), Err(err)) | (Err(err), Ok(ok)) => (ok, err),
        other => panic!("one admitted, one refused: {:?}", other.1.is_ok()),
    };
    assert!(err.downcast_ref::<BudgetExceeded>().is_some(), "{err}");
    reqwest::Response::from(ok.map(reqwest::Body::wrap))
        .text()
        .await
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(rejections(&registry), 1.0);
    assert!((spent(&registry) - real_cost()).abs() < 1e-12);
}

#[test]
fn the_guard_refuses_before_the_call_and_settles_to_the_real_cost() {
    let (registry, tracer, budget) = tracer(2);
    let bound = bound_of_body(BODY.as_bytes());
    let a = tracer
        .try_llm_call("openai", "gpt-4o-mini", None, bound)
        .expect("fits");
    let b = tracer
        .try_llm_call("openai", "gpt-4o-mini", None, bound)
        .expect("fits");
    let refused = tracer
        .try_llm_call("openai", "gpt-4o-mini", None, bound)
        .unwrap_err();
    assert!(
        refused.spent_usd > budget - worst(),
        "two holds: {}",
        refused.spent_usd
    );
    // One ends with usage far below its hold: the difference is released.
    a.finish(LlmOutcome::Success, Some(TokenUsage::new(40, 12)));
    let c = tracer
        .try_llm_call("openai", "gpt-4o-mini", None, bound)
        .expect("room freed by the difference");
    // One fails without usage: it settles nothing (and the accounting counts no cost).
    b.finish(LlmOutcome::Error, None);
    // One is dropped (cancelled): its hold goes too.
    drop(c);
    assert!((spent(&registry) - real_cost()).abs() < 1e-12);
    let d = tracer.try_llm_call("openai", "gpt-4o-mini", None, bound);
    let e = tracer.try_llm_call("openai", "gpt-4o-mini", None, bound);
    assert!(d.is_ok() && e.is_ok(), "every hold released");
    assert_eq!(rejections(&registry), 1.0);
}

/// The bad-input rows: no `max_tokens` is reserved at the default cap; an absurd one is
/// capped, refused as dearer than the budget, never an overflow.
#[test]
fn a_request_without_or_with_an_absurd_max_tokens() {
    let none = bound_of_body(br#"{"model":"gpt-4o-mini","messages":[]}"#);
    assert_eq!(none.max_output_tokens, None);
    assert!(
        (none.worst_cost(&price())
            - price().cost(&TokenUsage::new(
                none.input_bytes,
                orchestrator_metrics::DEFAULT_RESERVED_OUTPUT_TOKENS
            )))
        .abs()
            < 1e-12
    );
    let absurd = bound_of_body(br#"{"model":"gpt-4o-mini","max_tokens":1000000000}"#);
    assert_eq!(absurd.max_output_tokens, Some(1_000_000_000));
    let (_, tracer, _) = tracer(10);
    let refused = tracer
        .try_llm_call("openai", "gpt-4o-mini", None, absurd)
        .unwrap_err();
    assert!(refused.needed_usd.is_finite());
    assert_eq!(refused.retry_after, None, "it will never fit");
    let gemini = bound_of_body(br#"{"generationConfig":{"maxOutputTokens":64}}"#);
    assert_eq!(gemini.max_output_tokens, Some(64));
    let fractional = bound_of_body(br#"{"max_tokens":12.5}"#);
    assert_eq!(
        fractional.max_output_tokens, None,
        "not a whole number: no cap"
    );
    let _ = CallBound::default();
}

/// An agent's enforced spend limit holds like a budget: steps whose worst case would take the
/// run past it are refused before they start, counted once per run as the limit crossed and
/// as `rejected_budget`; a sub-agent's steps count against the enclosing run's limit; the
/// holds go once the steps are charged.
#[test]
fn an_agent_runs_enforced_spend_limit_refuses_the_step_that_would_pass_it() {
    let registry = Registry::new();
    let metrics = Metrics::builder()
        .prices(PriceTable::new().with_price("openai", "gpt-4o-mini", price()))
        .build(&registry);
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_off())
        .agent_limits(
            "researcher",
            orchestrator_tower::AgentLimits::new()
                .max_cost_usd(worst() * 2.5)
                .enforce_cost(),
        )
        .build()
        .unwrap();
    let bound = bound_of_body(BODY.as_bytes());
    let step = |tracer: &Tracer| tracer.try_llm_call("openai", "gpt-4o-mini", None, bound);
    let run = tracer.agent_run("researcher");
    let (first, second, third) = run.in_scope(|| (step(&tracer), step(&tracer), step(&tracer)));
    let (first, second) = (first.expect("fits"), second.expect("fits"));
    let refused = third.unwrap_err();
    assert_eq!(
        (refused.tenant.as_str(), refused.period),
        ("agent:researcher", "run")
    );
    // A sub-agent's step counts against the enclosing run's limit too.
    let planner = run.in_scope(|| tracer.agent_run("planner"));
    assert!(
        planner.in_scope(|| step(&tracer)).is_err(),
        "the parent run has no room"
    );
    drop(planner);
    first.finish(LlmOutcome::Success, Some(TokenUsage::new(40, 12)));
    second.finish(LlmOutcome::Success, Some(TokenUsage::new(40, 12)));
    // Charged far below their worst cases: room again, from what was really spent.
    let again = run
        .in_scope(|| step(&tracer))
        .expect("the holds were released");
    again.finish(LlmOutcome::Success, Some(TokenUsage::new(40, 12)));
    run.finish();
    assert_eq!(
        support::sum(&registry, "orchestrator_agent_limit_exceeded_total", |s| {
            s.label("agent") == Some("researcher")
        }),
        1.0,
        "once per run"
    );
    assert_eq!(
        support::sum(&registry, "orchestrator_llm_requests_total", |s| {
            s.labels
                .iter()
                .any(|(k, v)| k == "outcome" && v == "rejected_budget")
        }),
        2.0
    );
    // Outside any run, nothing is checked.
    assert!(step(&tracer).is_ok());
}
