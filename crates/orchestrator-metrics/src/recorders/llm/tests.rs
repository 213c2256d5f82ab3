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

/// The outcome → series mapping is one table: each outcome's index, its label value and
/// the catalogue's closed set agree, so a new outcome cannot be counted as another.
#[test]
fn outcomes_index_their_own_series() {
    let labels: Vec<&str> = LlmOutcome::ALL.iter().map(|o| o.as_str()).collect();
    assert_eq!(
        labels,
        catalogue::labels::LLM_OUTCOMES[..LlmOutcome::ALL.len()],
        "the outcomes of calls made, then the refusal"
    );
    assert_eq!(
        catalogue::labels::LLM_OUTCOMES[LlmOutcome::ALL.len()..],
        [catalogue::labels::REJECTED_BUDGET]
    );
    for (i, outcome) in LlmOutcome::ALL.iter().enumerate() {
        assert_eq!(outcome.index(), i, "{outcome:?}");
    }
    let registry = Registry::new();
    let llm = Metrics::new(&registry).llm().clone();
    for outcome in LlmOutcome::ALL {
        llm.record(&LlmCall::new("p", "m", outcome, Duration::ZERO));
    }
    let text = registry.render();
    for outcome in LlmOutcome::ALL {
        let line = format!(
            r#"orchestrator_llm_requests_total{{provider="p",model="m",outcome="{}"}} 1"#,
            outcome.as_str()
        );
        assert!(text.contains(&line), "{line}\n{text}");
    }
    assert!(
        !text.contains(r#"kind="success""#),
        "no error series for a success:\n{text}"
    );
    assert!(text.contains(r#"orchestrator_errors_total{component="llm",kind="cancelled"} 1"#));
}

/// A successful call without usage is counted missing; an estimated one is counted
/// estimated and priced; a failed call without usage is neither.
#[test]
fn unreported_usage_is_counted() {
    let registry = Registry::new();
    let prices = PriceTable::new().with_price("p", "m", ModelPrice::new(1.0, 0.5, 2.0).unwrap());
    let llm = Metrics::builder()
        .prices(prices)
        .build(&registry)
        .llm()
        .clone();
    let call = |outcome| LlmCall::new("p", "m", outcome, Duration::ZERO);
    assert_eq!(llm.record(&call(LlmOutcome::Success)), None);
    assert_eq!(llm.record(&call(LlmOutcome::RateLimited)), None);
    let cost =
        llm.record(&call(LlmOutcome::Success).with_estimated_usage(TokenUsage::new(1_000_000, 0)));
    assert_eq!(cost, Some(1.0));
    llm.record(&call(LlmOutcome::Success).with_usage(TokenUsage::new(1, 1)));
    let text = registry.render();
    for (usage, n) in [("missing", 1), ("estimated", 1)] {
        let line = format!(
            r#"orchestrator_llm_unreported_usage_total{{provider="p",model="m",usage="{usage}"}} {n}"#
        );
        assert!(text.contains(&line), "{line}\n{text}");
    }
}
