//! The live page's Budgets panel, read from one parsed exposition: per configured budget its
//! amount, what its period spent, what this process holds for calls in flight, and the
//! calls it refused.

use orchestrator_api::BudgetRow;
use orchestrator_metrics::catalogue::{
    TENANT_BUDGET_REJECTIONS_TOTAL, TENANT_BUDGET_RESERVED_USD, TENANT_BUDGET_SHARED,
    TENANT_BUDGET_SPEND_RATIO, TENANT_BUDGET_USD,
};
use orchestrator_metrics::exposition::{Exposition, Sample};

/// The families the panel reads.
pub(super) const FAMILIES: [&str; 5] = [
    TENANT_BUDGET_USD.name,
    TENANT_BUDGET_SPEND_RATIO.name,
    TENANT_BUDGET_RESERVED_USD.name,
    TENANT_BUDGET_REJECTIONS_TOTAL.name,
    TENANT_BUDGET_SHARED.name,
];

/// One row per budget, in the order configured.
pub(super) fn budget_rows(e: &Exposition) -> Vec<BudgetRow> {
    e.samples(TENANT_BUDGET_USD.name)
        .filter_map(|budget| {
            let (tenant, period) = (budget.label("tenant")?, budget.label("period")?);
            let this =
                |s: &Sample| s.label("tenant") == Some(tenant) && s.label("period") == Some(period);
            let ratio = e.sum_where(TENANT_BUDGET_SPEND_RATIO.name, this);
            Some(BudgetRow {
                tenant: tenant.to_owned(),
                period: period.to_owned(),
                budget_usd: budget.value,
                spent_usd: ratio * budget.value,
                held_usd: e.sum_where(TENANT_BUDGET_RESERVED_USD.name, this),
                rejected: e.sum_where(TENANT_BUDGET_REJECTIONS_TOTAL.name, this),
                enforced: e.samples(TENANT_BUDGET_RESERVED_USD.name).any(&this),
                shared: e
                    .samples(TENANT_BUDGET_SHARED.name)
                    .find(|s| this(s))
                    .map(|s| s.value >= 1.0),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use orchestrator_metrics::{
        Budget, BudgetPeriod, CallBound, Metrics, ModelPrice, Policy, PriceTable, Registry,
    };

    use super::*;

    #[test]
    fn a_row_per_budget_with_its_holds_and_refusals() {
        let registry = Registry::new();
        let prices = PriceTable::new().with_price(
            "openai",
            "gpt-4o",
            ModelPrice::new(2.5, 1.25, 10.0).unwrap(),
        );
        let metrics = Metrics::builder()
            .prices(prices)
            .budget(Budget::new("*", BudgetPeriod::ThirtyDays, 100.0).unwrap())
            .budget(
                Budget::new("acme", BudgetPeriod::Day, 0.02)
                    .unwrap()
                    .enforce(Policy::Reject),
            )
            .build(&registry);
        let bound = CallBound {
            input_bytes: 1_000,
            max_output_tokens: Some(1_000),
        };
        let held = metrics
            .llm()
            .reserve("openai", "gpt-4o", Some("acme"), bound)
            .unwrap();
        assert!(
            metrics
                .llm()
                .reserve("openai", "gpt-4o", Some("acme"), bound)
                .is_err()
        );
        let e = orchestrator_metrics::exposition::parse(&registry.render()).unwrap();
        let rows = budget_rows(&e);
        assert_eq!(rows.len(), 2);
        let acme = rows.iter().find(|r| r.tenant == "acme").unwrap();
        assert!(acme.enforced && acme.rejected == 1.0);
        assert!((acme.held_usd - 0.0125).abs() < 1e-9, "{acme:?}");
        let service = rows.iter().find(|r| r.tenant == "*").unwrap();
        assert!(!service.enforced && service.held_usd == 0.0);
        assert_eq!(
            service.shared, None,
            "no store: this process's spend since start"
        );
        drop(held);
        let e = orchestrator_metrics::exposition::parse(&registry.render()).unwrap();
        let acme = budget_rows(&e)
            .into_iter()
            .find(|r| r.tenant == "acme")
            .unwrap();
        assert_eq!(acme.held_usd, 0.0, "released");
    }
}
