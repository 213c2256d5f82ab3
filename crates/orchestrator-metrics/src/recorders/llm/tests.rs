//! Tests of the LLM recorder's folded path (issue 14 row 10).

use std::sync::mpsc;

use super::*;
use crate::{CardinalityLimits, Metrics};

/// Issue 14 row 10: once the model cap is full, a call with a new model name folds into
/// `other` without taking a mutex, not even the provider's, whose cap is not full.
#[test]
fn a_folded_call_takes_no_lock_once_the_model_cap_is_full() {
    let registry = Registry::new();
    let metrics = Metrics::builder()
        .cardinality(CardinalityLimits::default().cap(GuardedLabel::Model, 2))
        .build(&registry);
    let llm = metrics.llm().clone();
    let call = |model| LlmCall::new("openai", model, LlmOutcome::Success, Duration::ZERO);
    for model in ["a", "b", "first-folded"] {
        llm.record(&call(model));
    }
    let guard = Arc::clone(&llm.inner.guard);
    let held = (
        guard.hold(GuardedLabel::Provider),
        guard.hold(GuardedLabel::Model),
    );
    let (done, finished) = mpsc::channel();
    let recorder = std::thread::spawn(move || {
        llm.record(&call("flood-1"));
        let _ = done.send(());
    });
    let waited = finished.recv_timeout(Duration::from_secs(10));
    drop(held);
    recorder.join().unwrap();
    assert!(waited.is_ok(), "a folded call waited for the guard's mutex");
    assert_eq!(metrics.guard().folded(GuardedLabel::Model), 2);
    let text = registry.render();
    assert!(
        text.contains(r#"orchestrator_llm_requests_total{provider="openai",model="other",outcome="success"} 2"#),
        "{text}"
    );
}

/// Issue 14 row 10: a folded call skips the price lookup only when no priced model can
/// fold. A priced name longer than the length cap folds, and keeps its price; a flood
/// name past the cap has none, and is counted unpriced.
#[test]
fn a_folded_call_is_priced_when_its_priced_model_can_fold() {
    let price = ModelPrice::new(1.0, 0.5, 2.0).expect("price");
    let registry = Registry::new();
    let metrics = Metrics::builder()
        .cardinality(
            CardinalityLimits::default()
                .cap(GuardedLabel::Model, 1)
                .max_value_len(12),
        )
        .prices(
            PriceTable::new()
                .with_price("openai", "gpt-4o", price)
                .with_price("openai", "a-name-past-the-cap", price),
        )
        .build(&registry);
    let llm = metrics.llm();
    assert!(
        !llm.inner.folded_unpriced,
        "a priced name is too long to keep"
    );
    fn call(model: &str) -> LlmCall<'_> {
        LlmCall::new("openai", model, LlmOutcome::Success, Duration::ZERO)
            .with_usage(TokenUsage::new(1_000_000, 0))
    }
    assert_eq!(llm.record(&call("junk")), None, "takes the cap");
    assert_eq!(llm.record(&call("a-name-past-the-cap")), Some(1.0));
    assert_eq!(llm.record(&call("gpt-4o")), Some(1.0));
    for i in 0..50 {
        let model = format!("flood-{i}");
        assert_eq!(llm.record(&call(&model)), None);
    }
    assert_eq!(metrics.guard().folded(GuardedLabel::Model), 51);
    let unpriced = registry
        .rejections()
        .cell(RejectReason::UnpricedModel)
        .value();
    assert_eq!(unpriced, 51.0, "junk and the flood");
    let text = registry.render();
    let other_cost = r#"orchestrator_llm_cost_usd_total{provider="openai",model="other"} 1"#;
    assert!(text.contains(other_cost), "{text}");

    // Every priced name kept: the lookup is skipped, and the flood is still unpriced.
    let registry = Registry::new();
    let metrics = Metrics::builder()
        .cardinality(CardinalityLimits::default().cap(GuardedLabel::Model, 1))
        .prices(PriceTable::new().with_price("openai", "gpt-4o", price))
        .build(&registry);
    assert!(metrics.llm().inner.folded_unpriced);
    for model in ["junk", "flood-1", "flood-2", "gpt-4o"] {
        metrics.llm().record(&call(model));
    }
    let unpriced = registry
        .rejections()
        .cell(RejectReason::UnpricedModel)
        .value();
    assert_eq!(unpriced, 3.0);
}

/// The memo of the first provider's `other` handles serves that provider only: two
/// providers flooded at once each count under their own `other` series.
#[test]
fn each_flooded_provider_keeps_its_own_other_series() {
    let registry = Registry::new();
    let metrics = Metrics::builder()
        .cardinality(CardinalityLimits::default().cap(GuardedLabel::Model, 1))
        .build(&registry);
    let llm = metrics.llm();
    let record = |provider, model: &str| {
        llm.record(&LlmCall::new(
            provider,
            model,
            LlmOutcome::Success,
            Duration::ZERO,
        ))
    };
    record("openai", "kept");
    for (i, provider) in [
        "openai",
        "openai",
        "anthropic",
        "openai",
        "anthropic",
        "openai",
    ]
    .into_iter()
    .enumerate()
    {
        record(provider, &format!("flood-{i}"));
    }
    assert!(llm.inner.first_other.get().is_some());
    let text = registry.render();
    for (provider, n) in [("openai", 4), ("anthropic", 2)] {
        let line = format!(
            "orchestrator_llm_requests_total{{provider=\"{provider}\",model=\"other\",outcome=\"success\"}} {n}\n"
        );
        assert!(text.contains(&line), "{line}{text}");
    }
}
