//! An agent run and its tool calls, recorded each [`AgentWay`]. The rig-core shapes are the
//! spans rig-core's agent loop opens (`rig-core/src/agent/prompt_request/streaming.rs`,
//! 0xPlaygrounds/rig): `invoke_agent` with `gen_ai.agent.name` and empty usage fields, and,
//! per tool call, `execute_tool` with an explicit parent (the current span) whose
//! `gen_ai.tool.name` and `gen_ai.tool.call.id` are recorded once the model named the tool.
//! rig-core itself is not a dev-dependency: its current release (0.46) needs Rust 1.97.1,
//! newer than this workspace's 1.95 (`cargo info rig-core`, 2026-12-06); so the spans it
//! opens are copied here from its source.

use std::future::Future;

use orchestrator_tower::{ErrorKind, Tracer};
use tracing::Instrument as _;
use tracing::field::Empty;

use super::AgentWay;

/// Runs `body` as a run of agent `name`, recorded `way`.
pub(crate) async fn agent<F: Future<Output = ()>>(
    tracer: &Tracer,
    way: AgentWay,
    name: &'static str,
    body: F,
) {
    match way {
        AgentWay::Guard => {
            let run = tracer.agent_run(name);
            // Spelled out: `tracing::Instrument` is in scope, and its `instrument` takes
            // the guard by value first.
            orchestrator_tower::AgentRunGuard::instrument(&run, body).await;
            run.finish();
        }
        AgentWay::Instrument => instrumented_agent(name, body).await,
        AgentWay::Rig => {
            let span = tracing::info_span!(
                "invoke_agent",
                gen_ai.operation.name = "invoke_agent",
                gen_ai.agent.name = name,
                gen_ai.system_instructions = "You are a careful researcher.",
                gen_ai.prompt = Empty,
                gen_ai.completion = Empty,
                gen_ai.usage.input_tokens = Empty,
                gen_ai.usage.output_tokens = Empty,
            );
            body.instrument(span).await;
        }
    }
}

#[tracing::instrument(skip_all, fields(gen_ai.operation.name = "invoke_agent", gen_ai.agent.name = name))]
async fn instrumented_agent<F: Future<Output = ()>>(name: &str, body: F) {
    body.await;
}

/// The tool's work: a millisecond, then its result or an error.
async fn work(fail: bool) -> Result<&'static str, String> {
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    if fail {
        Err("the tool failed".to_owned())
    } else {
        Ok("22°C")
    }
}

/// Calls tool `name` (with the model's call id, if any), recorded `way`.
pub(crate) async fn tool(
    tracer: &Tracer,
    way: AgentWay,
    name: &str,
    call_id: Option<&str>,
    fail: bool,
) {
    match way {
        AgentWay::Guard => {
            let mut call = tracer.tool_call(name.to_owned());
            if let Some(id) = call_id {
                call.call_id(id);
            }
            match work(fail).await {
                Ok(_) => call.finish(),
                Err(_) => call.fail(ErrorKind::Named("tool_error")),
            }
        }
        AgentWay::Instrument => {
            let _ = instrumented_tool(name, call_id, fail).await;
        }
        AgentWay::Rig => {
            let span = tracing::info_span!(
                parent: tracing::Span::current(),
                "execute_tool",
                gen_ai.operation.name = "execute_tool",
                gen_ai.tool.type = "function",
                gen_ai.tool.name = Empty,
                gen_ai.tool.call.id = Empty,
                gen_ai.tool.call.arguments = Empty,
                gen_ai.tool.call.result = Empty,
                gen_ai.tool.error.type = Empty,
            );
            async {
                let span = tracing::Span::current();
                span.record("gen_ai.tool.name", name);
                if let Some(id) = call_id {
                    span.record("gen_ai.tool.call.id", id);
                }
                span.record("gen_ai.tool.call.arguments", r#"{"location":"Paris"}"#);
                match work(fail).await {
                    Ok(result) => span.record("gen_ai.tool.call.result", result),
                    Err(_) => span.record("gen_ai.tool.error.type", "ToolError"),
                };
            }
            .instrument(span)
            .await;
        }
    }
}

#[tracing::instrument(err, skip_all, fields(
    gen_ai.operation.name = "execute_tool",
    gen_ai.tool.name = name,
    gen_ai.tool.call.id = call_id,
))]
async fn instrumented_tool(
    name: &str,
    call_id: Option<&str>,
    fail: bool,
) -> Result<&'static str, String> {
    work(fail).await
}
