//! The agent-run and tool-call calls: their guards, metrics and spans, named as the GenAI
//! semantic conventions name the `invoke_agent` and `execute_tool` operations.

use std::borrow::Cow;
use std::sync::Arc;

use opentelemetry::trace::SpanKind;
use opentelemetry::{KeyValue, Value};
use orchestrator_metrics::{Metrics, RunOutcome, ToolHandles};

use super::{Lineage, RunPool, RunState, link};
use crate::call::CallGuard;
use crate::cap::capped;
use crate::classify::{Ended, Outcome};
use crate::kind::{CallState, outcome_attributes};
use crate::span::Operation;
use crate::tracer::Tracer;

/// The most bytes of an agent or tool name, or an id, put on a span. Tool names can come
/// from model output; the metrics' label is guarded apart (folded into `other` past its cap).
pub const MAX_NAME_BYTES: usize = 128;

/// An agent run recorded by hand: made by [`Tracer::agent_run`].
pub type AgentRunGuard = CallGuard<AgentRunCall>;
/// A tool call recorded by hand: made by [`Tracer::tool_call`].
pub type ToolCallGuard = CallGuard<ToolCallState>;

fn run_outcome(outcome: &Outcome) -> RunOutcome {
    match outcome {
        Outcome::Completed(_) => RunOutcome::Success,
        Outcome::Failed(_) => RunOutcome::Error,
        Outcome::Cancelled => RunOutcome::Cancelled,
    }
}

/// The state of one agent run.
#[derive(Debug)]
pub struct AgentRunCall {
    name: Cow<'static, str>,
    id: Option<String>,
    conversation: Option<String>,
    run: Option<Arc<RunState>>,
    pool: Arc<RunPool>,
}

impl Drop for AgentRunCall {
    fn drop(&mut self) {
        if let Some(run) = self.run.take() {
            self.pool.give_back(run);
        }
    }
}

impl CallState for AgentRunCall {
    const OPERATION: Operation = Operation::AgentRun;
    const SPAN_KIND: SpanKind = SpanKind::Internal;

    fn record(&self, ended: &Ended, _metrics: &Metrics) {
        let Some(run) = &self.run else { return };
        if let Some(handles) = run.handles() {
            let outcome = run_outcome(&ended.outcome);
            handles.record_run(outcome, ended.duration, run.steps(), run.tool_calls());
        }
    }

    fn name(&self) -> Cow<'static, str> {
        Cow::Owned(format!(
            "invoke_agent {}",
            capped(&self.name, MAX_NAME_BYTES)
        ))
    }

    fn attributes(&self, ended: &Ended, attributes: &mut Vec<KeyValue>) {
        attributes.push(KeyValue::new("gen_ai.operation.name", "invoke_agent"));
        attributes.push(KeyValue::new(
            "gen_ai.agent.name",
            capped(&self.name, MAX_NAME_BYTES),
        ));
        if let Some(id) = &self.id {
            attributes.push(KeyValue::new("gen_ai.agent.id", id.clone()));
        }
        if let Some(id) = &self.conversation {
            attributes.push(KeyValue::new("gen_ai.conversation.id", id.clone()));
        }
        if let Some(run) = &self.run {
            let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            attributes.push(KeyValue::new(
                "orchestrator.agent.steps",
                count(run.steps()),
            ));
            attributes.push(KeyValue::new(
                "orchestrator.agent.tool_calls",
                count(run.tool_calls()),
            ));
            run.tally().attributes(attributes);
            let crossed: Vec<_> = run.crossed().map(|l| l.as_str().into()).collect();
            if !crossed.is_empty() {
                attributes.push(KeyValue::new(
                    "orchestrator.agent.limit_exceeded",
                    Value::Array(opentelemetry::Array::String(crossed)),
                ));
            }
        }
        outcome_attributes(None, ended, attributes);
    }

    fn inherit(&mut self, lineage: &mut Lineage) {
        if let Some(run) = &mut self.run {
            link(run, lineage.agent.take());
            lineage.agent = Some(run.clone());
        }
    }
}

/// The state of one tool call.
#[derive(Debug)]
pub struct ToolCallState {
    name: Cow<'static, str>,
    call_id: Option<String>,
    tool_type: &'static str,
    /// Resolved when the call starts, or at its end when its name came later (a bridged
    /// span that records `gen_ai.tool.name` once the model named the tool).
    handles: Option<Arc<ToolHandles>>,
    /// The run the call is made in, if any: its agent counts the call's failure.
    run: Option<Arc<RunState>>,
}

/// The `tool` label of a tool call whose name was never given.
const UNNAMED_TOOL: &str = "unknown";

impl CallState for ToolCallState {
    const OPERATION: Operation = Operation::ToolCall;
    const SPAN_KIND: SpanKind = SpanKind::Internal;

    fn record(&self, ended: &Ended, metrics: &Metrics) {
        let outcome = run_outcome(&ended.outcome);
        if outcome != RunOutcome::Success
            && let Some(handles) = self.run.as_ref().and_then(|r| r.handles())
        {
            handles.tool_failed();
        }
        match &self.handles {
            Some(handles) => handles.record(outcome, ended.duration),
            None => {
                let name = if self.name.is_empty() {
                    UNNAMED_TOOL
                } else {
                    &self.name
                };
                metrics.agents().tool(name).record(outcome, ended.duration);
            }
        }
    }

