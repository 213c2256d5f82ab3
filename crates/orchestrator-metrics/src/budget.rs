//! LLM budgets: an amount in US dollars a tenant (or the whole service, `*`) may spend over a
//! rolling day or 30 days.
//!
//! Each budget exports `orchestrator_tenant_budget_usd`, the spend charged to it
//! (`orchestrator_tenant_budget_spend_usd_total`), the spend over its rolling period divided
//! by the amount (`orchestrator_tenant_budget_spend_ratio`), and the amount spread evenly over
//! the period (`orchestrator_tenant_budget_rate_usd`, per second), all labelled
//! `{tenant, period}`. The alert rules `BudgetWarning`, `BudgetExceeded` and
//! `SpendRateAnomaly` read them.
//!
//! The rolling spend is kept in the process, in slots (15 minutes for a day, an hour for 30
//! days), so the period is exact to within one slot; it starts at zero when the process
//! starts. A fleet of replicas each holds its own share: alert on
//! `sum by (tenant, period)` in Prometheus for the fleet's total.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::catalogue;
use crate::registry::{CounterHandle, GaugeHandle, Registry};

mod reserve;
mod shared;
mod store;
pub use reserve::{BudgetExceeded, CallBound, DEFAULT_RESERVED_OUTPUT_TOKENS, Policy, Reservation};
pub use store::{BudgetKey, BudgetStore, FailMode, StoreAdmit, StoreError};

/// The tenant of a service-wide budget, charged with every priced LLM call.
pub const SERVICE_BUDGET: &str = "*";

/// The period a budget is spent over, rolling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BudgetPeriod {
    /// The last 24 hours (`1d`).
    Day,
    /// The last 30 days (`30d`).
    ThirtyDays,
}

impl BudgetPeriod {
    /// The `period` label value: `1d` or `30d`.
    pub const fn as_str(self) -> &'static str {
        match self {
            BudgetPeriod::Day => "1d",
            BudgetPeriod::ThirtyDays => "30d",
        }
    }

    /// The length of the period.
    pub const fn duration(self) -> Duration {
        match self {
            BudgetPeriod::Day => Duration::from_secs(86_400),
            BudgetPeriod::ThirtyDays => Duration::from_secs(30 * 86_400),
        }
    }

    /// The slot the rolling spend is kept in: the period is exact to within one slot.
    pub const fn slot(self) -> Duration {
        match self {
            BudgetPeriod::Day => Duration::from_secs(900),
            BudgetPeriod::ThirtyDays => Duration::from_secs(3_600),
        }
    }
}

impl FromStr for BudgetPeriod {
    type Err = InvalidBudget;

    /// `1d` (or `day`) and `30d`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "1d" | "day" => Ok(BudgetPeriod::Day),
            "30d" => Ok(BudgetPeriod::ThirtyDays),
            _ => Err(InvalidBudget::UnknownPeriod {
                given: s.to_owned(),
            }),
        }
    }
}

/// Why a budget was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidBudget {
    /// Zero, negative, NaN or infinite.
    #[error(
        "budget of {usd} USD for tenant `{tenant}`: a budget must be a positive, finite amount"
    )]
    NotPositive {
        /// The tenant.
        tenant: String,
        /// The amount given.
        usd: f64,
    },
    /// Neither `1d` nor `30d`.
    #[error("unknown budget period `{given}`: use `1d` (or `day`) or `30d`")]
    UnknownPeriod {
        /// What was given.
        given: String,
    },
    /// An empty tenant.
    #[error("a budget needs a tenant (or `*` for the whole service)")]
    EmptyTenant,
    /// Not `TENANT:PERIOD:USD`.
    #[error("`{given}` is not a budget: write TENANT:PERIOD:USD, for example acme:1d:25")]
    Syntax {
        /// What was given.
        given: String,
    },
}

/// What a tenant, or the whole service ([`SERVICE_BUDGET`]), may spend on LLM calls over a
/// rolling period.
///
/// ```
/// use orchestrator_metrics::{Budget, BudgetPeriod};
///
/// let acme = Budget::new("acme", BudgetPeriod::Day, 25.0)?;
/// let service: Budget = "*:30d:5000".parse()?;
/// assert_eq!(service.period(), BudgetPeriod::ThirtyDays);
/// assert!(Budget::new("acme", BudgetPeriod::Day, 0.0).is_err());
/// # Ok::<(), orchestrator_metrics::InvalidBudget>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    tenant: String,
    period: BudgetPeriod,
    usd: f64,
    policy: Policy,
}

