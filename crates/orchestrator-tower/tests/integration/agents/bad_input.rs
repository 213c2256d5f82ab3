//! Agents under bad input and odd shapes: tool names made up by the model, runs that never
//! finish, sub-agents, tools outside any run, limits that cannot be observed, runaway runs,
//! and traces kept for what they cost.

use opentelemetry::Value;
use orchestrator_metrics::{LlmOutcome, TokenUsage};
use orchestrator_tower::{
    AgentConfigError, AgentLimits, LLM_COST_ATTRIBUTE, Operation, Sampler, TelemetryLayer, Tracer,
    TracerError,
};
use tower::{Layer as _, ServiceExt as _};

use super::{sum, tracer};

/// A priced step: 1,000 tokens in, 100 out at gpt-test's $2.50 / $10 per million: $0.0035.
fn step(tracer: &Tracer) {
    tracer
        .llm_call("openai", "gpt-test")
        .finish(LlmOutcome::Success, Some(TokenUsage::new(1_000, 100)));
}
const STEP_USD: f64 = 0.0035;

/// The agent span of the first stored trace.
fn agent_span(tracer: &Tracer) -> orchestrator_tower::SpanRecord {
    tracer.store().traces()[0]
        .spans
        .iter()
        .find(|s| s.operation == Operation::AgentRun)
        .cloned()
        .expect("an agent span")
}

#[test]
fn ten_thousand_tool_names_from_the_model_fold_into_other_and_the_span_keeps_the_name() {
    let (registry, tracer) = tracer(Sampler::always_off());
    for i in 0..10_000 {
        tracer.tool_call(format!("tool_{i}")).finish();
    }
    let e = orchestrator_metrics::exposition::parse(&registry.render()).unwrap();
    let series = e
        .families
        .iter()
        .filter(|f| f.name == "orchestrator_tool_calls_total")
        .flat_map(|f| &f.samples)
        .filter(|s| s.label("outcome") == Some("success"))
        .count();
    assert_eq!(series, 101, "100 names kept, then `other`");
    assert_eq!(
        sum(
            &registry,
            "orchestrator_tool_calls_total",
            ("tool", "other")
        ),
        9_900.0
    );
    assert_eq!(
        sum(
            &registry,
            "orchestrator_label_values_folded_total",
            ("label", "tool")
        ),
        9_900.0
    );

    // Sampled, the span keeps the name the model gave, cut to 128 bytes.
    let (_, tracer) = tracer_sampled();
    let long = "x".repeat(10_000);
    tracer.tool_call(long).finish();
    let span = &tracer.store().traces()[0].spans[0];
    let name = span.attribute("gen_ai.tool.name").unwrap().as_str();
    assert!(name.len() <= 128 && name.starts_with("xxx") && name.ends_with('…'));
}

fn tracer_sampled() -> (orchestrator_metrics::Registry, Tracer) {
    tracer(Sampler::always_on())
}

#[tokio::test]
async fn a_run_whose_task_is_dropped_is_cancelled() {
    let (registry, tracer) = tracer(Sampler::always_on());
    let t = tracer.clone();
    let task = tokio::spawn(async move {
        let run = t.agent_run("researcher");
        orchestrator_tower::AgentRunGuard::instrument(&run, async {
            step(&t);
            std::future::pending::<()>().await;
        })
        .await;
        run.finish();
    });
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    task.abort();
    let _ = task.await;
    let cancelled = orchestrator_metrics::exposition::parse(&registry.render())
        .unwrap()
        .sum_where("orchestrator_agent_runs_total", |s| {
            s.label("outcome") == Some("cancelled")
        });
    assert_eq!(cancelled, 1.0);
    let span = agent_span(&tracer);
    assert_eq!(span.error_type, Some("cancelled"));
    // The spend made before the drop is the agent's.
    let agent = sum(
        &registry,
        "orchestrator_agent_llm_cost_usd_total",
        ("agent", "researcher"),
    );
    assert!((agent - STEP_USD).abs() < 1e-12);
}

#[test]
fn a_sub_agents_calls_are_its_own_and_in_its_parents_total() {
    let (registry, tracer) = tracer(Sampler::always_on());
    let parent = tracer.agent_run("planner");
    parent.in_scope(|| {
        step(&tracer);
        let child = tracer.agent_run("researcher");
        child.in_scope(|| {
            step(&tracer);
            step(&tracer);
        });
        child.finish();
    });
    parent.finish();
    let cost = |agent| {
        sum(
            &registry,
            "orchestrator_agent_llm_cost_usd_total",
            ("agent", agent),
        )
    };
    assert!(
        (cost("planner") - STEP_USD).abs() < 1e-12,
        "innermost agent only"
    );
    assert!((cost("researcher") - 2.0 * STEP_USD).abs() < 1e-12);
    let steps = |agent| sum(&registry, "orchestrator_agent_steps_sum", ("agent", agent));
    assert_eq!((steps("planner"), steps("researcher")), (1.0, 2.0));

    let spans = &tracer.store().traces()[0].spans;
    let agent = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == format!("invoke_agent {name}"))
            .unwrap()
            .clone()
    };
    let (planner, researcher) = (agent("planner"), agent("researcher"));
    assert_eq!(researcher.parent_span_id, Some(planner.span_id));
    let rolled = |s: &orchestrator_tower::SpanRecord| match s.attribute(LLM_COST_ATTRIBUTE) {
        Some(Value::F64(v)) => *v,
        other => panic!("{other:?}"),
    };
    assert!(
        (rolled(&planner) - 3.0 * STEP_USD).abs() < 1e-12,
        "the parent's total includes the child's"
    );
    assert!((rolled(&researcher) - 2.0 * STEP_USD).abs() < 1e-12);
}

