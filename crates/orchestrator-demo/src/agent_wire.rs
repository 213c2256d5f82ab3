//! The simulated model's side of the research agent: a non-streamed OpenAI chat step with
//! `tools`, answered with `tool_calls` (`finish_reason: "tool_calls"`) or with text, in the
//! shape OpenAI documents for function calling
//! (<https://platform.openai.com/docs/guides/function-calling>). A run usually asks for one
//! to three tools, fewer the more results it already has; during a `runaway` incident the
//! model never stops asking.

use std::time::Duration;

use axum::response::Response;

use crate::incident::Incident;
use crate::provider::{ChatRequest, ModelProfile, Plan, ProviderState, chat_completion};

/// The tools the simulated model knows.
pub const TOOLS: [&str; 2] = ["web_search", "calculator"];

/// Answers one step of an agent run.
pub(crate) async fn step(
    state: &ProviderState,
    profile: &'static ModelProfile,
    request: &ChatRequest,
    plan: &Plan,
) -> Response {
    let results = request.messages.iter().filter(|m| m.role == "tool").count();
    let rng = &state.rng;
    let ask = state.config.incident.is(Incident::Runaway)
        || match results {
            0 => rng.chance(0.85),
            1 => rng.chance(0.5),
            2 => rng.chance(0.2),
            _ => false,
        };
    // A step that asks for a tool writes a short call, not an answer.
    let output = if ask {
        plan.output.min(24)
    } else {
        plan.output
    };
    let wait = plan.first_token + plan.per_token * output as f64;
    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    let message = if ask {
        let tool = if state.config.incident.is(Incident::Runaway) {
            TOOLS[0]
        } else {
            TOOLS[results % TOOLS.len()]
        };
        serde_json::json!({
            "role": "assistant",
            "content": null,
            "tool_calls": [{
                "id": format!("call_{:016x}", rng.range(0, u64::MAX)),
                "type": "function",
                "function": {"name": tool, "arguments": "{\"query\":\"orchestrator latency\"}"},
            }],
        })
    } else {
        serde_json::json!({"role": "assistant", "content": crate::provider::reply_text(output)})
    };
    let finish_reason = if ask { "tool_calls" } else { "stop" };
    chat_completion(profile, message, finish_reason, plan, output)
}