impl Budget {
    /// `usd` for `tenant` over `period`; `tenant` `*` is the whole service.
    pub fn new(tenant: &str, period: BudgetPeriod, usd: f64) -> Result<Self, InvalidBudget> {
        if tenant.is_empty() {
            return Err(InvalidBudget::EmptyTenant);
        }
        if !(usd.is_finite() && usd > 0.0) {
            return Err(InvalidBudget::NotPositive {
                tenant: tenant.to_owned(),
                usd,
            });
        }
        Ok(Budget {
            tenant: tenant.to_owned(),
            period,
            usd,
            policy: Policy::Observe,
        })
    }

    /// The same budget, enforced as `policy` says: [`Policy::Reject`] refuses, before they
    /// are sent, the calls that would overrun it (through
    /// [`LlmMetrics::reserve`](crate::LlmMetrics::reserve), which the middleware, the
    /// reqwest middleware and the guard's `try_llm_call` call).
    pub fn enforce(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// How the budget is enforced.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The tenant, or `*`.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The period.
    pub fn period(&self) -> BudgetPeriod {
        self.period
    }

    /// The amount in US dollars.
    pub fn usd(&self) -> f64 {
        self.usd
    }
}

impl FromStr for Budget {
    type Err = InvalidBudget;

    /// `TENANT:PERIOD:USD[:POLICY]`, for example `acme:1d:25`, `*:30d:5000` or
    /// `acme:1d:25:reject` (`observe`, the default, or `reject`). The tenant may itself
    /// contain colons.
    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let syntax = || InvalidBudget::Syntax {
            given: given.to_owned(),
        };
        let (s, policy) = match given.rsplit_once(':') {
            Some((rest, "reject")) => (rest, Policy::Reject),
            Some((rest, "observe")) => (rest, Policy::Observe),
            _ => (given, Policy::Observe),
        };
        let mut parts = s.rsplitn(3, ':');
        let (usd, period, tenant) = match (parts.next(), parts.next(), parts.next()) {
            (Some(usd), Some(period), Some(tenant)) => (usd, period, tenant),
            _ => return Err(syntax()),
        };
        let usd: f64 = usd.trim().parse().map_err(|_| syntax())?;
        Ok(Budget::new(tenant, period.parse()?, usd)?.enforce(policy))
    }
}

/// The spend of one period, in slots that each remember which slot of time they hold.
#[derive(Debug)]
struct Rolling {
    slot_ms: u64,
    /// (slot number + 1, spend); 0 marks a slot never written.
    slots: Box<[(u64, f64)]>,
}

impl Rolling {
    fn new(period: BudgetPeriod) -> Self {
        let slot_ms = period.slot().as_millis() as u64;
        let n = (period.duration().as_millis() as u64 / slot_ms) as usize;
        Rolling {
            slot_ms,
            slots: vec![(0, 0.0); n].into_boxed_slice(),
        }
    }

    fn add(&mut self, now_ms: u64, usd: f64) {
        let number = now_ms / self.slot_ms + 1;
        let len = self.slots.len();
        let slot = &mut self.slots[(number % len as u64) as usize];
        if slot.0 != number {
            *slot = (number, 0.0);
        }
        slot.1 += usd;
    }

