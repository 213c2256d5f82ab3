//! After warm-up, the typed recorders' hot path neither allocates nor formats: counted with
//! a global allocator that counts allocations on this thread.

use orchestrator_testkit::alloc::{Counting, allocations};
use std::time::Duration;

use orchestrator_telemetry::{
    CacheOp, CacheResult, DependencyKind, LlmCall, LlmOutcome, Metrics, Registry, TokenUsage,
};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn warmed_up_recorders_do_not_allocate() {
    let registry = Registry::new();
    let metrics = Metrics::builder()
        .prices(orchestrator_demo::demo_prices().unwrap())
        .build(&registry);
    let llm = LlmCall::new(
        "openai",
        "gpt-4o-mini",
        LlmOutcome::Success,
        Duration::from_millis(700),
    )
    .with_time_to_first_token(Duration::from_millis(90))
    .with_usage(TokenUsage::new(300, 80));
    let record = || {
        metrics.requests().record(
            "/v1/sessions/{id}/messages",
            "POST",
            200,
            Duration::from_millis(120),
        );
        metrics.requests().record(
            "/v1/sessions/{id}/messages",
            "POST",
            502,
            Duration::from_millis(30),
        );
        metrics.llm().record(&llm);
        metrics.cache().record(
            "answers",
            CacheOp::Get,
            CacheResult::Hit,
            Some(Duration::from_micros(20)),
        );
        metrics.dependencies().record(
            DependencyKind::Database,
            "sqlite",
            Duration::from_micros(400),
            None,
        );
        metrics.errors().record("llm", "timeout");
        metrics.business().record_revenue(0.01).unwrap();
        metrics.business().record_satisfaction(8.0).unwrap();
    };
    let start = allocations();
    record(); // warm-up: resolves and caches the handles
    let before = allocations();
    assert!(
        before > start,
        "the counting allocator counts (warm-up registers series)"
    );
    for _ in 0..10_000 {
        record();
    }
    assert_eq!(allocations() - before, 0, "the hot path allocated");
}

/// Allocations over 1 000 `POST /v1/sessions/42/messages` through `router`, after ten
/// warm-up requests (the series, the registry's slab pages and stacks).
fn allocations_per_request(mut router: axum::Router) -> u64 {
    use futures_util::FutureExt as _;
    use tower::Service as _;
    let mut call = || {
        let request = http::Request::post("/v1/sessions/42/messages")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = router.call(request).now_or_never().unwrap().unwrap();
        assert_eq!(response.status(), 200);
    };
    for _ in 0..10 {
        call();
    }
    let before = allocations();
    for _ in 0..1_000 {
        call();
    }
    allocations() - before
}

/// An unsampled request through the tower layer allocates nothing: the sampling decision
/// comes before any span work, and the metrics path is the one above. Measured behind a
/// real axum router (the route comes from its `MatchedPath`), against the same router with
/// a pass-through layer of the same kind (not zero-sized: axum boxes a clone of the layer
/// per request on routers without state, which is free only for zero-sized layers), since
/// `Router::layer` itself boxes and clones per request, whatever the layer.
#[test]
fn unsampled_requests_through_the_layer_do_not_allocate() {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use orchestrator_telemetry::orchestrator_tower::{Sampler, TelemetryLayer, Tracer};

    let registry = Registry::new();
    let tracer = Tracer::builder(Metrics::new(&registry))
        .sampler(Sampler::always_off())
        .build()
        .unwrap();
    let app = || Router::new().route("/v1/sessions/{id}/messages", post(|| async { "ok" }));
    let held = std::sync::Arc::new(());
    let pass_through = tower::util::MapRequestLayer::new(move |r: http::Request<Body>| {
        let _ = &held;
        r
    });
    let baseline = allocations_per_request(app().layer(pass_through));
    let layered = allocations_per_request(app().layer(TelemetryLayer::server(&tracer)));
    assert!(
        baseline > 0,
        "the counting allocator counts (the router allocates)"
    );
    assert_eq!(
        layered, baseline,
        "the layer allocated for unsampled requests"
    );
    assert!(registry.render().contains(
        r#"orchestrator_requests_total{route="/v1/sessions/{id}/messages",method="POST",status="200"} 1010"#
    ));
    assert!(tracer.store().is_empty());
}

