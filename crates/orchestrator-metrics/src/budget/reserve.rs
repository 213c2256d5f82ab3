//! Holding a budget: reserve a call's worst-case cost before it is sent, release the hold
//! once its real cost is charged.
//!
//! A budget whose policy is [`Policy::Reject`] keeps, beside its rolling spend, the sum of
//! the reservations of calls in flight. A call is admitted only if the spend, the holds and
//! its own worst case fit in the amount; the check and the hold are one step under the
//! budget's lock, so concurrent calls cannot all pass before any is charged. The call's
//! real cost is charged as every call's is (by the LLM and tenant recorders), and the hold
//! is released when the [`Reservation`] is dropped, after the charge: between the two the
//! call counts twice, which can only refuse a neighbour early, never let one through.
//!
//! So the spend can pass the amount only by what the reservations under-estimated: the
//! input is reserved at one token per byte of the request body (byte-level tokenizers make
//! at most one token per byte), the output at the request's `max_tokens` (or
//! [`DEFAULT_RESERVED_OUTPUT_TOKENS`] when it names none), each priced at the dearest of the
//! model's rates (cache writes, reasoning).

use std::sync::{Arc, MutexGuard, PoisonError};
use std::time::Duration;

use super::{Budgets, Entry, SERVICE_BUDGET};
use crate::cost::{MAX_TOKENS_PER_CALL, ModelPrice, TokenUsage};

/// The output tokens reserved for a call whose request names no `max_tokens`.
pub const DEFAULT_RESERVED_OUTPUT_TOKENS: u64 = 4_096;

/// What a budget does when a call would overrun it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    /// Counts and alerts, never refuses (the default).
    #[default]
    Observe,
    /// Refuses, before it is sent, a call whose worst-case cost does not fit in what is
    /// left of the budget.
    Reject,
}

/// A call refused by a budget: nothing was sent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "LLM budget of tenant `{tenant}` exhausted: {spent_usd:.6} of {budget_usd} USD over {period} spent or held, and this call may cost up to {needed_usd:.6} USD"
)]
pub struct BudgetExceeded {
    /// The budget's tenant (`*` for the service-wide budget).
    pub tenant: String,
    /// Its period (`1d`, `30d`).
    pub period: &'static str,
    /// Its amount.
    pub budget_usd: f64,
    /// What its period has spent, plus what calls in flight hold.
    pub spent_usd: f64,
    /// What this call was to reserve.
    pub needed_usd: f64,
    /// When enough of the spend leaves the rolling period for this call to fit (an HTTP
    /// `retry-after`); `None` when it never will (the call alone is dearer than the budget).
    pub retry_after: Option<Duration>,
}

/// What a call may cost at most, from its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallBound {
    /// The request body's length in bytes (its input tokens are at most this many).
    pub input_bytes: u64,
    /// The request's `max_tokens` (`max_completion_tokens`, `max_output_tokens`,
    /// `maxOutputTokens`), if it names one.
    pub max_output_tokens: Option<u64>,
}

impl CallBound {
    /// The most the call can cost at `price`.
    pub fn worst_cost(&self, price: &ModelPrice) -> f64 {
        let input = self.input_bytes.min(MAX_TOKENS_PER_CALL);
        let output = self
            .max_output_tokens
            .unwrap_or(DEFAULT_RESERVED_OUTPUT_TOKENS)
            .min(MAX_TOKENS_PER_CALL);
        [(0, 0), (input, 0), (0, output), (input, output)]
            .into_iter()
            .map(|(written, reasoning)| {
                price.cost(&TokenUsage {
                    input,
                    output,
                    cache_write_input: written,
                    reasoning,
                    ..TokenUsage::default()
                })
            })
            .fold(0.0, f64::max)
    }
}

/// Holds are counted in whole nano-dollars, rounded up: adding and removing them leaves no
/// floating-point residue, however many calls come and go.
fn nanos(usd: f64) -> u64 {
    (usd * 1e9).ceil() as u64
}

/// The holds of one admitted call on the budgets that enforce; released when dropped.
#[derive(Debug)]
pub struct Reservation {
    budgets: Arc<Budgets>,
    /// (entry index, nano-dollars held).
    held: Vec<(usize, u64)>,
}

impl Reservation {
    /// The total held, in US dollars (once per budget held).
    pub fn held_usd(&self) -> f64 {
        self.held.iter().map(|(_, n)| *n as f64 / 1e9).sum()
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        for (index, held) in self.held.drain(..) {
            if let Some(entry) = self.budgets.entries.get(index) {
                let mut spend = entry.lock();
                spend.reserved_nanos = spend.reserved_nanos.saturating_sub(held);
            }
        }
    }
}

impl Entry {
    pub(super) fn lock(&self) -> MutexGuard<'_, super::Spend> {
        self.spend.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Budgets {
    /// Admits a call of `tenant` (or of no tenant) whose worst case is `usd`: holds `usd` on
    /// every enforcing budget it falls under (the tenant's and the service-wide ones), or
    /// refuses it, counting the refusal against the first budget that has no room. `None`
    /// when no enforcing budget applies (nothing is held, nothing allocated).
    pub(crate) fn reserve(
        self: &Arc<Self>,
        tenant: Option<&str>,
        usd: f64,
    ) -> Result<Option<Reservation>, BudgetExceeded> {
        let applies = |e: &Entry| {
            e.budget.policy == Policy::Reject
                && (e.budget.tenant == SERVICE_BUDGET || Some(e.budget.tenant.as_str()) == tenant)
        };
        if !self.entries.iter().any(applies) {
            return Ok(None);
        }
        let usd = if usd.is_finite() && usd > 0.0 {
            usd
        } else {
            0.0
        };
        let amount = nanos(usd);
        let now = self.now_ms();
        // Every applicable budget locked, in index order (no deadlock), so the check and the
        // holds are one step.
        let mut locked: Vec<(usize, MutexGuard<'_, super::Spend>)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| applies(e))
            .map(|(i, e)| (i, e.lock()))
            .collect();
        for (index, spend) in &locked {
            let entry = &self.entries[*index];
            let reserved = spend.reserved_nanos as f64 / 1e9;
            let spent = spend.rolling.total(now) + reserved;
            if spent + usd > entry.budget.usd {
                let retry_after = spend
                    .rolling
                    .room_at(now, entry.budget.usd - reserved - usd);
                let refusal = BudgetExceeded {
                    tenant: entry.budget.tenant.clone(),
                    period: entry.budget.period.as_str(),
                    budget_usd: entry.budget.usd,
                    spent_usd: spent,
                    needed_usd: usd,
                    retry_after: (usd <= entry.budget.usd).then_some(retry_after).flatten(),
                };
                drop(locked);
                if let Some(rejected) = &entry.rejected {
                    rejected.increment(1);
                }
                return Err(refusal);
            }
        }
        for (_, spend) in &mut locked {
            spend.reserved_nanos = spend.reserved_nanos.saturating_add(amount);
        }
        let held = locked.iter().map(|(i, _)| (*i, amount)).collect();
        drop(locked);
        Ok(Some(Reservation {
            budgets: self.clone(),
            held,
        }))
    }

    /// What the budgets of `tenant` hold for calls in flight, by (period, USD).
    #[cfg(test)]
    pub(crate) fn reserved(&self, tenant: &str) -> Vec<(&'static str, f64)> {
        self.entries
            .iter()
            .filter(|e| e.budget.tenant == tenant)
            .map(|e| {
                (
                    e.budget.period.as_str(),
                    e.lock().reserved_nanos as f64 / 1e9,
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
