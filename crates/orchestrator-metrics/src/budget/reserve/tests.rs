use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::budget::{Budget, BudgetPeriod, Budgets};
use crate::{ModelPrice, Registry};

fn budgets(list: &[Budget]) -> (Registry, Arc<Budgets>) {
    let registry = Registry::new();
    let budgets = Budgets::new(&registry, list.to_vec());
    (registry, budgets)
}

fn reject(tenant: &str, usd: f64) -> Budget {
    Budget::new(tenant, BudgetPeriod::Day, usd)
        .unwrap()
        .enforce(Policy::Reject)
}

#[test]
fn holds_add_up_and_release_on_drop() {
    let (_, b) = budgets(&[reject("acme", 1.0)]);
    let held: Vec<_> = (0..4)
        .map(|_| b.reserve(Some("acme"), 0.25).unwrap().unwrap())
        .collect();
    assert_eq!(b.reserved("acme"), [("1d", 1.0)]);
    let refused = b.reserve(Some("acme"), 0.01).unwrap_err();
    assert_eq!((refused.spent_usd, refused.budget_usd), (1.0, 1.0));
    assert_eq!(
        refused.retry_after, None,
        "holds, not spend, take the room: no slot leaving frees it"
    );
    drop(held);
    assert_eq!(b.reserved("acme"), [("1d", 0.0)]);
    assert!(b.reserve(Some("acme"), 1.0).unwrap().is_some());
}

#[test]
fn only_enforcing_budgets_of_the_tenant_and_the_service_hold() {
    let (_, b) = budgets(&[
        reject("acme", 1.0),
        Budget::new("acme", BudgetPeriod::ThirtyDays, 0.1).unwrap(),
        reject("*", 10.0),
    ]);
    let r = b.reserve(Some("acme"), 0.5).unwrap().unwrap();
    assert_eq!(
        r.held_usd(),
        1.0,
        "0.5 on acme's day budget and on the service's"
    );
    assert_eq!(b.reserved("*"), [("1d", 0.5)]);
    let other = b.reserve(Some("globex"), 0.5).unwrap().unwrap();
    assert_eq!(other.held_usd(), 0.5, "the service's only");
    let (_, observing) = budgets(&[Budget::new("acme", BudgetPeriod::Day, 1.0).unwrap()]);
    assert!(observing.reserve(Some("acme"), 5.0).unwrap().is_none());
}

#[test]
fn spend_counts_and_a_refusal_says_when_room_frees() {
    let (registry, b) = budgets(&[reject("acme", 1.0)]);
    b.charge_tenant("acme", 0.9);
    let refused = b.reserve(Some("acme"), 0.2).unwrap_err();
    let wait = refused.retry_after.expect("the spend leaves the period");
    assert!(
        wait > Duration::from_secs(23 * 3600) && wait <= Duration::from_secs(24 * 3600),
        "{wait:?}"
    );
    let dearer = b.reserve(Some("acme"), 2.0).unwrap_err();
    assert_eq!(dearer.retry_after, None, "dearer than the budget: never");
    let text = registry.render();
    assert!(
        text.contains(
            r#"orchestrator_tenant_budget_rejections_total{tenant="acme",period="1d"} 2"#
        ),
        "{text}"
    );
    assert!(
        b.reserve(Some("acme"), 0.1).is_ok(),
        "what fits is admitted"
    );
}

#[test]
fn concurrent_calls_never_overrun() {
    let (registry, b) = budgets(&[reject("acme", 1.0)]);
    let admitted = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..100 {
                    // Admitted, charged its real cost, then released: as a call goes.
                    if let Ok(Some(hold)) = b.reserve(Some("acme"), 0.1) {
                        admitted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        std::thread::yield_now();
                        b.charge_tenant("acme", 0.1);
                        drop(hold);
                    }
                }
            });
        }
    });
    assert_eq!(admitted.into_inner(), 10, "exactly the calls that fit");
    let spent = registry
        .snapshot(|f| f == crate::catalogue::TENANT_BUDGET_SPEND_USD_TOTAL.name)
        .sum_where(crate::catalogue::TENANT_BUDGET_SPEND_USD_TOTAL.name, |_| {
            true
        });
    assert!(spent <= 1.0 + 1e-9, "{spent}");
    assert_eq!(b.reserved("acme"), [("1d", 0.0)]);
}

#[test]
fn the_worst_case_is_the_dearest_reading_of_the_request() {
    let price = ModelPrice::new(3.0, 0.3, 15.0)
        .unwrap()
        .with_cache_write(3.75)
        .unwrap();
    let bound = CallBound {
        input_bytes: 1_000_000,
        max_output_tokens: Some(100_000),
    };
    // 1M input tokens all written to the cache, 100k output tokens.
    assert!((bound.worst_cost(&price) - (3.75 + 1.5)).abs() < 1e-9);
    let default = CallBound {
        input_bytes: 0,
        max_output_tokens: None,
    };
    assert!((default.worst_cost(&price) - 4_096.0 * 15.0 / 1e6).abs() < 1e-12);
    let absurd = CallBound {
        input_bytes: u64::MAX,
        max_output_tokens: Some(u64::MAX),
    };
    let worst = absurd.worst_cost(&price);
    assert!(
        worst.is_finite() && worst > 0.0,
        "capped, never an overflow: {worst}"
    );
}
