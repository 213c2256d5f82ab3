//! Issue 15, item 1: a flood of 100,000 tenant ids stays within the tenant cap (the overflow
//! in `other`, counted), and nothing is lost from the totals; an allow-list keeps the paying
//! tenants whatever the flood.

use orchestrator_metrics::{
    CardinalityLimits, GuardedLabel, Metrics, Registry, TokenUsage, exposition,
};

fn series(registry: &Registry, name: &str) -> Vec<(String, f64)> {
    exposition::parse(&registry.render())
        .unwrap()
        .samples(name)
        .map(|s| (s.label("tenant").unwrap_or_default().to_owned(), s.value))
        .collect()
}

#[test]
fn a_flood_of_tenants_stays_within_the_cap_and_is_counted() {
    let registry = Registry::new();
    let metrics = Metrics::new(&registry);
    let usage = TokenUsage::new(10, 2);
    for i in 0..100_000 {
        let tenant = format!("tenant-{i}");
        metrics.tenants().record_request(&tenant);
        metrics.tenants().record_llm(&tenant, &usage, Some(0.001));
    }
    let requests = series(&registry, "orchestrator_tenant_requests_total");
    assert_eq!(requests.len(), 101, "100 tenants and other");
    let other = requests.iter().find(|(t, _)| t == "other").unwrap().1;
    assert_eq!(other, 99_900.0);
    let total: f64 = requests.iter().map(|(_, v)| v).sum();
    assert_eq!(total, 100_000.0, "nothing lost");
    let cost: f64 = series(&registry, "orchestrator_tenant_llm_cost_usd_total")
        .iter()
        .map(|(_, v)| v)
        .sum();
    assert!((cost - 100.0).abs() < 1e-6, "{cost}");
    let folded = exposition::parse(&registry.render())
        .unwrap()
        .sum_where("orchestrator_label_values_folded_total", |s| {
            s.label("label") == Some("tenant")
        });
    // Each of the 99,900 late tenants folds twice (the request, then the LLM call).
    assert!(folded >= 99_900.0, "{folded}");
}

#[test]
fn an_allow_list_keeps_the_paying_tenants() {
    let registry = Registry::new();
    let limits = CardinalityLimits::default().allow(GuardedLabel::Tenant, ["acme", "globex"]);
    let metrics = Metrics::builder().cardinality(limits).build(&registry);
    for i in 0..1_000 {
        metrics.tenants().record_request(&format!("junk-{i}"));
    }
    metrics.tenants().record_request("acme");
    let requests = series(&registry, "orchestrator_tenant_requests_total");
    assert!(requests.contains(&("acme".to_owned(), 1.0)), "{requests:?}");
    assert!(
        requests.contains(&("other".to_owned(), 1_000.0)),
        "{requests:?}"
    );
    assert_eq!(requests.len(), 2);
}
