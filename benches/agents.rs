//! What an agent run and its tool calls cost, in one run: a request whose handler makes one
//! LLM step (the manual guard, priced) and, in the `agent` rows, runs it inside an agent run
//! with two tool calls:
//! - `step_unsampled` / `step_sampled`: the server layer and the step alone;
//! - `agent_unsampled` / `agent_sampled`: the same step inside `agent_run` with two
//!   `tool_call`s; `(agent_x − step_x) / 3` is the cost per guard;
//! - `instrument_unsampled`: the run and its tools as `#[instrument]`-style `tracing` spans
//!   with the GenAI fields, under the bridge (what rig-core's spans cost);
//! - `otel_agent_10` / `otel_agent_100`: the same three spans under `tracing-opentelemetry`
//!   sampling 10 % / 100 %, exported to a discarding exporter: the do-it-yourself peer,
//!   which records spans but no agent metrics and no spend.
//!
//! `cargo bench --bench agents`

mod common;

use common::{Body, bare, once, otel_dispatch};
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use orchestrator_telemetry::orchestrator_tower::{Sampler, TelemetryLayer, Tracer};
use orchestrator_telemetry::{LlmOutcome, Metrics, ModelPrice, PriceTable, Registry, TokenUsage};
use tower::{Layer as _, ServiceExt as _};
use tracing_subscriber::layer::SubscriberExt as _;

fn tracer(sampler: Sampler) -> Tracer {
    let prices = PriceTable::new().with_price(
        "openai",
        "gpt-4o-mini",
        ModelPrice::new(0.15, 0.075, 0.60).expect("a price"),
    );
    Tracer::builder(Metrics::builder().prices(prices).build(&Registry::new()))
        .sampler(sampler)
        .build()
        .expect("tracer")
}

fn step(tracer: &Tracer) {
    tracer
        .llm_call("openai", "gpt-4o-mini")
        .finish(LlmOutcome::Success, Some(TokenUsage::new(300, 40)));
}

/// A handler making one step, inside an agent run with two tools when `agent`.
fn handler(
    tracer: &Tracer,
    agent: bool,
) -> impl tower::Service<
    Request<Body>,
    Response = http::Response<Body>,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<http::Response<Body>, std::convert::Infallible>>,
> + Clone {
    let tracer = tracer.clone();
    bare().map_request(move |request: Request<Body>| {
        if agent {
            let run = tracer.agent_run("researcher");
            run.in_scope(|| {
                step(&tracer);
                tracer.tool_call("web_search").finish();
                tracer.tool_call("calculator").finish();
            });
            run.finish();
        } else {
            step(&tracer);
        }
        request
    })
}

/// The same run as GenAI `tracing` spans.
fn spans_handler(
    tracer: &Tracer,
) -> impl tower::Service<
    Request<Body>,
    Response = http::Response<Body>,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<http::Response<Body>, std::convert::Infallible>>,
> + Clone {
    let tracer = tracer.clone();
    bare().map_request(move |request: Request<Body>| {
        genai_spans(|| step(&tracer));
        request
    })
}

/// An `invoke_agent` span running `inside`, then two `execute_tool` spans in it.
fn genai_spans(inside: impl Fn()) {
    let run = tracing::info_span!(
        "invoke_agent",
        gen_ai.operation.name = "invoke_agent",
        gen_ai.agent.name = "researcher"
    );
    let _run = run.enter();
    inside();
    for tool in ["web_search", "calculator"] {
        let span = tracing::info_span!(
            "execute_tool",
            gen_ai.operation.name = "execute_tool",
            gen_ai.tool.name = tool
        );
        let _tool = span.enter();
    }
}

fn agents(c: &mut Criterion) {
    let mut group = c.benchmark_group("agents");
    for (name, sampler, agent) in [
        ("step_unsampled", Sampler::always_off(), false),
        ("agent_unsampled", Sampler::always_off(), true),
        ("step_sampled", Sampler::always_on(), false),
        ("agent_sampled", Sampler::always_on(), true),
    ] {
        let tracer = tracer(sampler);
        let mut service = TelemetryLayer::server(&tracer).layer(handler(&tracer, agent));
        group.bench_function(name, |b| b.iter(|| once(&mut service)));
    }
    {
        let tracer = tracer(Sampler::always_off());
        let mut service = TelemetryLayer::server(&tracer).layer(spans_handler(&tracer));
        let dispatch =
            tracing::Dispatch::new(tracing_subscriber::registry().with(tracer.tracing_layer()));
        tracing::dispatcher::with_default(&dispatch, || {
            group.bench_function("instrument_unsampled", |b| b.iter(|| once(&mut service)));
        });
    }
    for (name, ratio) in [("otel_agent_10", 0.1), ("otel_agent_100", 1.0)] {
        // The peer: the same three spans, and the step recorded by nothing (no metrics).
        let (dispatch, provider) = otel_dispatch(ratio);
        let mut service = bare().map_request(|request: Request<Body>| {
            genai_spans(|| {});
            request
        });
        tracing::dispatcher::with_default(&dispatch, || {
            group.bench_function(name, |b| b.iter(|| once(&mut service)));
        });
        let _ = provider.shutdown();
    }
    group.finish();
}

criterion_group!(benches, agents);
criterion_main!(benches);
