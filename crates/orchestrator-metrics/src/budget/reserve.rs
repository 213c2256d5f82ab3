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
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetExceeded {
    /// The budget's tenant (`*` for the service-wide budget).
    pub tenant: String,
    /// Its period (`1d`, `30d`).
    pub period: &'static str,
    /// Its amount.
    pub budget_usd: f64,
    /// What its period has spent, plus what calls in flight hold (fleet-wide with a shared
    /// store).
    pub spent_usd: f64,
    /// What this call was to reserve.
    pub needed_usd: f64,
    /// When enough of the spend leaves the rolling period for this call to fit (an HTTP
    /// `retry-after`); `None` when it never will (the call alone is dearer than the budget),
    /// or when the store could not be asked.
    pub retry_after: Option<Duration>,
    /// Set when the call was refused because the shared store could not be reached and the
    /// budget fails closed: why.
    pub unavailable: Option<String>,
}

impl std::fmt::Display for BudgetExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.unavailable {
            Some(cause) => write!(
                f,
                "LLM budget of tenant `{}` over {} cannot be checked, so the call is refused (fail-closed): {cause}",
                self.tenant, self.period
            ),
            None => write!(
                f,
                "LLM budget of tenant `{}` exhausted: {:.6} of {} USD over {} spent or held, and this call may cost up to {:.6} USD",
                self.tenant, self.spent_usd, self.budget_usd, self.period, self.needed_usd
            ),
        }
    }
}

impl std::error::Error for BudgetExceeded {}

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
pub(super) fn nanos(usd: f64) -> u64 {
    (usd * 1e9).ceil() as u64
}

/// One hold: on which budget, how much, and where (`store`: the shared store's hold id;
/// `None`: this process's).
#[derive(Debug, Clone, Copy)]
pub(super) struct Hold {
    pub(super) index: usize,
    pub(super) nanos: u64,
    pub(super) store: Option<u64>,
}

/// The holds of one admitted call on the budgets that enforce; released when dropped.
#[derive(Debug)]
pub struct Reservation {
    pub(super) budgets: Arc<Budgets>,
    pub(super) held: Vec<Hold>,
}

impl Reservation {
    /// The total held, in US dollars (once per budget held).
    pub fn held_usd(&self) -> f64 {
        self.held.iter().map(|h| h.nanos as f64 / 1e9).sum()
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        for hold in self.held.drain(..) {
            self.budgets.release(hold);
        }
    }
}

impl Entry {
    pub(super) fn lock(&self) -> MutexGuard<'_, super::Spend> {
        self.spend.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a refusal of a call needing `usd` when `spent` is spent or held, and says so.
    pub(super) fn refusal(
        &self,
        spent: f64,
        usd: f64,
        retry_after: Option<Duration>,
    ) -> BudgetExceeded {
        if let Some(rejected) = &self.rejected {
            rejected.increment(1);
        }
        BudgetExceeded {
            tenant: self.budget.tenant.clone(),
            period: self.budget.period.as_str(),
            budget_usd: self.budget.usd,
            spent_usd: spent,
            needed_usd: usd,
            retry_after: (usd <= self.budget.usd).then_some(retry_after).flatten(),
            unavailable: None,
        }
    }

    /// Moves what this process holds on the budget by `nanos` (up when `add`), and the gauge.
    pub(super) fn held(&self, nanos: u64, add: bool) {
        use std::sync::atomic::Ordering;
        let now = if add {
            self.held_here
                .fetch_add(nanos, Ordering::Relaxed)
                .saturating_add(nanos)
        } else {
            let before = self
                .held_here
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |h| {
                    Some(h.saturating_sub(nanos))
                })
                .unwrap_or(0);
            before.saturating_sub(nanos)
        };
        if let Some(gauge) = &self.reserved {
            let _ = gauge.set(now as f64 / 1e9);
        }
    }

    /// Holds `amount` in this process if it fits in what this process saw spent and held.
    pub(super) fn reserve_local(&self, now_ms: u64, usd: f64) -> Result<(), BudgetExceeded> {
        let mut spend = self.lock();
        if let Err((spent, retry_after)) = spend.room(now_ms, self.budget.usd, usd) {
            drop(spend);
            return Err(self.refusal(spent, usd, retry_after));
        }
        spend.reserved_nanos = spend.reserved_nanos.saturating_add(nanos(usd));
        Ok(())
    }
}

impl super::Spend {
    /// Whether `usd` more fits within `limit` beside what the period spent and what is
    /// held; if not, what is spent and held, and when enough spend leaves the period.
    fn room(&self, now_ms: u64, limit: f64, usd: f64) -> Result<(), (f64, Option<Duration>)> {
        let reserved = self.reserved_nanos as f64 / 1e9;
        let spent = self.rolling.total(now_ms) + reserved;
        if spent + usd > limit {
            return Err((spent, self.rolling.room_at(now_ms, limit - reserved - usd)));
        }
        Ok(())
    }
}

impl Budgets {
    /// Releases one hold, where it was taken.
    pub(super) fn release(&self, hold: Hold) {
        let Some(entry) = self.entries.get(hold.index) else {
            return;
        };
        entry.held(hold.nanos, false);
        match (hold.store, &self.store) {
            (Some(id), Some((store, _))) => store.release(&entry.key, id, hold.nanos),
            _ => {
                let mut spend = entry.lock();
                spend.reserved_nanos = spend.reserved_nanos.saturating_sub(hold.nanos);
            }
        }
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
        if !self.enforcing || !self.entries.iter().any(applies) {
            return Ok(None);
        }
        let usd = if usd.is_finite() && usd > 0.0 {
            usd
        } else {
            0.0
        };
        if let Some((store, fail)) = &self.store {
            return self.reserve_shared(store.as_ref(), *fail, &applies, usd);
        }
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
            if let Err((spent, retry_after)) = spend.room(now, entry.budget.usd, usd) {
                drop(locked);
                return Err(entry.refusal(spent, usd, retry_after));
            }
        }
        for (_, spend) in &mut locked {
            spend.reserved_nanos = spend.reserved_nanos.saturating_add(amount);
        }
        let held: Vec<Hold> = locked
            .iter()
            .map(|(i, _)| Hold {
                index: *i,
                nanos: amount,
                store: None,
            })
            .collect();
        drop(locked);
        for hold in &held {
            self.entries[hold.index].held(amount, true);
        }
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
