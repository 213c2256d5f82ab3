//! Reserving against a shared store: each enforcing budget asked in turn (in index order),
//! the holds already taken given back when a later budget refuses, and the store's failures
//! handled as the user chose (fail-open: this process's own figure decides; fail-closed:
//! refused, naming the cause), counted in
//! `orchestrator_telemetry_dropped_total{queue="budget_store"}` either way.

use std::sync::Arc;

use super::reserve::{BudgetExceeded, Hold, Reservation, nanos};
use super::store::{BudgetStore, FailMode, StoreAdmit};
use super::{Budgets, Entry};

impl Budgets {
    pub(super) fn reserve_shared(
        self: &Arc<Self>,
        store: &dyn BudgetStore,
        fail: FailMode,
        applies: &dyn Fn(&Entry) -> bool,
        usd: f64,
    ) -> Result<Option<Reservation>, BudgetExceeded> {
        let amount = nanos(usd);
        let mut reservation = Reservation {
            budgets: self.clone(),
            held: Vec::new(),
        };
        let now = self.now_ms();
        for (index, entry) in self.entries.iter().enumerate().filter(|(_, e)| applies(e)) {
            match store.reserve(&entry.key, amount, nanos(entry.budget.usd)) {
                Ok(StoreAdmit::Admitted { hold }) => {
                    entry.held(amount, true);
                    reservation.held.push(Hold {
                        index,
                        nanos: amount,
                        store: Some(hold),
                    });
                }
                Ok(StoreAdmit::Refused {
                    spent_and_held_nanos,
                    retry_after,
                }) => {
                    // Dropping the reservation gives back what the earlier budgets held.
                    return Err(entry.refusal(spent_and_held_nanos as f64 / 1e9, usd, retry_after));
                }
                Err(failure) => {
                    self.store_failed();
                    match fail {
                        FailMode::Closed => {
                            if let Some(rejected) = &entry.rejected {
                                rejected.increment(1);
                            }
                            return Err(BudgetExceeded {
                                tenant: entry.budget.tenant.clone(),
                                period: entry.budget.period.as_str(),
                                budget_usd: entry.budget.usd,
                                spent_usd: entry.local_spend(now),
                                needed_usd: usd,
                                retry_after: None,
                                unavailable: Some(failure.to_string()),
                            });
                        }
                        FailMode::Open => {
                            entry.reserve_local(now, usd)?;
                            entry.held(amount, true);
                            reservation.held.push(Hold {
                                index,
                                nanos: amount,
                                store: None,
                            });
                        }
                    }
                }
            }
        }
        Ok(Some(reservation))
    }

    /// Counts one operation the store could not do.
    pub(super) fn store_failed(&self) {
        if let Some(failed) = &self.store_failures {
            failed.increment(1);
        }
    }
}

impl Entry {
    /// What this process saw spent and held over the period.
    pub(super) fn local_spend(&self, now_ms: u64) -> f64 {
        let spend = self.lock();
        spend.rolling.total(now_ms) + spend.reserved_nanos as f64 / 1e9
    }
}