    fn name(&self) -> Cow<'static, str> {
        Cow::Owned(format!(
            "execute_tool {}",
            capped(&self.name, MAX_NAME_BYTES)
        ))
    }

    fn attributes(&self, ended: &Ended, attributes: &mut Vec<KeyValue>) {
        attributes.push(KeyValue::new("gen_ai.operation.name", "execute_tool"));
        attributes.push(KeyValue::new(
            "gen_ai.tool.name",
            capped(&self.name, MAX_NAME_BYTES),
        ));
        attributes.push(KeyValue::new("gen_ai.tool.type", self.tool_type));
        if let Some(id) = &self.call_id {
            attributes.push(KeyValue::new("gen_ai.tool.call.id", id.clone()));
        }
        outcome_attributes(None, ended, attributes);
    }

    fn inherit(&mut self, lineage: &mut Lineage) {
        if let Some(run) = &lineage.agent {
            run.tool_call();
        }
        self.run.clone_from(&lineage.agent);
    }
}

impl Tracer {
    /// Starts recording a run of agent `name` (`invoke_agent {name}`, span kind internal).
    /// Run the agent's work inside it ([`instrument`](CallGuard::instrument) or
    /// [`in_scope`](CallGuard::in_scope)): the LLM calls made there are its steps and their
    /// spend is the agent's (`orchestrator_agent_llm_cost_usd_total{agent}`), sampled or not;
    /// the tool calls there are its tool calls; an agent run started there is a sub-agent
    /// (its LLM calls are its own, and its spend is in its parent's total too). End it with
    /// [`finish`](CallGuard::finish) or [`fail`](CallGuard::fail); a guard dropped first
    /// records the run as cancelled.
    ///
    /// ```
    /// use orchestrator_metrics::{LlmOutcome, Metrics, Registry, TokenUsage};
    /// use orchestrator_tower::Tracer;
    ///
    /// let registry = Registry::new();
    /// let tracer = Tracer::builder(Metrics::new(&registry)).build()?;
    /// let run = tracer.agent_run("researcher");
    /// run.in_scope(|| {
    ///     let step = tracer.llm_call("openai", "gpt-4o-mini");
    ///     step.finish(LlmOutcome::Success, Some(TokenUsage::new(300, 40)));
    ///     tracer.tool_call("web_search").finish();
    /// });
    /// run.finish();
    /// assert!(registry.render().contains(r#"orchestrator_agent_steps_sum{agent="researcher"} 1"#));
    /// # Ok::<(), orchestrator_tower::TracerError>(())
    /// ```
    pub fn agent_run(&self, name: impl Into<Cow<'static, str>>) -> AgentRunGuard {
        let name = name.into();
        let handles = self.metrics().agents().agent(&name);
        let limits = self.agent_limits_of(&name);
        let run = self.run_pool().take(handles, limits);
        let pool = self.run_pool().clone();
        CallGuard::start(self, |_, _| AgentRunCall {
            name,
            id: None,
            conversation: None,
            run: Some(run),
            pool,
        })
    }

    /// Starts recording a call of tool `name` (`execute_tool {name}`, span kind internal),
    /// of type `function` (see [`ToolCallGuard::tool_type`]). Inside an agent run it counts
    /// as one of the run's tool calls; outside any, it is a tool call of no agent. The name
    /// may come from model output: the `tool` label is guarded (past 100 names, `other`),
    /// and the span keeps the name, cut to 128 bytes.
    pub fn tool_call(&self, name: impl Into<Cow<'static, str>>) -> ToolCallGuard {
        let name = name.into();
        let handles = (!name.is_empty()).then(|| self.metrics().agents().tool(&name));
        CallGuard::start(self, |_, _| ToolCallState {
            name,
            call_id: None,
            tool_type: "function",
            handles,
            run: None,
        })
    }
}

impl AgentRunGuard {
    /// `gen_ai.agent.id`: this agent's id in your system (kept only on a recorded span).
    pub fn id(&mut self, id: &str) -> &mut Self {
        if self.records() {
            self.pending.call_mut().id = Some(capped(id, MAX_NAME_BYTES));
        }
        self
    }

    /// `gen_ai.conversation.id`: the conversation (session, thread) the run belongs to
    /// (kept only on a recorded span).
    pub fn conversation_id(&mut self, id: &str) -> &mut Self {
        if self.records() {
            self.pending.call_mut().conversation = Some(capped(id, MAX_NAME_BYTES));
        }
        self
    }

    /// The LLM spend made inside the run so far (its sub-agents' included), in US dollars.
    pub fn cost_usd(&self) -> f64 {
        self.pending
            .call()
            .run
            .as_ref()
            .map_or(0.0, |run| run.tally().cost())
    }

    /// The LLM calls made inside the run so far (not counting its sub-agents').
    pub fn steps(&self) -> u64 {
        self.pending
            .call()
            .run
            .as_ref()
            .map_or(0, |run| run.steps())
    }

    /// Ends the run with its answer.
    pub fn finish(self) {
        self.end(Outcome::Completed(None));
    }
}

impl ToolCallGuard {
    /// `gen_ai.tool.call.id`: the id the model gave the call (kept only on a recorded span).
    pub fn call_id(&mut self, id: &str) -> &mut Self {
        if self.records() {
            self.pending.call_mut().call_id = Some(capped(id, MAX_NAME_BYTES));
        }
        self
    }

    /// Names the tool once it is known (a bridged span that records `gen_ai.tool.name`
    /// after it opened).
    pub(crate) fn rename(&mut self, name: String) {
        let call = self.pending.call_mut();
        call.name = Cow::Owned(name);
        call.handles = None;
    }

    /// `gen_ai.tool.type`: `function` (the default), `extension` or `datastore`.
    pub fn tool_type(&mut self, kind: &'static str) -> &mut Self {
        self.pending.call_mut().tool_type = kind;
        self
    }

    /// Ends the call with its result.
    pub fn finish(self) {
        self.end(Outcome::Completed(None));
    }
}
