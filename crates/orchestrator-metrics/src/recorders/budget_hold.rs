//! Admitting an LLM call under the enforcing budgets: its worst case priced from the price
//! table and held until the call is charged (see `budget/reserve.rs`).

use super::{LlmMetrics, counter};
use crate::budget::{BudgetExceeded, CallBound, Reservation};
use crate::catalogue::{self, labels::REJECTED_BUDGET};
use crate::guard::GuardedLabel;

impl LlmMetrics {
    /// Admits a call to `provider`/`model` billed to `tenant` (or to no tenant) before it is
    /// sent: holds its worst-case cost (`bound` priced with the price table) on every
    /// enforcing budget it falls under, or refuses it with the budget that has no room
    /// (counted in `orchestrator_tenant_budget_rejections_total{tenant,period}` and as the
    /// call's outcome, `orchestrator_llm_requests_total{outcome="rejected_budget"}`, with no
    /// latency: nothing was sent). Keep the reservation until the call is recorded, then
    /// drop it. `Ok(None)` when no budget enforces.
    ///
    /// A model missing from the price table has no cost the budgets could count (its
    /// spend is unknown, counted as `unpriced_model`): it is admitted with nothing held.
    ///
    /// ```
    /// use orchestrator_metrics::{Budget, BudgetPeriod, CallBound, Metrics, ModelPrice, Policy, PriceTable, Registry};
    ///
    /// let prices = PriceTable::new().with_price("openai", "gpt-4o", ModelPrice::new(2.5, 1.25, 10.0)?);
    /// let budget = Budget::new("acme", BudgetPeriod::Day, 0.05)?.enforce(Policy::Reject);
    /// let registry = Registry::new();
    /// let llm = Metrics::builder().prices(prices).budget(budget).build(&registry).llm().clone();
    /// // 2 000 bytes of prompt, at most 1 000 tokens out: up to 0.015 USD.
    /// let bound = CallBound { input_bytes: 2_000, max_output_tokens: Some(1_000) };
    /// let first = llm.reserve("openai", "gpt-4o", Some("acme"), bound).unwrap();
    /// let second = llm.reserve("openai", "gpt-4o", Some("acme"), bound).unwrap();
    /// let third = llm.reserve("openai", "gpt-4o", Some("acme"), bound).unwrap();
    /// let refused = llm.reserve("openai", "gpt-4o", Some("acme"), bound).unwrap_err();
    /// assert_eq!(refused.tenant, "acme");
    /// drop(first); // its call ended (and was charged): its hold is released
    /// assert!(llm.reserve("openai", "gpt-4o", Some("acme"), bound).is_ok());
    /// # drop((second, third));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve(
        &self,
        provider: &str,
        model: &str,
        tenant: Option<&str>,
        bound: CallBound,
    ) -> Result<Option<Reservation>, BudgetExceeded> {
        let worst = self.worst_cost(provider, model, bound);
        let (_, budgets, _, _) = self.for_budgets();
        budgets
            .reserve(tenant, worst)
            .inspect_err(|_| self.record_refusal(provider, model))
    }

    /// Whether any budget refuses calls: when none does, callers skip reading the request
    /// for its bound.
    pub fn enforces_budgets(&self) -> bool {
        self.for_budgets().1.enforcing()
    }

    /// The most a call to `provider`/`model` bounded by `bound` can cost, priced with the
    /// price table (0 for a model it does not price).
    pub fn worst_cost(&self, provider: &str, model: &str, bound: CallBound) -> f64 {
        let (prices, _, _, _) = self.for_budgets();
        prices
            .price(provider, model)
            .map_or(0.0, |price| bound.worst_cost(&price))
    }

    /// Counts a call refused before it was sent (by a budget, or an agent's enforced spend
    /// limit) as `orchestrator_llm_requests_total{outcome="rejected_budget"}`.
    pub fn record_refusal(&self, provider: &str, model: &str) {
        let (_, _, guard, registry) = self.for_budgets();
        let provider = guard.admit(GuardedLabel::Provider, provider);
        let model = guard.admit(GuardedLabel::Model, model);
        counter(
            registry,
            &catalogue::LLM_REQUESTS_TOTAL,
            &[&provider, &model, REJECTED_BUDGET],
        )
        .increment(1);
    }
}