#[test]
fn a_tool_call_outside_any_run_has_no_agent() {
    let (registry, tracer) = tracer(Sampler::always_on());
    tracer.tool_call("web_search").finish();
    assert_eq!(
        sum(
            &registry,
            "orchestrator_tool_calls_total",
            ("tool", "web_search")
        ),
        1.0
    );
    assert!(!registry.render().contains("orchestrator_agent_runs_total{"));
    let span = &tracer.store().traces()[0].spans[0];
    assert_eq!(span.operation, Operation::ToolCall);
    assert!(span.attribute("gen_ai.agent.name").is_none());
}

#[test]
fn limits_that_cannot_be_observed_are_refused_at_build() {
    let build = |limits: AgentLimits| {
        let (_, metrics) = crate::support::metrics();
        Tracer::builder(metrics)
            .agent_limits("researcher", limits)
            .build()
    };
    assert!(matches!(
        build(AgentLimits::new().max_steps(0)),
        Err(TracerError::Agent(AgentConfigError::ZeroSteps { .. }))
    ));
    assert!(matches!(
        build(AgentLimits::new().max_steps(5).enforce_cost()),
        Err(TracerError::Agent(
            AgentConfigError::NothingToEnforce { .. }
        ))
    ));
    for usd in [-1.0, 0.0, f64::NAN, f64::INFINITY] {
        let err = build(AgentLimits::new().max_cost_usd(usd)).unwrap_err();
        assert!(
            matches!(
                err,
                TracerError::Agent(AgentConfigError::InvalidCost { .. })
            ),
            "{usd}: {err}"
        );
        assert!(err.to_string().contains("researcher"), "{err}");
    }
    let (_, metrics) = crate::support::metrics();
    assert!(matches!(
        Tracer::builder(metrics).keep_expensive(f64::NAN).build(),
        Err(TracerError::Agent(AgentConfigError::InvalidThreshold(_)))
    ));
}

#[test]
fn a_runaway_run_is_marked_and_counted_once_per_limit() {
    let registry = orchestrator_metrics::Registry::new();
    let metrics = orchestrator_metrics::Metrics::builder()
        .prices(crate::conformance::prices())
        .build(&registry);
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_on())
        .agent_limits(
            "researcher",
            AgentLimits::new().max_steps(2).max_cost_usd(0.01),
        )
        .build()
        .unwrap();
    let run = tracer.agent_run("researcher");
    run.in_scope(|| {
        for _ in 0..5 {
            step(&tracer);
        }
    });
    assert_eq!(run.steps(), 5);
    assert!((run.cost_usd() - 5.0 * STEP_USD).abs() < 1e-12);
    run.finish();
    let exceeded = |limit| {
        orchestrator_metrics::exposition::parse(&registry.render())
            .unwrap()
            .sum_where("orchestrator_agent_limit_exceeded_total", |s| {
                s.label("agent") == Some("researcher") && s.label("limit") == Some(limit)
            })
    };
    assert_eq!(exceeded("max_steps"), 1.0);
    assert_eq!(exceeded("max_cost_usd"), 1.0);
    let span = agent_span(&tracer);
    let crossed = match span.attribute("orchestrator.agent.limit_exceeded") {
        Some(Value::Array(opentelemetry::Array::String(limits))) => limits
            .iter()
            .map(|l| l.as_str().to_owned())
            .collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(crossed, ["max_steps", "max_cost_usd"]);
    // A run within its limits crosses nothing.
    let calm = tracer.agent_run("researcher");
    calm.in_scope(|| step(&tracer));
    calm.finish();
    assert_eq!(exceeded("max_steps"), 1.0);
}

#[tokio::test]
async fn an_expensive_trace_is_kept_whatever_the_ratio() {
    let registry = orchestrator_metrics::Registry::new();
    let metrics = orchestrator_metrics::Metrics::builder()
        .prices(crate::conformance::prices())
        .build(&registry);
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_off())
        .keep_expensive(0.005)
        .build()
        .unwrap();
    let serve = |steps: usize| {
        let t = tracer.clone();
        let handler = tower::service_fn(move |_: http::Request<axum::body::Body>| {
            for _ in 0..steps {
                step(&t);
            }
            async { crate::support::answer(200).await }
        });
        TelemetryLayer::server(&tracer)
            .layer(handler)
            .oneshot(crate::support::request(None))
    };
    let _ = serve(1).await.unwrap(); // $0.0035: below the threshold
    assert!(
        tracer.store().is_empty(),
        "a cheap unsampled trace is dropped"
    );
    let _ = serve(2).await.unwrap(); // $0.007
    let traces = tracer.store().traces();
    assert_eq!(traces.len(), 1, "the expensive trace is kept");
    let root = traces[0].root().unwrap();
    assert_eq!(
        root.attribute(LLM_COST_ATTRIBUTE),
        Some(&Value::F64(2.0 * STEP_USD))
    );
    assert_eq!(traces[0].spans.len(), 3);
}

#[test]
fn two_bridges_on_one_registry_count_a_bridged_run_once() {
    use tracing_subscriber::prelude::*;
    let (registry, tracer) = tracer(Sampler::always_off());
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::registry()
            .with(tracer.tracing_layer())
            .with(tracer.tracing_layer()),
    );
    {
        let run = tracing::info_span!(
            "invoke_agent",
            gen_ai.operation.name = "invoke_agent",
            gen_ai.agent.name = "researcher"
        );
        let _entered = run.enter();
        step(&tracer);
    }
    assert_eq!(
        sum(
            &registry,
            "orchestrator_agent_runs_total",
            ("agent", "researcher")
        ),
        1.0
    );
    assert_eq!(
        sum(
            &registry,
            "orchestrator_agent_steps_sum",
            ("agent", "researcher")
        ),
        1.0
    );
}
