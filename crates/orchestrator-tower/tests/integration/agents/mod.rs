//! Agent runs, whichever way they come in (the `agent_run`/`tool_call` guards, a user's
//! `#[instrument]` with the GenAI fields, spans shaped as rig-core opens them) × whichever
//! way their LLM calls come in (the layer, the reqwest middleware, the guard): the same
//! metrics and the same spans. A run asks a tool (OpenAI's documented tool-call stream),
//! runs two tools, then answers (OpenAI's documented chat stream), streamed over real HTTP.
#![cfg(feature = "reqwest")]

mod bad_input;
mod shapes;

use opentelemetry::Value;
use opentelemetry::trace::SpanKind;
use orchestrator_metrics::{Metrics, Registry, exposition};
use orchestrator_tower::{LLM_COST_ATTRIBUTE, Operation, Sampler, SpanRecord, Tracer};
use tracing_subscriber::prelude::*;

use crate::conformance::fixtures::{self, Fixture};
use crate::conformance::ways::{self, Read, Way};
use crate::conformance::{cost, prices, provider};

/// How the agent run and its tool calls are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AgentWay {
    /// `Tracer::agent_run` and `Tracer::tool_call`.
    Guard,
    /// `#[tracing::instrument]` with `gen_ai.operation.name` and the agent's or tool's name.
    Instrument,
    /// `info_span!`s as rig-core opens them (`shapes.rs`).
    Rig,
}

/// The tool call id in the fixture's first answer.
const CALL_ID: &str = "call_DdmO9pD3xa9XTPNJ32zg2hcA";

/// The run's LLM steps: a step asking for `get_weather`, then the answer.
fn steps() -> [Fixture; 2] {
    [
        fixtures::named("openai-tool-stream").unwrap(),
        fixtures::named("openai-chat-stream").unwrap(),
    ]
}

pub(crate) fn tracer(sampler: Sampler) -> (Registry, Tracer) {
    let registry = Registry::new();
    let metrics = Metrics::builder().prices(prices()).build(&registry);
    let tracer = Tracer::builder(metrics).sampler(sampler).build().unwrap();
    (registry, tracer)
}

/// One LLM step of the run, read to its end.
async fn step(tracer: &Tracer, registry: &Registry, base: &str, f: &Fixture, way: Way) {
    ways::call(tracer, registry, base, f, way, Read::ToEnd, "").await;
}

/// The run: a step, the two tools, the answer.
async fn run(tracer: &Tracer, registry: &Registry, base: &str, agent: AgentWay, llm: Way) {
    let [ask, answer] = steps();
    let body = async {
        step(tracer, registry, base, &ask, llm).await;
        shapes::tool(tracer, agent, "get_weather", Some(CALL_ID), false).await;
        shapes::tool(tracer, agent, "calculator", None, false).await;
        step(tracer, registry, base, &answer, llm).await;
    };
    shapes::agent(tracer, agent, "researcher", body).await;
}

/// The sum of `series` over samples whose `label` is `value`.
pub(crate) fn sum(registry: &Registry, series: &str, label: (&str, &str)) -> f64 {
    exposition::parse(&registry.render())
        .unwrap()
        .sum_where(series, |s| s.label(label.0) == Some(label.1))
}

fn f64_attribute(span: &SpanRecord, key: &str) -> f64 {
    match span.attribute(key) {
        Some(Value::F64(v)) => *v,
        other => panic!("{}: {key} = {other:?}", span.name),
    }
}

fn check_metrics(registry: &Registry, cell: &str) {
    let [ask, answer] = steps();
    let want_cost = cost(&ask, &ask.usage.unwrap()) + cost(&answer, &answer.usage.unwrap());
    let agent = ("agent", "researcher");
    assert_eq!(
        sum(registry, "orchestrator_agent_runs_total", agent),
        1.0,
        "{cell}"
    );
    assert_eq!(
        sum(registry, "orchestrator_agent_steps_sum", agent),
        2.0,
        "{cell}"
    );
    assert_eq!(
        sum(registry, "orchestrator_agent_tool_calls_sum", agent),
        2.0,
        "{cell}"
    );
    for tool in ["get_weather", "calculator"] {
        assert_eq!(
            sum(registry, "orchestrator_tool_calls_total", ("tool", tool)),
            1.0,
            "{cell} {tool}"
        );
    }
    let agent_cost = sum(registry, "orchestrator_agent_llm_cost_usd_total", agent);
    let total = sum(
        registry,
        "orchestrator_llm_cost_usd_total",
        ("provider", "openai"),
    );
    assert!(
        (agent_cost - want_cost).abs() < 1e-12 && (total - want_cost).abs() < 1e-12,
        "{cell}: agent {agent_cost} total {total} want {want_cost}"
    );
    let input = exposition::parse(&registry.render())
        .unwrap()
        .sum_where("orchestrator_agent_llm_tokens_total", |s| {
            s.label("agent") == Some("researcher") && s.label("token_type") == Some("input")
        });
    let want_input = ask.usage.unwrap().input + answer.usage.unwrap().input;
    assert_eq!(input, want_input as f64, "{cell}");
}

