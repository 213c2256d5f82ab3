//! `promtool check metrics` on what the registry renders, hostile label values included.

use crate::support;

use std::time::Duration;

use orchestrator_telemetry::{
    CacheOp, CacheResult, DependencyKind, LlmCall, LlmOutcome, Metrics, Registry, TokenUsage,
};

#[test]
fn promtool_finds_no_problem_in_the_exposition() {
    let registry = Registry::new();
    let metrics = Metrics::builder()
        .prices(orchestrator_demo::demo_prices().unwrap())
        .build(&registry);
    let hostile = [
        "<img src=x onerror=alert(1)>",
        "quote\"back\\slash",
        "new\nline",
        "ünïcødé 🚀",
        "",
    ];
    for (i, value) in hostile.iter().enumerate() {
        metrics.requests().record(
            value,
            "GET",
            200 + i as u16,
            Duration::from_millis(10 * i as u64 + 1),
        );
        metrics.llm().record(
            &LlmCall::new(
                "openai",
                value,
                LlmOutcome::Success,
                Duration::from_millis(300),
            )
            .with_time_to_first_token(Duration::from_millis(80))
            .with_usage(TokenUsage::new(100, 20)),
        );
        metrics.cache().record(
            value,
            CacheOp::Get,
            CacheResult::Miss,
            Some(Duration::from_micros(30)),
        );
        metrics.dependencies().record(
            DependencyKind::External,
            value,
            Duration::from_millis(5),
            Some(value),
        );
    }
    metrics.llm().record(
        &LlmCall::new(
            "openai",
            "gpt-4o-mini",
            LlmOutcome::RateLimited,
            Duration::from_millis(40),
        )
        .with_usage(TokenUsage::new(10, 0)),
    );
    let session = metrics.sessions().start();
    session.end();
    metrics.business().record_revenue(1.25).unwrap();
    metrics.business().record_satisfaction(9.0).unwrap();
    metrics.business().record_quality(80.0).unwrap();
    metrics.business().record_conversion();
    metrics.errors().record("database", "timeout");
    metrics::with_local_recorder(&registry, || {
        metrics::counter!("app_custom_jobs_total", "queue" => "a\"b").increment(1);
        metrics::describe_counter!(
            "app_custom_jobs_total",
            "Jobs with a \\ backslash\nand a newline."
        );
    });
    let text = registry.render();
    let promtool = support::tool("promtool", "prometheus");
    let (ok, output) = support::run_with_stdin(&promtool, &["check", "metrics"], &text);
    assert!(
        ok && output.trim().is_empty(),
        "promtool check metrics:\n{output}\n--- exposition ---\n{text}"
    );
}
