//! `tracing` spans that follow the GenAI conventions' agent operations: a span whose
//! `gen_ai.operation.name` is `invoke_agent` or `execute_tool` is recorded exactly as
//! [`Tracer::agent_run`] and [`Tracer::tool_call`] record one, sampled or not (the metrics
//! are for every run), whoever opened it: the user's `#[instrument]`, or an agent framework
//! such as rig-core, which opens `invoke_agent` with `gen_ai.agent.name` and `execute_tool`
//! with `gen_ai.tool.name` recorded once the model named the tool.
//!
//! Unlike the guards, such a span costs allocations when it opens (its name is copied, the
//! registry boxes its state), and its own other fields and events are not kept: the span
//! exported is the guard's, with the conventions' attributes.

use std::sync::atomic::{AtomicUsize, Ordering};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Record};

use crate::agent::{AgentRunGuard, ToolCallGuard};
use crate::classify::{ErrorKind, Outcome};
use crate::context::{self, Current};
use crate::tracer::Tracer;

/// GenAI spans open now, in any bridge: while there are none, entering a span inside an
/// unsampled request needs no lookup.
static OPEN: AtomicUsize = AtomicUsize::new(0);

pub(super) fn any_open() -> bool {
    OPEN.load(Ordering::Relaxed) > 0
}

enum Guard {
    Agent(AgentRunGuard),
    Tool(ToolCallGuard),
}

/// A bridged GenAI span's call, in the registry's extensions. Ends when the span closes:
/// failed if an error was recorded on it, else with its answer.
pub(super) struct GenAiSpan {
    pub(super) owner: u64,
    guard: Option<Guard>,
    error: Option<&'static str>,
}

impl GenAiSpan {
    /// The context the calls made inside the span run in.
    pub(super) fn current(&self) -> Option<&Current> {
        match self.guard.as_ref()? {
            Guard::Agent(g) => Some(g.current()),
            Guard::Tool(g) => Some(g.current()),
        }
    }

    /// Fields recorded after the span opened: a tool's name, its call id, an error.
    pub(super) fn record(&mut self, values: &Record<'_>) {
        let mut fields = GenAiFields::default();
        values.record(&mut fields);
        if fields.error.is_some() {
            self.error = Some("error");
        }
        if let Some(Guard::Tool(guard)) = &mut self.guard {
            if let Some(name) = fields.tool {
                guard.rename(name);
            }
            if let Some(id) = fields.call_id {
                guard.call_id(&id);
            }
        }
    }

    /// An `ERROR` event inside the span: the call failed (what `#[instrument(err)]` does).
    pub(super) fn failed(&mut self) {
        self.error.get_or_insert("error");
    }
}

impl Drop for GenAiSpan {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
        let outcome = match self.error {
            Some(kind) => Outcome::Failed(ErrorKind::Named(kind)),
            None => Outcome::Completed(None),
        };
        match self.guard.take() {
            Some(Guard::Agent(g)) => g.end(outcome),
            Some(Guard::Tool(g)) => g.end(outcome),
            None => {}
        }
    }
}

/// Starts the call of a new span that has a `gen_ai.operation.name` field (the caller
/// checked, by the static field names), under `parent` (the call it runs in; `None`: a
/// root). `None` when the operation is not an agent run or a tool call.
pub(super) fn start(
    tracer: &Tracer,
    owner: u64,
    attrs: &Attributes<'_>,
    parent: Option<Current>,
) -> Option<GenAiSpan> {
    let mut fields = GenAiFields::default();
    attrs.record(&mut fields);
    let mut slot = parent;
    let guard = match fields.operation.as_deref() {
        Some("invoke_agent") => {
            let name = fields.agent.unwrap_or_else(|| "unknown".to_owned());
            let mut guard = context::enter(&mut slot, || tracer.agent_run(name));
            if let Some(id) = &fields.agent_id {
                guard.id(id);
            }
            if let Some(id) = &fields.conversation {
                guard.conversation_id(id);
            }
            Guard::Agent(guard)
        }
        Some("execute_tool") => {
            let name = fields.tool.unwrap_or_default();
            let mut guard = context::enter(&mut slot, || tracer.tool_call(name));
            if let Some(id) = &fields.call_id {
                guard.call_id(id);
            }
            if let Some(kind) = fields.tool_type.as_deref().and_then(tool_type) {
                guard.tool_type(kind);
            }
            Guard::Tool(guard)
        }
        _ => return None,
    };
    OPEN.fetch_add(1, Ordering::Relaxed);
    Some(GenAiSpan {
        owner,
        guard: Some(guard),
        error: fields.error.map(|_| "error"),
    })
}

/// The conventions' tool types.
fn tool_type(kind: &str) -> Option<&'static str> {
    ["function", "extension", "datastore"]
        .into_iter()
        .find(|k| *k == kind)
}

/// The fields the agent operations are read from.
#[derive(Default)]
struct GenAiFields {
    operation: Option<String>,
    agent: Option<String>,
    agent_id: Option<String>,
    conversation: Option<String>,
    tool: Option<String>,
    call_id: Option<String>,
    tool_type: Option<String>,
    error: Option<String>,
}

impl GenAiFields {
    fn slot(&mut self, field: &Field) -> Option<&mut Option<String>> {
        Some(match field.name() {
            "gen_ai.operation.name" => &mut self.operation,
            "gen_ai.agent.name" => &mut self.agent,
            "gen_ai.agent.id" => &mut self.agent_id,
            "gen_ai.conversation.id" => &mut self.conversation,
            "gen_ai.tool.name" => &mut self.tool,
            "gen_ai.tool.call.id" => &mut self.call_id,
            "gen_ai.tool.type" => &mut self.tool_type,
            "error.type" | "gen_ai.tool.error.type" | "error" => &mut self.error,
            _ => return None,
        })
    }
}

impl Visit for GenAiFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if let Some(slot) = self.slot(field) {
            *slot = Some(crate::cap::capped(value, crate::agent::MAX_NAME_BYTES));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if let Some(slot) = self.slot(field) {
            *slot = Some(crate::cap::capped(
                &value.to_string(),
                crate::agent::MAX_NAME_BYTES,
            ));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if let Some(slot) = self.slot(field) {
            // `%value` fields arrive here formatted by `Display`; `?value` ones by `Debug`.
            let text = format!("{value:?}");
            *slot = Some(crate::cap::capped(
                text.trim_matches('"'),
                crate::agent::MAX_NAME_BYTES,
            ));
        }
    }
}