    /// How long until the spend still in the period is at most `allowed`, as its oldest
    /// slots leave it; `None` if it never gets there by slots leaving (`allowed` negative:
    /// what is held for calls in flight takes the room).
    fn room_at(&self, now_ms: u64, allowed: f64) -> Option<Duration> {
        if allowed < 0.0 {
            return None;
        }
        let number = now_ms / self.slot_ms + 1;
        let oldest = number.saturating_sub(self.slots.len() as u64 - 1).max(1);
        let mut live: Vec<(u64, f64)> = self
            .slots
            .iter()
            .copied()
            .filter(|(n, _)| *n >= oldest && *n <= number)
            .collect();
        live.sort_by_key(|(n, _)| *n);
        let mut total: f64 = live.iter().map(|(_, usd)| usd).sum();
        if total <= allowed {
            return Some(Duration::ZERO);
        }
        for (n, usd) in live {
            total -= usd;
            if total <= allowed {
                // Slot `n` (numbered from 1) leaves the period when slot `n + len` begins.
                let leaves_ms = (n - 1 + self.slots.len() as u64) * self.slot_ms;
                return Some(Duration::from_millis(leaves_ms.saturating_sub(now_ms)));
            }
        }
        None
    }

    /// The spend in the current slot and the ones before it, up to one period.
    fn total(&self, now_ms: u64) -> f64 {
        let number = now_ms / self.slot_ms + 1;
        let oldest = number.saturating_sub(self.slots.len() as u64 - 1);
        self.slots
            .iter()
            .filter(|(n, _)| *n >= oldest.max(1) && *n <= number)
            .map(|(_, usd)| usd)
            .sum()
    }
}

/// A budget's rolling spend and what calls in flight hold on it.
#[derive(Debug)]
struct Spend {
    rolling: Rolling,
    /// Held for calls in flight, in nano-dollars.
    reserved_nanos: u64,
}

#[derive(Debug)]
struct Entry {
    budget: Budget,
    spend: Mutex<Spend>,
    spent: Option<CounterHandle>,
    ratio: Option<GaugeHandle>,
    /// Calls refused (enforcing budgets only).
    rejected: Option<CounterHandle>,
    /// The budget as the shared store knows it.
    key: BudgetKey,
    /// What this process holds on it (locally or in the store), in nano-dollars.
    held_here: std::sync::atomic::AtomicU64,
    /// `orchestrator_tenant_budget_reserved_usd` (enforcing budgets only).
    reserved: Option<GaugeHandle>,
    /// `orchestrator_tenant_budget_shared` (with a store only).
    shared: Option<GaugeHandle>,
}

impl Entry {
    fn charge(&self, now_ms: u64, usd: f64) {
        let mut spend = self.lock();
        spend.rolling.add(now_ms, usd);
        let total = spend.rolling.total(now_ms);
        drop(spend);
        if let Some(spent) = &self.spent {
            let _ = spent.add(usd);
        }
        self.set_ratio(total);
    }

    /// The ratio from the fleet's spend when the store knows it, else this process's.
    fn refresh(&self, now_ms: u64, store: Option<&dyn BudgetStore>) {
        let shared = store.and_then(|s| s.spent(&self.key));
        if let Some(flag) = &self.shared {
            let _ = flag.set(if shared.is_some() { 1.0 } else { 0.0 });
        }
        let total = match shared {
            Some(nanos) => nanos as f64 / 1e9,
            None => self.lock().rolling.total(now_ms),
        };
        self.set_ratio(total);
    }

    fn set_ratio(&self, total: f64) {
        if let Some(ratio) = &self.ratio {
            let _ = ratio.set(total / self.budget.usd);
        }
    }
}

/// The configured budgets, charged by the LLM and tenant recorders.
#[derive(Debug)]
pub(crate) struct Budgets {
    entries: Box<[Entry]>,
    start: Instant,
    /// The store the fleet shares, and what to do when it cannot be reached.
    store: Option<(Arc<dyn BudgetStore>, FailMode)>,
    /// `orchestrator_telemetry_dropped_total{queue="budget_store"}`.
    store_failures: Option<CounterHandle>,
    /// Whether any budget refuses calls: if none does, admitting a call is nothing.
    enforcing: bool,
}

impl Budgets {
    /// Exports `budgets` in `registry` and keeps their ratios current at every render.
    #[cfg(test)]
    pub(crate) fn new(registry: &Registry, budgets: Vec<Budget>) -> Arc<Self> {
        Self::with_store(registry, budgets, None)
    }

