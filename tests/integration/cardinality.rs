//! 100,000 distinct values of a guarded label leave at most cap + 1 series, and the overflow
//! is counted.

use std::time::Duration;

use orchestrator_telemetry::{CardinalityLimits, GuardedLabel, Metrics, Registry, exposition};

#[test]
fn a_flood_of_routes_is_folded_into_other_and_counted() {
    const CAP: usize = 50;
    const DISTINCT: usize = 100_000;
    let registry = Registry::new();
    let metrics = Metrics::builder()
        .cardinality(CardinalityLimits::default().cap(GuardedLabel::Route, CAP))
        .build(&registry);
    for i in 0..DISTINCT {
        metrics
            .requests()
            .record(&format!("/users/{i}"), "GET", 200, Duration::from_millis(1));
    }
    let parsed = exposition::parse(&registry.render()).unwrap();
    let series: Vec<_> = parsed.samples("orchestrator_requests_total").collect();
    assert_eq!(series.len(), CAP + 1, "cap + the \"other\" series");
    let other = series
        .iter()
        .find(|s| s.label("route") == Some("other"))
        .unwrap();
    assert_eq!(other.value, (DISTINCT - CAP) as f64);
    assert_eq!(
        parsed.sum("orchestrator_requests_total"),
        Some(DISTINCT as f64),
        "nothing is lost"
    );
    let folded = parsed
        .samples("orchestrator_label_values_folded_total")
        .find(|s| s.label("label") == Some("route"))
        .unwrap();
    assert_eq!(folded.value, (DISTINCT - CAP) as f64);
    assert!(registry.series_count_of("orchestrator_request_duration_seconds") <= CAP + 1);
}

#[test]
fn a_flood_of_models_is_folded_the_same_way_in_every_llm_metric() {
    let registry = Registry::new();
    let metrics = Metrics::builder()
        .cardinality(CardinalityLimits::default().cap(GuardedLabel::Model, 3))
        .build(&registry);
    for i in 0..10_000 {
        let model = format!("model-{i}");
        let call = orchestrator_telemetry::LlmCall::new(
            "openai",
            &model,
            orchestrator_telemetry::LlmOutcome::Success,
            Duration::from_millis(100),
        );
        metrics.llm().record(&call);
    }
    let parsed = exposition::parse(&registry.render()).unwrap();
    let models = |name: &str| {
        let mut m: Vec<String> = parsed
            .samples(name)
            .filter_map(|s| s.label("model").map(str::to_owned))
            .collect();
        m.sort();
        m.dedup();
        m
    };
    let expected = vec!["model-0", "model-1", "model-2", "other"];
    assert_eq!(models("orchestrator_llm_requests_total"), expected);
    assert_eq!(models("orchestrator_llm_latency_seconds_count"), expected);
}
