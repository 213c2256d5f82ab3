//! Per-agent limits: observed by default. A run that crosses one is marked on its span
//! (`orchestrator.agent.limit_exceeded`) and counted once
//! (`orchestrator_agent_limit_exceeded_total{agent,limit}`), which the `AgentRunaway` rule
//! watches; the run itself goes on, since only the orchestrator knows how to stop it well.
//! The spend limit can also be enforced ([`AgentLimits::enforce_cost`]): a step whose worst
//! case would take the run past it is refused before it is sent, as a budget refuses.

/// The limits of one agent's runs, given to
/// [`TracerBuilder::agent_limits`](crate::TracerBuilder::agent_limits).
///
/// ```
/// use orchestrator_metrics::{Metrics, Registry};
/// use orchestrator_tower::{AgentLimits, Tracer};
///
/// let tracer = Tracer::builder(Metrics::new(&Registry::new()))
///     .agent_limits("researcher", AgentLimits::new().max_steps(8).max_cost_usd(0.50))
///     .build()?;
/// # drop(tracer);
/// # Ok::<(), orchestrator_tower::TracerError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AgentLimits {
    max_steps: Option<u32>,
    max_cost_usd: Option<f64>,
    enforce_cost: bool,
}

impl AgentLimits {
    /// No limit.
    pub fn new() -> Self {
        AgentLimits::default()
    }

    /// A run of more LLM calls than this crosses the limit (at its `max_steps + 1`-th
    /// call). At least 1.
    pub fn max_steps(mut self, steps: u32) -> Self {
        self.max_steps = Some(steps);
        self
    }

    /// A run whose LLM spend, its sub-agents' included, goes past this many US dollars
    /// crosses the limit. Finite and positive.
    pub fn max_cost_usd(mut self, usd: f64) -> Self {
        self.max_cost_usd = Some(usd);
        self
    }

    /// Enforces [`max_cost_usd`](Self::max_cost_usd): an LLM call made in a run (or in a
    /// sub-agent's) is admitted only if the run's spend so far, what its calls in flight
    /// hold, and the call's worst case (as budgets reserve it) fit in the limit; otherwise it
    /// is refused before it is sent with `BudgetExceeded` naming the agent (`tenant`
    /// `agent:<name>`, `period` `run`), counted once per run in
    /// `orchestrator_agent_limit_exceeded_total{limit="max_cost_usd"}` and as the call's
    /// `rejected_budget` outcome. The calls checked are those admitted like budgets'
    /// (`try_llm_call`, the reqwest middleware, `BudgetLayer`).
    pub fn enforce_cost(mut self) -> Self {
        self.enforce_cost = true;
        self
    }

    pub(crate) fn check(self, agent: &str) -> Result<Limits, AgentConfigError> {
        if self.enforce_cost && self.max_cost_usd.is_none() {
            return Err(AgentConfigError::NothingToEnforce {
                agent: agent.to_owned(),
            });
        }
        if self.max_steps == Some(0) {
            return Err(AgentConfigError::ZeroSteps {
                agent: agent.to_owned(),
            });
        }
        if let Some(usd) = self.max_cost_usd
            && !(usd.is_finite() && usd > 0.0)
        {
            return Err(AgentConfigError::InvalidCost {
                agent: agent.to_owned(),
                value: usd,
            });
        }
        Ok(Limits {
            max_steps: self.max_steps,
            max_cost_usd: self.max_cost_usd,
            enforce_cost: self.enforce_cost,
        })
    }
}

/// Checked limits.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Limits {
    pub(crate) max_steps: Option<u32>,
    pub(crate) max_cost_usd: Option<f64>,
    pub(crate) enforce_cost: bool,
}

/// A limit that cannot be observed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AgentConfigError {
    /// `max_steps(0)`: every run would cross it before its first call.
    #[error("agent {agent:?}: max_steps must be at least 1")]
    ZeroSteps {
        /// The agent.
        agent: String,
    },
    /// A negative, zero, NaN or infinite `max_cost_usd`.
    #[error(
        "agent {agent:?}: max_cost_usd must be a finite positive number of dollars, not {value}"
    )]
    InvalidCost {
        /// The agent.
        agent: String,
        /// The value given.
        value: f64,
    },
    /// `enforce_cost()` without a `max_cost_usd` to enforce.
    #[error("agent {agent:?}: enforce_cost needs a max_cost_usd")]
    NothingToEnforce {
        /// The agent.
        agent: String,
    },
    /// A cost threshold for `keep_expensive` that is negative, NaN or infinite.
    #[error(
        "keep_expensive: the threshold must be a finite non-negative number of dollars, not {0}"
    )]
    InvalidThreshold(f64),
}
