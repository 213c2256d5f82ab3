//! Records a few requests and LLM calls through the typed recorders, then prints the
//! exposition Prometheus would scrape.
//!
//! `cargo run -p orchestrator-metrics --example record`

use std::time::Duration;

use orchestrator_metrics::{
    LlmCall, LlmOutcome, Metrics, ModelPrice, PriceTable, Registry, TokenUsage,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let registry = Registry::new();
    let prices =
        PriceTable::new().with_price("openai", "gpt-4o-mini", ModelPrice::new(0.15, 0.075, 0.60)?);
    let metrics = Metrics::builder().prices(prices).build(&registry);

    metrics
        .requests()
        .record("/v1/chat", "POST", 200, Duration::from_millis(142));
    metrics
        .requests()
        .record("/v1/chat", "POST", 502, Duration::from_millis(31));
    let cost = metrics.llm().record(
        &LlmCall::new(
            "openai",
            "gpt-4o-mini",
            LlmOutcome::Success,
            Duration::from_millis(820),
        )
        .with_time_to_first_token(Duration::from_millis(160))
        .with_usage(TokenUsage::new(1_200, 300).with_cached_input(1_000)),
    );
    println!("# cost of the call: ${:.6}", cost.unwrap_or_default());
    print!("{}", registry.render());
    Ok(())
}