#[tracing::instrument]
async fn moderate(prompt_len: usize) -> bool {
    tracing::info!(prompt_len, "moderating");
    prompt_len < 4096
}

/// An unsampled request whose handler opens two `tracing` spans (one `#[instrument]`ed, one
/// `info_span!`) and logs an event allocates nothing more with the bridge than without it:
/// the same layer and router, under a `tracing_subscriber` registry with and without
/// `Tracer::tracing_layer()`.
#[test]
fn unsampled_requests_with_user_spans_allocate_nothing_for_the_bridge() {
    use axum::Router;
    use axum::routing::post;
    use orchestrator_telemetry::orchestrator_tower::{Sampler, TelemetryLayer, Tracer};
    use tracing_subscriber::prelude::*;

    let registry = Registry::new();
    let tracer = Tracer::builder(Metrics::new(&registry))
        .sampler(Sampler::always_off())
        .build()
        .unwrap();
    let handler = || async {
        let ok = tracing::info_span!("plan", steps = 2).in_scope(|| 2 + 2 == 4);
        let allowed = moderate(12).await;
        if ok && allowed { "ok" } else { "no" }
    };
    let app = || {
        Router::new()
            .route("/v1/sessions/{id}/messages", post(handler))
            .layer(TelemetryLayer::server(&tracer))
    };
    let plain = || {
        tracing::subscriber::with_default(tracing_subscriber::registry(), || {
            allocations_per_request(app())
        })
    };
    // The first subscriber of the process pays once for tracing's callsite registrations;
    // measure the baseline after it.
    let _first = plain();
    let bridged = tracing::subscriber::with_default(
        tracing_subscriber::registry().with(tracer.tracing_layer()),
        || allocations_per_request(app()),
    );
    let baseline = plain();
    assert!(baseline > 0, "the counting allocator counts");
    // The plain registry itself allocates a few times per thousand requests (its slab
    // pages: 6 more than with the bridge when this was written); one allocation per request
    // would show as a thousand.
    assert!(
        bridged <= baseline,
        "the bridge allocated for unsampled requests: {bridged} > {baseline} per 1,000"
    );
    assert!(tracer.store().is_empty());
}

/// Issue 14, row 10: once the model cap is full, a flood of new model names folds into
/// `other` without allocating (no key, no price lookup key, no lock), and a priced model is
/// never folded, however many junk names came first.
#[test]
fn a_flood_of_model_names_folds_without_allocating_and_spares_priced_models() {
    let registry = Registry::new();
    let metrics = Metrics::builder()
        .prices(orchestrator_demo::demo_prices().unwrap())
        .build(&registry);
    let names: Vec<String> = (0..2_000).map(|i| format!("junk-{i}")).collect();
    fn call(model: &str) -> LlmCall<'_> {
        LlmCall::new(
            "openai",
            model,
            LlmOutcome::Success,
            Duration::from_millis(700),
        )
        .with_usage(TokenUsage::new(300, 80))
    }
    for name in &names[..200] {
        metrics.llm().record(&call(name)); // fills the cap, resolves "other"
    }
    let before = allocations();
    for name in &names[200..] {
        metrics.llm().record(&call(name));
    }
    assert_eq!(allocations() - before, 0, "the folded path allocated");
    metrics.llm().record(&call("gpt-4o-mini"));
    let text = registry.render();
    assert!(
        text.contains(r#"orchestrator_llm_requests_total{provider="openai",model="gpt-4o-mini",outcome="success"} 1"#),
        "the priced model kept its label"
    );
    assert!(
        text.contains(r#"model="other",outcome="success"} 1900"#),
        "1 900 folded"
    );
}

/// Issue 15, item 6: with `record_content(true)`, an unsampled LLM call captures nothing: the
/// prompt is not copied and the answer's text not assembled, so it allocates exactly what the
/// same call without capture allocates.
#[test]
fn unsampled_llm_calls_with_capture_on_allocate_nothing_for_content() {
    use std::borrow::Cow;
    use std::convert::Infallible;

    use axum::body::Body;
    use futures_util::FutureExt as _;
    use http_body_util::BodyExt as _;
    use orchestrator_telemetry::orchestrator_tower::{
        GenAiRequest, Llm, OpenAiCompatible, Sampler, TelemetryLayer, Tracer,
    };
    use tower::{Layer as _, Service as _};

    const STREAM: &str = "data: {\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"Hi there\"}}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\ndata: [DONE]\n\n";
    let registry = Registry::new();
    let tracer = Tracer::builder(Metrics::new(&registry))
        .sampler(Sampler::always_off())
        .build()
        .unwrap();
    let per_call = |record_content: bool| {
        let provider = tower::service_fn(|_: http::Request<Body>| async {
            Ok::<_, Infallible>(
                http::Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from(STREAM))
                    .unwrap(),
            )
        });
        let mut client = TelemetryLayer::new(
            &tracer,
            Llm::new(OpenAiCompatible).record_content(record_content),
        )
        .layer(provider);
        let request = || {
            let mut request = http::Request::post("http://p/v1")
                .body(Body::empty())
                .unwrap();
            request.extensions_mut().insert(GenAiRequest {
                operation: "chat",
                provider: Cow::Borrowed("openai"),
                model: Cow::Borrowed("m"),
                prompt: Some("a prompt of some length, ".repeat(100)),
            });
            request
        };
        let mut total = 0;
        for round in 0..110 {
            // Built outside the count: the caller's request is not the layer's cost.
            let request = request();
            let before = allocations();
            let response = client.call(request).now_or_never().unwrap().unwrap();
            let _ = response
                .into_body()
                .collect()
                .now_or_never()
                .unwrap()
                .unwrap();
            if round >= 10 {
                total += allocations() - before;
            }
        }
        total
    };
    let without = per_call(false);
    let with = per_call(true);
    assert_eq!(with, without, "capture allocated on unsampled calls");
}