fn check_spans(tracer: &Tracer, cell: &str) {
    let traces = tracer.store().traces();
    assert_eq!(traces.len(), 1, "{cell}: one trace");
    let spans = &traces[0].spans;
    let agent = spans
        .iter()
        .find(|s| s.operation == Operation::AgentRun)
        .unwrap_or_else(|| panic!("{cell}: no agent span in {spans:#?}"));
    assert_eq!(agent.name, "invoke_agent researcher", "{cell}");
    assert_eq!(agent.kind, SpanKind::Internal, "{cell}");
    assert_eq!(
        agent.attribute("gen_ai.operation.name").map(Value::as_str),
        Some("invoke_agent".into()),
        "{cell}"
    );
    assert_eq!(
        agent.attribute("gen_ai.agent.name").map(Value::as_str),
        Some("researcher".into()),
        "{cell}"
    );
    let children = |op| {
        spans
            .iter()
            .filter(move |s| s.operation == op && s.parent_span_id == Some(agent.span_id))
            .collect::<Vec<_>>()
    };
    let chats = children(Operation::LlmRequest);
    assert_eq!(chats.len(), 2, "{cell}: the steps are the agent's children");
    let tools = children(Operation::ToolCall);
    assert_eq!(tools.len(), 2, "{cell}: the tools are the agent's children");
    let weather = tools
        .iter()
        .find(|s| s.name == "execute_tool get_weather")
        .unwrap_or_else(|| panic!("{cell}: {tools:#?}"));
    assert_eq!(weather.kind, SpanKind::Internal);
    assert_eq!(
        weather.attribute("gen_ai.tool.call.id").map(Value::as_str),
        Some(CALL_ID.into()),
        "{cell}"
    );
    assert_eq!(
        weather.attribute("gen_ai.tool.type").map(Value::as_str),
        Some("function".into()),
        "{cell}"
    );
    // The run's roll-up is the sum of its steps' costs, each on its own span.
    let steps: f64 = chats
        .iter()
        .map(|s| f64_attribute(s, "gen_ai.usage.cost.amount"))
        .sum();
    let rolled = f64_attribute(agent, LLM_COST_ATTRIBUTE);
    assert!(
        (rolled - steps).abs() < 1e-12,
        "{cell}: {rolled} != {steps}"
    );
    assert_eq!(
        agent.attribute("orchestrator.agent.steps"),
        Some(&Value::I64(2)),
        "{cell}"
    );
}

/// Every agent way × every LLM way, sampled: the metrics and the span tree.
#[tokio::test]
async fn every_way_in_records_the_same_run() {
    let base = provider::start().await;
    for agent in [AgentWay::Guard, AgentWay::Instrument, AgentWay::Rig] {
        for llm in [Way::Layer, Way::Middleware, Way::Guard] {
            let cell = format!("{agent:?} × {llm:?}");
            let (registry, tracer) = tracer(Sampler::always_on());
            let _bridge = tracing::subscriber::set_default(
                tracing_subscriber::registry().with(tracer.tracing_layer()),
            );
            run(&tracer, &registry, &base, agent, llm).await;
            check_metrics(&registry, &cell);
            check_spans(&tracer, &cell);
        }
    }
}

/// Unsampled, every way records the same metrics (the agent's spend included) and builds
/// no span.
#[tokio::test]
async fn unsampled_runs_are_counted_the_same() {
    let base = provider::start().await;
    for agent in [AgentWay::Guard, AgentWay::Instrument, AgentWay::Rig] {
        for llm in [Way::Layer, Way::Middleware, Way::Guard] {
            let cell = format!("{agent:?} × {llm:?}, unsampled");
            let (registry, tracer) = tracer(Sampler::always_off());
            let _bridge = tracing::subscriber::set_default(
                tracing_subscriber::registry().with(tracer.tracing_layer()),
            );
            run(&tracer, &registry, &base, agent, llm).await;
            check_metrics(&registry, &cell);
            assert!(tracer.store().is_empty(), "{cell}");
        }
    }
}

/// A tool that fails is an error whichever way it comes in (the guard's `fail`,
/// `#[instrument(err)]`'s error event, rig-core's `gen_ai.tool.error.type`), sampled or not,
/// and counts in its agent's tool errors.
#[tokio::test]
async fn a_failing_tool_is_an_error_every_way() {
    for agent in [AgentWay::Guard, AgentWay::Instrument, AgentWay::Rig] {
        for sampler in [Sampler::always_on(), Sampler::always_off()] {
            let cell = format!("{agent:?} {sampler}");
            let (registry, tracer) = tracer(sampler);
            let _bridge = tracing::subscriber::set_default(
                tracing_subscriber::registry().with(tracer.tracing_layer()),
            );
            let body = async {
                shapes::tool(&tracer, agent, "web_search", Some(CALL_ID), true).await;
                shapes::tool(&tracer, agent, "calculator", None, false).await;
            };
            shapes::agent(&tracer, agent, "researcher", body).await;
            let outcome = |tool: &str, outcome: &str| {
                exposition::parse(&registry.render())
                    .unwrap()
                    .sum_where("orchestrator_tool_calls_total", |s| {
                        s.label("tool") == Some(tool) && s.label("outcome") == Some(outcome)
                    })
            };
            assert_eq!(outcome("web_search", "error"), 1.0, "{cell}");
            assert_eq!(outcome("calculator", "success"), 1.0, "{cell}");
            assert_eq!(
                sum(
                    &registry,
                    "orchestrator_agent_tool_errors_total",
                    ("agent", "researcher")
                ),
                1.0,
                "{cell}"
            );
        }
    }
}
