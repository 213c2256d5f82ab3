//! The research agent: `POST /v1/sessions/{id}/research` answers `{"question"}` with a loop
//! of LLM steps that may ask for tools (`web_search`, `calculator`), run with their own
//! latencies and failures, until the model answers or the loop reaches [`LOOP_LIMIT`].
//!
//! The run is recorded with `Tracer::agent_run` and each tool with `Tracer::tool_call`; the
//! LLM steps go through the client's telemetry layer, inside the run, so they are its steps
//! and their spend is the agent's. [`research_limits`] observes runs past [`MAX_STEPS`],
//! which the `runaway` incident provokes.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use orchestrator_telemetry::orchestrator_tower::{AgentLimits, AgentRunGuard, ErrorKind, Tracer};
use serde::Deserialize;
use serde_json::Value;

use crate::app::AppState;
use crate::llm_client::LlmError;
use crate::provider::MODELS;

/// The agent's name (`gen_ai.agent.name`).
pub const RESEARCHER: &str = "researcher";

/// The steps a run may take before it is a runaway (observed, counted, alerted on).
pub const MAX_STEPS: u32 = 6;

/// Where the loop stops by itself, past [`MAX_STEPS`]: a real agent's last resort.
pub const LOOP_LIMIT: usize = 10;

/// The limits the demo's tracer observes for the research agent.
pub fn research_limits() -> AgentLimits {
    AgentLimits::new().max_steps(MAX_STEPS)
}

#[derive(Deserialize)]
pub(crate) struct Question {
    question: String,
}

fn tools() -> Value {
    let tool = |name: &str, what: &str| {
        serde_json::json!({"type": "function", "function": {
            "name": name, "description": what,
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
        }})
    };
    Value::Array(vec![
        tool("web_search", "Searches the web."),
        tool("calculator", "Evaluates an arithmetic expression."),
    ])
}

pub(crate) async fn research(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<Question>,
) -> Response {
    let mut run = state.tracer.agent_run(RESEARCHER);
    run.conversation_id(&id.to_string());
    // Spelled out: `tracing::Instrument` has an `instrument` too.
    let result = AgentRunGuard::instrument(&run, research_loop(&state, &body.question)).await;
    let (steps, cost) = (run.steps(), run.cost_usd());
    match result {
        Ok(answer) => {
            run.finish();
            Json(serde_json::json!({"reply": answer, "steps": steps, "cost_usd": cost}))
                .into_response()
        }
        Err(e) => {
            run.fail(ErrorKind::Named("llm_error"));
            let (status, _) = e.status();
            (status, Json(serde_json::json!({"error": e.to_string()}))).into_response()
        }
    }
}

/// Steps until the model answers or the loop limit.
async fn research_loop(state: &AppState, question: &str) -> Result<String, LlmError> {
    let model = &MODELS[0];
    let tools = tools();
    let mut messages = vec![serde_json::json!({"role": "user", "content": question})];
    for _ in 0..LOOP_LIMIT {
        let step = state
            .llm
            .tool_step(model, &Value::Array(messages.clone()), &tools)
            .await?;
        if step.calls.is_empty() {
            let answer = step.message["content"].as_str().unwrap_or_default();
            return Ok(answer.to_owned());
        }
        messages.push(step.message);
        for (id, name) in step.calls {
            let result = call_tool(&state.tracer, &id, &name).await;
            messages
                .push(serde_json::json!({"role": "tool", "tool_call_id": id, "content": result}));
        }
    }
    Ok("I could not finish the research within my step limit.".to_owned())
}

/// Runs one tool the model asked for: a web search takes a few milliseconds (a search API
/// ten times faster than a real one, like the simulated model) and fails one time in twenty;
/// the calculator answers at once; a tool the model made up fails. A usual run then stays
/// under the API's p95, so the research route does not move the latency alert by itself.
async fn call_tool(tracer: &Tracer, id: &str, name: &str) -> String {
    let mut call = tracer.tool_call(name.to_owned());
    call.call_id(id);
    let (latency, fails) = match name {
        "web_search" => (
            Duration::from_secs_f64(0.003 + 0.012 * rand::random::<f64>()),
            rand::random::<f64>() < 0.05,
        ),
        "calculator" => (Duration::from_micros(300), false),
        _ => (Duration::ZERO, true),
    };
    tokio::time::sleep(latency).await;
    if fails {
        call.fail(ErrorKind::Named("tool_error"));
        format!("{name} failed")
    } else {
        call.finish();
        format!("{name}: 42")
    }
}
