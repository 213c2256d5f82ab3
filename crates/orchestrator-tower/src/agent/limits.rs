//! Per-agent limits: observed, not enforced. A run that crosses one is marked on its span
//! (`orchestrator.agent.limit_exceeded`) and counted once
//! (`orchestrator_agent_limit_exceeded_total{agent,limit}`), which the `AgentRunaway` rule
//! watches; the run itself goes on, since only the orchestrator knows how to stop it well.

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

    pub(crate) fn check(self, agent: &str) -> Result<Limits, AgentConfigError> {
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
        })
    }
}

/// Checked limits.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Limits {
    pub(crate) max_steps: Option<u32>,
    pub(crate) max_cost_usd: Option<f64>,
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
    /// A cost threshold for `keep_expensive` that is negative, NaN or infinite.
    #[error(
        "keep_expensive: the threshold must be a finite non-negative number of dollars, not {0}"
    )]
    InvalidThreshold(f64),
}
