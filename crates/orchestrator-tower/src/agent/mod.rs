//! Agent runs and tool calls: what the calls made inside a run add up to.
//!
//! A run's shared state ([`RunState`]) travels with the context of the calls made inside it
//! (in [`Lineage`], beside the tenant): each LLM call is a step of its innermost run and adds
//! its tokens and cost to that run and to every run around it (a parent's total includes its
//! sub-agents'); each tool call counts in its innermost run. The runs' states are pooled, so
//! a warmed-up process starts a run without allocating, sampled or not.
//!
//! The trace's own total ([`Tally`], on the local root: the request's span) is kept only
//! while the trace records spans: it is a span attribute and the input of
//! [`TracerBuilder::keep_expensive`](crate::TracerBuilder::keep_expensive).

mod guards;
mod hold;
mod limits;

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry::KeyValue;
use orchestrator_metrics::{AgentHandles, AgentLimit, TokenUsage};

pub use guards::{AgentRunCall, AgentRunGuard, MAX_NAME_BYTES, ToolCallGuard, ToolCallState};
pub(crate) use hold::RunHold;
pub(crate) use limits::Limits;
pub use limits::{AgentConfigError, AgentLimits};

/// The attribute of an agent span, and of a trace's local root, that holds the LLM spend
/// made inside it, in US dollars. The GenAI conventions have no cost attribute yet; the
/// proposal (semantic-conventions-genai PR 443, `gen_ai.usage.cost.*`) puts cost on
/// inference spans only, so that summing spans never counts a call twice: LLM spans carry
/// `gen_ai.usage.cost.amount`, and roll-ups carry this name of ours.
pub const LLM_COST_ATTRIBUTE: &str = "orchestrator.llm.cost.usd";

/// Sums of the LLM calls made inside a run or a trace.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// LLM calls started.
    steps: AtomicU64,
    /// Tool calls started.
    tool_calls: AtomicU64,
    /// US dollars, as `f64` bits.
    cost: AtomicU64,
    input: AtomicU64,
    output: AtomicU64,
}

impl Tally {
    fn add_cost(&self, usd: f64) -> f64 {
        let mut total = 0.0;
        let _ = self
            .cost
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                total = f64::from_bits(bits) + usd;
                Some(total.to_bits())
            });
        total
    }

    /// Adds one LLM call's usage and cost; returns the new cost total.
    pub(crate) fn add_llm(&self, usage: Option<&TokenUsage>, cost: Option<f64>) -> f64 {
        if let Some(usage) = usage.filter(|u| u.check().is_ok()) {
            self.input.fetch_add(usage.input, Ordering::Relaxed);
            self.output.fetch_add(usage.output, Ordering::Relaxed);
        }
        match cost {
            Some(usd) if usd > 0.0 => self.add_cost(usd),
            _ => self.cost(),
        }
    }

    /// Whether any LLM call reported usage or cost here.
    pub(crate) fn spent(&self) -> bool {
        self.cost() > 0.0
            || self.input.load(Ordering::Relaxed) > 0
            || self.output.load(Ordering::Relaxed) > 0
    }

    pub(crate) fn cost(&self) -> f64 {
        f64::from_bits(self.cost.load(Ordering::Relaxed))
    }

    fn reset(&mut self) {
        *self = Tally::default();
    }

    /// The roll-up attributes: LLM cost and tokens spent inside.
    pub(crate) fn attributes(&self, attributes: &mut Vec<KeyValue>) {
        let tokens = |n: &AtomicU64| i64::try_from(n.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        attributes.push(KeyValue::new(LLM_COST_ATTRIBUTE, self.cost()));
        attributes.push(KeyValue::new(
            "orchestrator.llm.usage.input_tokens",
            tokens(&self.input),
        ));
        attributes.push(KeyValue::new(
            "orchestrator.llm.usage.output_tokens",
            tokens(&self.output),
        ));
    }
}

/// One agent run in progress, shared by the calls made inside it.
#[derive(Debug, Default)]
pub(crate) struct RunState {
    handles: Option<Arc<AgentHandles>>,
    parent: Option<Arc<RunState>>,
    limits: Limits,
    tally: Tally,
    /// Limits crossed, as bits of `AgentLimit`.
    exceeded: AtomicU8,
    /// What the calls in flight inside the run hold on its enforced spend limit, in
    /// nano-dollars (`hold.rs`).
    held: std::sync::atomic::AtomicU64,
}

