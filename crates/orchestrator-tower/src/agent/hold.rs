//! An agent run's enforced spend limit, held like a budget: a call made inside the run holds
//! its worst case on the run and on every enclosing run that enforces its limit, or is
//! refused. The hold is taken first and checked after (one atomic add), so two steps of one
//! run started together can refuse each other early, never pass together; it is released
//! when the call's state goes, after its real cost was added to the runs.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use orchestrator_metrics::{AgentLimit, BudgetExceeded};

use super::RunState;

/// What one call holds on the runs it is made in; released when dropped.
#[derive(Debug)]
pub(crate) struct RunHold {
    runs: Vec<(Arc<RunState>, u64)>,
}

impl Drop for RunHold {
    fn drop(&mut self) {
        for (run, nanos) in self.runs.drain(..) {
            let _ = run
                .held
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |h| {
                    Some(h.saturating_sub(nanos))
                });
        }
    }
}

impl RunState {
    /// Holds `usd` on this run and its enclosing runs that enforce their spend limit, or
    /// refuses with the first that has no room (counted once per run). `None`: no run in
    /// the chain enforces.
    pub(crate) fn hold(self: &Arc<Self>, usd: f64) -> Result<Option<RunHold>, BudgetExceeded> {
        let nanos = (usd.max(0.0) * 1e9).ceil() as u64;
        let mut hold = RunHold { runs: Vec::new() };
        let mut run = Some(self.clone());
        while let Some(r) = run {
            if let (true, Some(max)) = (r.limits.enforce_cost, r.limits.max_cost_usd) {
                let before = r.held.fetch_add(nanos, Ordering::Relaxed);
                let spent = r.tally.cost() + (before + nanos) as f64 / 1e9;
                if spent > max {
                    r.held.fetch_sub(nanos, Ordering::Relaxed);
                    r.exceeded(AgentLimit::MaxCostUsd);
                    let agent = r.handles.as_deref().map_or("", |h| h.name());
                    // Dropping `hold` gives back what the inner runs held.
                    return Err(BudgetExceeded {
                        tenant: format!("agent:{agent}"),
                        period: "run",
                        budget_usd: max,
                        spent_usd: spent - usd,
                        needed_usd: usd,
                        retry_after: None,
                        unavailable: None,
                    });
                }
                hold.runs.push((r.clone(), nanos));
            }
            run = r.parent.clone();
        }
        Ok((!hold.runs.is_empty()).then_some(hold))
    }
}