    /// As `new`, spending and holding in `store` too when one is given.
    pub(crate) fn with_store(
        registry: &Registry,
        budgets: Vec<Budget>,
        store: Option<(Arc<dyn BudgetStore>, FailMode)>,
    ) -> Arc<Self> {
        let entries: Box<[Entry]> = budgets
            .into_iter()
            .map(|budget| {
                let labels = [budget.tenant.as_str(), budget.period.as_str()];
                let gauge = |def| registry.gauge(def, &labels).ok();
                if let Some(amount) = gauge(&catalogue::TENANT_BUDGET_USD) {
                    let _ = amount.set(budget.usd);
                }
                if let Some(even) = gauge(&catalogue::TENANT_BUDGET_RATE_USD) {
                    let _ = even.set(budget.usd / budget.period.duration().as_secs_f64());
                }
                let ratio = gauge(&catalogue::TENANT_BUDGET_SPEND_RATIO);
                if let Some(ratio) = &ratio {
                    let _ = ratio.set(0.0);
                }
                let rejected = (budget.policy == Policy::Reject)
                    .then(|| {
                        registry
                            .counter(&catalogue::TENANT_BUDGET_REJECTIONS_TOTAL, &labels)
                            .ok()
                    })
                    .flatten();
                let reserved = (budget.policy == Policy::Reject)
                    .then(|| gauge(&catalogue::TENANT_BUDGET_RESERVED_USD))
                    .flatten();
                if let Some(reserved) = &reserved {
                    let _ = reserved.set(0.0);
                }
                let shared = store
                    .as_ref()
                    .and_then(|_| gauge(&catalogue::TENANT_BUDGET_SHARED));
                Entry {
                    held_here: std::sync::atomic::AtomicU64::new(0),
                    reserved,
                    shared,
                    key: BudgetKey {
                        tenant: budget.tenant.clone(),
                        period: budget.period,
                    },
                    spend: Mutex::new(Spend {
                        rolling: Rolling::new(budget.period),
                        reserved_nanos: 0,
                    }),
                    spent: registry
                        .counter(&catalogue::TENANT_BUDGET_SPEND_USD_TOTAL, &labels)
                        .ok(),
                    ratio,
                    rejected,
                    budget,
                }
            })
            .collect();
        let store_failures = store.as_ref().and_then(|_| {
            registry
                .counter(&catalogue::TELEMETRY_DROPPED_TOTAL, &["budget_store"])
                .ok()
        });
        let enforcing = entries
            .iter()
            .any(|e: &Entry| e.budget.policy == Policy::Reject);
        let budgets = Arc::new(Budgets {
            enforcing,
            entries,
            start: Instant::now(),
            store,
            store_failures,
        });
        if !budgets.entries.is_empty() {
            let weak = Arc::downgrade(&budgets);
            registry.before_render(Arc::new(move || {
                if let Some(budgets) = weak.upgrade() {
                    budgets.refresh();
                }
            }));
        }
        budgets
    }

    /// Whether any budget refuses calls (`Policy::Reject`).
    pub(crate) fn enforcing(&self) -> bool {
        self.enforcing
    }

    /// The tenants with a budget of their own.
    pub(crate) fn tenants(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .map(|e| e.budget.tenant.as_str())
            .filter(|t| *t != SERVICE_BUDGET)
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Charges a priced call to the service-wide budgets.
    pub(crate) fn charge_service(&self, usd: f64) {
        self.charge(SERVICE_BUDGET, usd);
    }

    /// Charges a tenant's priced call to that tenant's budgets.
    pub(crate) fn charge_tenant(&self, tenant: &str, usd: f64) {
        if tenant != SERVICE_BUDGET {
            self.charge(tenant, usd);
        }
    }

    fn charge(&self, tenant: &str, usd: f64) {
        if self.entries.is_empty() || !(usd.is_finite() && usd > 0.0) {
            return;
        }
        let now = self.now_ms();
        for entry in self.entries.iter().filter(|e| e.budget.tenant == tenant) {
            entry.charge(now, usd);
            if let Some((store, _)) = &self.store {
                store.charge(&entry.key, reserve::nanos(usd));
            }
        }
    }

    fn refresh(&self) {
        let now = self.now_ms();
        let store = self.store.as_ref().map(|(s, _)| s.as_ref());
        for entry in self.entries.iter() {
            entry.refresh(now, store);
        }
    }
}

#[cfg(test)]
mod tests;
