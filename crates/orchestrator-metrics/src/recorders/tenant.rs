//! Spend, tokens and requests by tenant: `orchestrator_tenant_requests_total{tenant}`,
//! `orchestrator_tenant_llm_cost_usd_total{tenant}` and
//! `orchestrator_tenant_llm_tokens_total{tenant,token_type}`. The per-model metrics carry no
//! tenant label, so cardinality adds up instead of multiplying.

use std::sync::{Arc, OnceLock};

use super::counter;
use super::handle_cache::HandleCache;
use crate::budget::Budgets;
use crate::catalogue;
use crate::{CardinalityGuard, CounterHandle, GuardedLabel, Registry, TokenUsage};

#[derive(Debug)]
struct Inner {
    registry: Registry,
    guard: Arc<CardinalityGuard>,
    cache: HandleCache<(Box<str>, u64), Arc<Handles>>,
    budgets: Arc<Budgets>,
}

#[derive(Debug)]
struct Handles {
    requests: CounterHandle,
    cost: CounterHandle,
    /// input, output.
    tokens: [CounterHandle; 2],
    /// cache_read, cache_write, reasoning: made on the first call that reports them, so a
    /// tenant whose models never do has no zero series that reads as "none reported".
    parts: [OnceLock<CounterHandle>; 3],
    /// The admitted tenant label value, to make the lazy handles.
    tenant: Box<str>,
}

/// The `token_type` values of `Handles::parts`, in order.
const PARTS: [&str; 3] = ["cache_read", "cache_write", "reasoning"];

/// Records requests, LLM spend and tokens by tenant. The `tenant` label is guarded: by
/// default the first 100 tenants keep their name and later ones fold into `other`
/// (counted in `orchestrator_label_values_folded_total{label="tenant"}`); an allow-list
/// (`CardinalityLimits::allow(GuardedLabel::Tenant, ...)`) keeps the paying ones.
///
/// ```
/// use orchestrator_metrics::{Metrics, Registry, TokenUsage};
///
/// let registry = Registry::new();
/// let metrics = Metrics::new(&registry);
/// metrics.tenants().record_request("acme");
/// metrics.tenants().record_llm("acme", &TokenUsage::new(1_000, 200), Some(0.0042));
/// let text = registry.render();
/// assert!(text.contains(r#"orchestrator_tenant_llm_cost_usd_total{tenant="acme"} 0.0042"#));
/// assert!(text.contains(r#"orchestrator_tenant_llm_tokens_total{tenant="acme",token_type="output"} 200"#));
/// ```
#[derive(Debug, Clone)]
pub struct TenantMetrics {
    inner: Arc<Inner>,
}

impl TenantMetrics {
    pub(crate) fn new(
        registry: &Registry,
        guard: Arc<CardinalityGuard>,
        budgets: Arc<Budgets>,
    ) -> Self {
        TenantMetrics {
            inner: Arc::new(Inner {
                registry: registry.clone(),
                guard,
                cache: HandleCache::new(),
                budgets,
            }),
        }
    }

    fn handles(&self, tenant: &str) -> Arc<Handles> {
        let cache = &self.inner.cache;
        if let Some(h) = cache.find(cache.hash(tenant, 0), |k| &*k.0 == tenant) {
            return h.clone();
        }
        self.resolve(tenant)
    }

    #[cold]
    fn resolve(&self, tenant: &str) -> Arc<Handles> {
        let admitted = self.inner.guard.admit(GuardedLabel::Tenant, tenant);
        let admitted: &str = &admitted;
        let cache = &self.inner.cache;
        let r = &self.inner.registry;
        // Keyed by the admitted value: a flood of new tenants shares `other`'s handles and
        // never grows the cache.
        cache.get_or_insert_with(
            cache.hash(admitted, 0),
            (admitted.into(), 0),
            |k| &*k.0 == admitted,
            || {
                let tokens =
                    |kind| counter(r, &catalogue::TENANT_LLM_TOKENS_TOTAL, &[admitted, kind]);
                Arc::new(Handles {
                    requests: counter(r, &catalogue::TENANT_REQUESTS_TOTAL, &[admitted]),
                    cost: counter(r, &catalogue::TENANT_LLM_COST_USD_TOTAL, &[admitted]),
                    tokens: [tokens("input"), tokens("output")],
                    parts: Default::default(),
                    tenant: admitted.into(),
                })
            },
        )
    }

    #[cold]
    fn part<'h>(
        &self,
        cell: &'h OnceLock<CounterHandle>,
        tenant: &str,
        kind: &str,
    ) -> &'h CounterHandle {
        cell.get_or_init(|| {
            counter(
                &self.inner.registry,
                &catalogue::TENANT_LLM_TOKENS_TOTAL,
                &[tenant, kind],
            )
        })
    }

    /// Counts one API request of `tenant`.
    pub fn record_request(&self, tenant: &str) {
        self.handles(tenant).requests.increment(1);
    }

    /// Adds one LLM call's tokens and cost (as [`LlmMetrics::record`](crate::LlmMetrics::record)
    /// priced it; `None` for an unpriced model) to `tenant`, and charges the cost to the
    /// tenant's budgets (the service-wide budgets are charged by `LlmMetrics::record`).
    /// An implausible usage ([`TokenUsage::check`]) is not billed (`LlmMetrics::record` has
    /// refused and counted it).
    pub fn record_llm(&self, tenant: &str, usage: &TokenUsage, cost: Option<f64>) {
        if usage.check().is_err() {
            return;
        }
        let h = self.handles(tenant);
        for (handle, n) in h.tokens.iter().zip([usage.input, usage.output]) {
            if n > 0 {
                handle.increment(n);
            }
        }
        let parts = [usage.cached_input, usage.cache_write_input, usage.reasoning];
        for ((cell, kind), n) in h.parts.iter().zip(PARTS).zip(parts) {
            if n > 0 {
                // Made once (cold); afterwards one load.
                let handle = match cell.get() {
                    Some(handle) => handle,
                    None => self.part(cell, &h.tenant, kind),
                };
                handle.increment(n);
            }
        }
        if let Some(cost) = cost {
            // The cost was computed from checked prices: finite and non-negative.
            let _ = h.cost.add(cost);
            self.inner.budgets.charge_tenant(tenant, cost);
        }
    }
}