/// An unsampled request whose handler runs an agent (an LLM call through the guard, two
/// tool calls) allocates exactly what the same request making the same LLM call outside any
/// agent allocates: the agent's identity and its run's tallies travel in the call's context
/// from a pool, and its metrics' handles are resolved once per name.
#[test]
fn unsampled_requests_with_an_agent_and_two_tools_allocate_nothing_for_them() {
    use axum::Router;
    use axum::routing::post;
    use orchestrator_telemetry::orchestrator_tower::{Sampler, TelemetryLayer, Tracer};
    use orchestrator_telemetry::{ModelPrice, PriceTable};

    let registry = Registry::new();
    let prices = PriceTable::new().with_price(
        "openai",
        "gpt-4o-mini",
        ModelPrice::new(0.15, 0.075, 0.60).unwrap(),
    );
    let tracer = Tracer::builder(Metrics::builder().prices(prices).build(&registry))
        .sampler(Sampler::always_off())
        .build()
        .unwrap();
    let step = |tracer: &Tracer| {
        tracer
            .llm_call("openai", "gpt-4o-mini")
            .finish(LlmOutcome::Success, Some(TokenUsage::new(300, 40)));
    };
    let plain = {
        let t = tracer.clone();
        Router::new()
            .route(
                "/v1/sessions/{id}/messages",
                post(move || {
                    step(&t);
                    async { "ok" }
                }),
            )
            .layer(TelemetryLayer::server(&tracer))
    };
    let agent = {
        let t = tracer.clone();
        Router::new()
            .route(
                "/v1/sessions/{id}/messages",
                post(move || {
                    let run = t.agent_run("researcher");
                    run.in_scope(|| {
                        step(&t);
                        t.tool_call("web_search").finish();
                        t.tool_call("calculator").finish();
                    });
                    run.finish();
                    async { "ok" }
                }),
            )
            .layer(TelemetryLayer::server(&tracer))
    };
    let baseline = allocations_per_request(plain);
    let with_agent = allocations_per_request(agent);
    assert!(baseline > 0, "the counting allocator counts");
    assert_eq!(
        with_agent, baseline,
        "the agent run and its tool calls allocated on unsampled requests"
    );
    let text = registry.render();
    assert!(
        text.contains(
            r#"orchestrator_agent_runs_total{agent="researcher",outcome="success"} 1010"#
        )
    );
    assert!(
        text.contains(r#"orchestrator_tool_calls_total{tool="calculator",outcome="success"} 1010"#)
    );
    assert!(text.contains(r#"orchestrator_agent_steps_sum{agent="researcher"} 1010"#));
}
