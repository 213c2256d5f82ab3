//! Budgets that span a fleet and survive restarts: their spend and the holds of calls in
//! flight kept in a shared store (Redis, in `orchestrator-kpi`), behind this small trait so
//! that this crate stays free of network code.
//!
//! Every replica charges the store and reserves against it; the process also keeps its own
//! rolling spend, which stands in when the store cannot be reached: a reservation then
//! falls back to the local figure (fail-open) or is refused (fail-closed), as the user
//! chose, counted either way.

use std::time::Duration;

use super::BudgetPeriod;

/// One budget as the store knows it: its tenant and period, and the key the store files it
/// under (made by the store from a hash of the tenant, so a hostile tenant name never
/// reaches a key and the key space is one entry per configured budget).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BudgetKey {
    /// The tenant (`*` for the service).
    pub tenant: String,
    /// The period.
    pub period: BudgetPeriod,
}

/// What the store answered a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreAdmit {
    /// Held: release it with this id.
    Admitted {
        /// The hold's id.
        hold: u64,
    },
    /// No room.
    Refused {
        /// What the period spent plus what is held, in nano-dollars, fleet-wide.
        spent_and_held_nanos: u64,
        /// When enough spend leaves the period for this call to fit, if ever.
        retry_after: Option<Duration>,
    },
}

/// The store could not answer (unreachable, timed out, refused the script).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the budget store could not be reached: {0}")]
pub struct StoreError(pub String);

/// What a reservation does when the store cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailMode {
    /// Checks against this process's own spend and holds, and admits what fits there
    /// (the default: the service keeps serving).
    #[default]
    Open,
    /// Refuses the call, naming the cause (spend can never pass the budget unseen).
    Closed,
}

/// A store of budgets' spend and holds shared by replicas.
pub trait BudgetStore: Send + Sync + std::fmt::Debug {
    /// Adds `nanos` nano-dollars to the budget's current slot. Must not block: queue it.
    fn charge(&self, budget: &BudgetKey, nanos: u64);

    /// Holds `nanos` if what the budget's period spent, what calls in flight hold and
    /// `nanos` fit within `limit_nanos`, in one atomic step. Called before a call is sent:
    /// bound its wait (a timeout of its own).
    fn reserve(
        &self,
        budget: &BudgetKey,
        nanos: u64,
        limit_nanos: u64,
    ) -> Result<StoreAdmit, StoreError>;

    /// Releases the hold `hold` of `nanos`. Must not block: queue it.
    fn release(&self, budget: &BudgetKey, hold: u64, nanos: u64);

    /// What the budget's period spent fleet-wide, as last read (the store refreshes it off
    /// the request path); `None` when it is not known (the store unreachable).
    fn spent(&self, budget: &BudgetKey) -> Option<u64>;
}
