//! Spend, tokens and requests by tenant: `orchestrator_tenant_requests_total{tenant}`,
//! `orchestrator_tenant_llm_cost_usd_total{tenant}` and
//! `orchestrator_tenant_llm_tokens_total{tenant,token_type}`. The per-model metrics carry no
//! tenant label, so cardinality adds up instead of multiplying.

use std::sync::Arc;

use super::counter;
use super::handle_cache::HandleCache;
use super::token_counters::TokenCounters;
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
    tokens: TokenCounters,
}

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
                Arc::new(Handles {
                    requests: counter(r, &catalogue::TENANT_REQUESTS_TOTAL, &[admitted]),
                    cost: counter(r, &catalogue::TENANT_LLM_COST_USD_TOTAL, &[admitted]),
                    tokens: TokenCounters::new(r, &catalogue::TENANT_LLM_TOKENS_TOTAL, admitted),
                })
            },
        )
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
        h.tokens.add(usage);
        if let Some(cost) = cost {
            // The cost was computed from checked prices: finite and non-negative.
            let _ = h.cost.add(cost);
            self.inner.budgets.charge_tenant(tenant, cost);
        }
    }
}
