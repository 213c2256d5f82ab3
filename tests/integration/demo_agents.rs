//! A demo run with the research agent, every request sampled and exported over OTLP/gRPC to
//! a receiver built from the official proto definitions: each research request exports
//! server → `invoke_agent researcher` → `chat` and `execute_tool` spans with the GenAI
//! conventions' names and attributes, the agent span's cost is the sum of its steps' costs,
//! and the agent cost series plus the spend outside any agent is the total LLM cost.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use orchestrator_demo::agent::{RESEARCHER, research_limits};
use orchestrator_demo::demo_prices;
use orchestrator_demo::load::{self, LoadConfig};
use orchestrator_demo::provider::ProviderConfig;
use orchestrator_telemetry::Telemetry;
use orchestrator_telemetry::orchestrator_metrics::exposition;
use orchestrator_telemetry::orchestrator_tower::{OtlpConfig, Protocol, Sampler};
use orchestrator_testkit::otlp;

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn text(span: &Span, key: &str) -> Option<String> {
    match attribute(span, key) {
        Some(Value::StringValue(s)) => Some(s.clone()),
        _ => None,
    }
}

fn number(span: &Span, key: &str) -> f64 {
    match attribute(span, key) {
        Some(Value::DoubleValue(v)) => *v,
        other => panic!("{}: {key} = {other:?}", span.name),
    }
}

#[test]
fn a_demo_agent_run_exports_its_tree_and_its_spend_adds_up() {
    let runtime = crate::support::runtime();
    let (addr, received) = runtime.block_on(otlp::grpc_receiver());
    let telemetry = Telemetry::builder()
        .without_listener()
        .without_monitor()
        .ignore_otel_env()
        .prices(demo_prices().unwrap())
        .tracing(move |t| {
            t.sampler(Sampler::always_on())
                .agent_limits(RESEARCHER, research_limits())
                .otlp(OtlpConfig::new(format!("http://{addr}"), Protocol::Grpc))
        })
        .build()
        .unwrap();
    let server =
        crate::support::start_demo_with(&runtime, &telemetry, ProviderConfig::without_failures());
    let load_config = LoadConfig {
        duration: Duration::from_secs(4),
        concurrency: 4,
        seed: 7,
        ..LoadConfig::default()
    };
    runtime.block_on(load::run(&server.api_url(), &load_config));
    // The load asks the agent one message in twenty: a short run on a slow machine may ask
    // it once or never. Four more questions make the runs this test reads certain.
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let api = server.api_url();
        let session: serde_json::Value = client
            .post(format!("{api}/v1/sessions"))
            .json(&serde_json::json!({"user_id": "researcher-user"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = session["session_id"].as_i64().unwrap();
        for i in 0..4 {
            let answer = client
                .post(format!("{api}/v1/sessions/{id}/research"))
                .json(&serde_json::json!({"question": format!("question {i}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
        }
    });
    drop(server);
    let e = exposition::parse(&telemetry.registry().render()).unwrap();
    telemetry.tracer().force_flush().unwrap();
    assert_eq!(telemetry.tracer().dropped_spans(), 0, "every span exported");
    let spans = received.spans();
    let by_id: HashMap<&[u8], &Span> = spans.iter().map(|s| (&s.span_id[..], s)).collect();

    // The tree of each run: server → invoke_agent → chat / execute_tool.
    let agents: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "invoke_agent researcher")
        .collect();
    assert!(!agents.is_empty(), "no agent run in {} spans", spans.len());
    let mut tools_seen = 0;
    for agent in &agents {
        assert_eq!(agent.kind, SpanKind::Internal as i32);
        assert_eq!(
            text(agent, "gen_ai.operation.name").as_deref(),
            Some("invoke_agent")
        );
        assert_eq!(
            text(agent, "gen_ai.agent.name").as_deref(),
            Some(RESEARCHER)
        );
        assert!(text(agent, "gen_ai.conversation.id").is_some());
        let server = by_id[&agent.parent_span_id[..]];
        assert_eq!(server.name, "POST /v1/sessions/{id}/research");
        let children: Vec<&Span> = spans
            .iter()
            .filter(|s| s.parent_span_id == agent.span_id)
            .collect();
        let steps: Vec<&&Span> = children
            .iter()
            .filter(|s| s.name == "chat gpt-4o-mini")
            .collect();
        assert!(!steps.is_empty(), "a run without steps");
        for tool in children
            .iter()
            .filter(|s| s.name.starts_with("execute_tool "))
        {
            tools_seen += 1;
            assert_eq!(tool.kind, SpanKind::Internal as i32);
            assert_eq!(
                text(tool, "gen_ai.operation.name").as_deref(),
                Some("execute_tool")
            );
            let name = text(tool, "gen_ai.tool.name").unwrap();
            assert!(
                ["web_search", "calculator"].contains(&name.as_str()),
                "{name}"
            );
            assert!(
                text(tool, "gen_ai.tool.call.id")
                    .unwrap()
                    .starts_with("call_")
            );
        }
        // The run's cost is the sum of its steps' costs.
        let sum: f64 = steps
            .iter()
            .map(|s| number(s, "gen_ai.usage.cost.amount"))
            .sum();
        let rolled = number(agent, "orchestrator.llm.cost.usd");
        assert!((rolled - sum).abs() < 1e-12, "{rolled} != {sum}");
        // And the request's span carries at least the run's.
        assert!(number(server, "orchestrator.llm.cost.usd") >= rolled - 1e-12);
    }
    assert!(tools_seen > 0, "no tool call in {} runs", agents.len());

    // Every dollar is attributed: agents' series + the steps outside any agent = total.
    let under_agent = |s: &Span| {
        let mut parent = by_id.get(&s.parent_span_id[..]);
        while let Some(p) = parent {
            if p.name.starts_with("invoke_agent ") {
                return true;
            }
            parent = by_id.get(&p.parent_span_id[..]);
        }
        false
    };
    let outside: f64 = spans
        .iter()
        .filter(|s| s.name.starts_with("chat ") && !under_agent(s))
        .filter_map(|s| match attribute(s, "gen_ai.usage.cost.amount") {
            Some(Value::DoubleValue(v)) => Some(*v),
            _ => None,
        })
        .sum();
    let agents_cost = e.sum_where("orchestrator_agent_llm_cost_usd_total", |_| true);
    let total = e.sum_where("orchestrator_llm_cost_usd_total", |_| true);
    assert!(agents_cost > 0.0 && outside > 0.0);
    assert!(
        (agents_cost + outside - total).abs() < 0.005,
        "agents {agents_cost} + outside {outside} != total {total}"
    );
    assert!(
        (agents_cost + outside - total).abs() < 1e-9,
        "to the nano-dollar: agents {agents_cost} + outside {outside} != total {total}"
    );
    let runs = e.sum_where("orchestrator_agent_runs_total", |s| {
        s.label("agent") == Some(RESEARCHER)
    });
    assert_eq!(
        runs as usize,
        agents.len(),
        "a span per run, every run sampled"
    );
    telemetry.shutdown();
}
