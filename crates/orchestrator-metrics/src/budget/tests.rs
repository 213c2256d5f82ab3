use super::*;
use crate::exposition;
use crate::{Metrics, TokenUsage};

const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

#[test]
fn bad_budgets_are_typed_errors() {
    for usd in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            Budget::new("acme", BudgetPeriod::Day, usd),
            Err(InvalidBudget::NotPositive { .. })
        ));
    }
    assert_eq!(
        Budget::new("", BudgetPeriod::Day, 1.0),
        Err(InvalidBudget::EmptyTenant)
    );
    assert!(matches!(
        "acme:week:10".parse::<Budget>(),
        Err(InvalidBudget::UnknownPeriod { given }) if given == "week"
    ));
    for bad in ["acme", "acme:1d", "acme:1d:ten"] {
        assert!(
            matches!(bad.parse::<Budget>(), Err(InvalidBudget::Syntax { .. })),
            "{bad}"
        );
    }
    let parsed: Budget = "team:eu:day:12.5".parse().unwrap();
    assert_eq!(
        (
            parsed.tenant(),
            parsed.period(),
            parsed.usd(),
            parsed.policy()
        ),
        ("team:eu", BudgetPeriod::Day, 12.5, Policy::Observe)
    );
    let enforced: Budget = "tenant-0:1d:0.04:reject".parse().unwrap();
    assert_eq!(
        (enforced.tenant(), enforced.usd(), enforced.policy()),
        ("tenant-0", 0.04, Policy::Reject)
    );
    assert!(matches!(
        "acme:1d:reject".parse::<Budget>(),
        Err(InvalidBudget::Syntax { .. })
    ));
}

#[test]
fn the_rolling_spend_forgets_what_is_older_than_the_period() {
    let mut day = Rolling::new(BudgetPeriod::Day);
    day.add(0, 1.0);
    day.add(6 * HOUR, 2.0);
    assert_eq!(day.total(6 * HOUR), 3.0);
    // Still inside the last 24 h (to within one 15-minute slot).
    assert_eq!(day.total(DAY - 1), 3.0);
    // The first slot has left the window; the 2.0 of hour 6 has not.
    assert_eq!(day.total(DAY + 15 * MINUTE), 2.0);
    assert_eq!(day.total(DAY + 6 * HOUR + 15 * MINUTE), 0.0);
    // A slot reused a period later starts from zero.
    day.add(2 * DAY, 0.5);
    assert_eq!(day.total(2 * DAY), 0.5);

    let mut month = Rolling::new(BudgetPeriod::ThirtyDays);
    month.add(0, 4.0);
    month.add(29 * DAY, 1.0);
    assert_eq!(month.total(29 * DAY + HOUR), 5.0);
    assert_eq!(month.total(31 * DAY), 1.0);
}

#[test]
fn spend_is_charged_to_the_tenant_and_to_the_service() {
    let registry = Registry::new();
    let prices = crate::PriceTable::new().with_price(
        "openai",
        "gpt-4o-mini",
        crate::ModelPrice::new(1.0, 1.0, 1.0).unwrap(),
    );
    let metrics = Metrics::builder()
        .prices(prices)
        .budget(Budget::new("acme", BudgetPeriod::Day, 0.01).unwrap())
        .budget(Budget::new("acme", BudgetPeriod::ThirtyDays, 1.0).unwrap())
        .budget(Budget::new(SERVICE_BUDGET, BudgetPeriod::Day, 0.1).unwrap())
        .build(&registry);
    // 4,000 tokens at $1 per million: $0.004 a call.
    let usage = TokenUsage::new(3_000, 1_000);
    for tenant in ["acme", "acme", "globex"] {
        let call = crate::LlmCall::new(
            "openai",
            "gpt-4o-mini",
            crate::LlmOutcome::Success,
            Duration::ZERO,
        )
        .with_usage(usage);
        let cost = metrics.llm().record(&call);
        metrics.tenants().record_llm(tenant, &usage, cost);
    }
    let parsed = exposition::parse(&registry.render()).unwrap();
    let value = |name: &str, tenant: &str, period: &str| {
        parsed
            .samples(name)
            .find(|s| s.label("tenant") == Some(tenant) && s.label("period") == Some(period))
            .map(|s| s.value)
            .unwrap_or_else(|| panic!("no {name}{{tenant={tenant},period={period}}}"))
    };
    let near = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(near(
        value("orchestrator_tenant_budget_spend_ratio", "acme", "1d"),
        0.8
    ));
    assert!(near(
        value("orchestrator_tenant_budget_spend_ratio", "acme", "30d"),
        0.008
    ));
    assert!(near(
        value("orchestrator_tenant_budget_spend_ratio", "*", "1d"),
        0.12
    ));
    assert!(near(
        value("orchestrator_tenant_budget_spend_usd_total", "*", "1d"),
        0.012
    ));
    assert_eq!(value("orchestrator_tenant_budget_usd", "acme", "30d"), 1.0);
    assert!(near(
        value("orchestrator_tenant_budget_rate_usd", "*", "1d"),
        0.1 / 86_400.0
    ));
    assert!(
        !parsed
            .samples("orchestrator_tenant_budget_usd")
            .any(|s| s.label("tenant") == Some("globex"))
    );
}

#[test]
fn a_budgeted_tenant_is_never_folded() {
    let registry = Registry::new();
    let metrics = Metrics::builder()
        .cardinality(crate::CardinalityLimits::default().cap(crate::GuardedLabel::Tenant, 2))
        .budget(Budget::new("paying", BudgetPeriod::Day, 5.0).unwrap())
        .build(&registry);
    for tenant in ["a", "b", "c", "paying"] {
        metrics.tenants().record_request(tenant);
    }
    let text = registry.render();
    assert!(
        text.contains(r#"orchestrator_tenant_requests_total{tenant="paying"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"orchestrator_tenant_requests_total{tenant="other"} 1"#),
        "{text}"
    );
}