impl RunState {
    /// An LLM call started inside this run (its innermost): one more step.
    pub(crate) fn step(&self) {
        let steps = self.tally.steps.fetch_add(1, Ordering::Relaxed) + 1;
        if self
            .limits
            .max_steps
            .is_some_and(|max| steps > u64::from(max))
        {
            self.exceeded(AgentLimit::MaxSteps);
        }
    }

    /// A tool call started inside this run (its innermost).
    pub(crate) fn tool_call(&self) {
        self.tally.tool_calls.fetch_add(1, Ordering::Relaxed);
    }

    /// An LLM call made inside this run (its innermost) ended: its usage and cost go to this
    /// agent's series, and to this run's total and every enclosing run's.
    pub(crate) fn add_llm(&self, usage: Option<&TokenUsage>, cost: Option<f64>) {
        if let (Some(handles), Some(usage)) = (&self.handles, usage) {
            handles.record_llm(usage, cost);
        }
        let mut run = Some(self);
        while let Some(r) = run {
            let total = r.tally.add_llm(usage, cost);
            if r.limits.max_cost_usd.is_some_and(|max| total > max) {
                r.exceeded(AgentLimit::MaxCostUsd);
            }
            run = r.parent.as_deref();
        }
    }

    /// Counts `limit` once per run.
    pub(crate) fn exceeded(&self, limit: AgentLimit) {
        let bit = 1 << limit as u8;
        if self.exceeded.fetch_or(bit, Ordering::Relaxed) & bit == 0
            && let Some(handles) = &self.handles
        {
            handles.limit_exceeded(limit);
        }
    }

    /// The limits this run crossed.
    pub(crate) fn crossed(&self) -> impl Iterator<Item = AgentLimit> + '_ {
        let bits = self.exceeded.load(Ordering::Relaxed);
        [AgentLimit::MaxSteps, AgentLimit::MaxCostUsd]
            .into_iter()
            .filter(move |l| bits & (1 << *l as u8) != 0)
    }

    pub(crate) fn steps(&self) -> u64 {
        self.tally.steps.load(Ordering::Relaxed)
    }

    pub(crate) fn tool_calls(&self) -> u64 {
        self.tally.tool_calls.load(Ordering::Relaxed)
    }

    pub(crate) fn tally(&self) -> &Tally {
        &self.tally
    }

    pub(crate) fn handles(&self) -> Option<&AgentHandles> {
        self.handles.as_deref()
    }
}

/// What a call inherits from the call it runs in, besides its trace context: the agent run
/// it is part of and the trace's spend. Opaque; see [`CallState::inherit`](crate::CallState::inherit).
#[derive(Debug, Clone, Default)]
pub struct Lineage {
    pub(crate) agent: Option<Arc<RunState>>,
    pub(crate) spend: Option<Arc<Tally>>,
}

/// Runs' states, reused: a run ends with its state back here when nothing else holds it.
#[derive(Debug)]
pub(crate) struct RunPool {
    free: Mutex<Vec<Arc<RunState>>>,
}

/// States kept for reuse; more runs at once than this allocate for the extra ones.
const POOLED_RUNS: usize = 1024;

impl RunPool {
    pub(crate) fn new() -> Self {
        RunPool {
            free: Mutex::new(Vec::with_capacity(POOLED_RUNS)),
        }
    }

    /// A fresh state for a run of `handles`' agent, under `limits`.
    pub(crate) fn take(&self, handles: Arc<AgentHandles>, limits: Limits) -> Arc<RunState> {
        let pooled = self
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut run = pooled.unwrap_or_default();
        match Arc::get_mut(&mut run) {
            Some(state) => {
                state.handles = Some(handles);
                state.limits = limits;
            }
            // Pooled states are unshared; never reached.
            None => {
                run = Arc::new(RunState {
                    handles: Some(handles),
                    limits,
                    ..RunState::default()
                })
            }
        }
        run
    }

    /// Gives a run's state back, if nothing else holds it (a task spawned inside the run
    /// that outlives it keeps it until it ends).
    pub(crate) fn give_back(&self, mut run: Arc<RunState>) {
        let Some(state) = Arc::get_mut(&mut run) else {
            return;
        };
        state.handles = None;
        state.parent = None;
        state.tally.reset();
        *state.exceeded.get_mut() = 0;
        *state.held.get_mut() = 0;
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        if free.len() < POOLED_RUNS {
            free.push(run);
        }
    }
}

/// Sets `run`'s parent (a run is made unshared, then linked under the run it starts in).
pub(crate) fn link(run: &mut Arc<RunState>, parent: Option<Arc<RunState>>) {
    if let Some(state) = Arc::get_mut(run) {
        state.parent = parent;
    }
}
