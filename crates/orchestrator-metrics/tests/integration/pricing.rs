//! Every token type priced, against the providers' published price sheets (issue 15,
//! item 3). Each figure below is from the provider's public pricing page, cited beside it;
//! the expected costs are worked out by hand in the comments.

use std::time::Duration;

use orchestrator_metrics::catalogue::{LLM_COST_USD_TOTAL, LLM_TOKENS};
use orchestrator_metrics::{
    LlmCall, LlmOutcome, Metrics, ModelPrice, PriceTable, Registry, TokenUsage, exposition,
};

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

/// Anthropic, Claude Sonnet 4, from <https://docs.anthropic.com/en/docs/about-claude/pricing>
/// ("Model pricing" table): base input $3 / MTok, 5-minute cache writes $3.75 / MTok (1.25×),
/// 1-hour cache writes $6 / MTok (2×), cache hits and refreshes $0.30 / MTok (0.1×), output
/// $15 / MTok.
fn sonnet_4(cache_write: f64) -> ModelPrice {
    ModelPrice::new(3.0, 0.30, 15.0)
        .unwrap()
        .with_cache_write(cache_write)
        .unwrap()
}

#[test]
fn anthropic_plain_input_and_output() {
    // 1,000 input tokens × $3/M + 500 output × $15/M = $0.003 + $0.0075 = $0.0105.
    close(sonnet_4(3.75).cost(&TokenUsage::new(1_000, 500)), 0.0105);
}

#[test]
fn anthropic_cache_write_five_minutes_and_one_hour() {
    // A 10,000-token system prompt written to the cache with 200 fresh tokens and 300 output:
    // Anthropic reports input_tokens 200, cache_creation_input_tokens 10,000; `input` counts
    // both. 5-minute cache: 200 × 3 + 10,000 × 3.75 + 300 × 15 = 600 + 37,500 + 4,500
    // = 42,600 $/M = $0.0426.
    let usage = TokenUsage::new(10_200, 300).with_cache_write_input(10_000);
    close(sonnet_4(3.75).cost(&usage), 0.0426);
    // 1-hour cache: 200 × 3 + 10,000 × 6 + 300 × 15 = 600 + 60,000 + 4,500 = $0.0651.
    close(sonnet_4(6.0).cost(&usage), 0.0651);
    // Unpriced cache writes cost as input (never less): 10,200 × 3 + 4,500 = $0.0351.
    let plain = ModelPrice::new(3.0, 0.30, 15.0).unwrap();
    close(plain.cost(&usage), 0.0351);
}

#[test]
fn anthropic_cache_read() {
    // The next call reads the 10,000 cached tokens: cache_read_input_tokens 10,000, 200 fresh,
    // 300 output: 200 × 3 + 10,000 × 0.30 + 300 × 15 = 600 + 3,000 + 4,500 = $0.0081.
    let usage = TokenUsage::new(10_200, 300).with_cached_input(10_000);
    close(sonnet_4(3.75).cost(&usage), 0.0081);
}

/// OpenAI, o1, from <https://openai.com/api/pricing/>: input $15 / MTok, cached input
/// $7.50 / MTok, output $60 / MTok; the reasoning guide
/// (<https://platform.openai.com/docs/guides/reasoning>) says reasoning tokens are billed as
/// output tokens.
#[test]
fn openai_reasoning_is_billed_as_output_unless_priced_apart() {
    let o1 = ModelPrice::new(15.0, 7.5, 60.0).unwrap();
    // prompt_tokens 2,000 (cached_tokens 1,000), completion_tokens 5,000 of which
    // reasoning_tokens 4,000: 1,000 × 15 + 1,000 × 7.5 + 5,000 × 60 = 15,000 + 7,500
    // + 300,000 = $0.3225, the reasoning at the output price.
    let usage = TokenUsage::new(2_000, 5_000)
        .with_cached_input(1_000)
        .with_reasoning(4_000);
    close(o1.cost(&usage), 0.3225);
    // A provider pricing reasoning apart, at $30/M: 1,000 × 60 + 4,000 × 30 = 180,000,
    // plus the input's 22,500 = $0.2025.
    close(o1.with_reasoning(30.0).unwrap().cost(&usage), 0.2025);
}

#[test]
fn impossible_counts_are_capped_not_negative() {
    // More cached and written than sent, more reasoning than answered.
    let usage = TokenUsage::new(100, 10)
        .with_cached_input(80)
        .with_cache_write_input(80)
        .with_reasoning(50);
    // 80 cached × 0.30 + 20 written × 3.75 + 10 reasoning × 15 = 24 + 75 + 150 = $0.000249.
    close(sonnet_4(3.75).cost(&usage), 0.000249);
    let base = ModelPrice::new(3.0, 0.3, 15.0).unwrap();
    assert!(base.with_cache_write(-1.0).is_err());
    assert!(base.with_reasoning(f64::NAN).is_err());
}

#[test]
fn the_recorder_prices_every_type_and_exports_cache_write_and_reasoning_tokens() {
    let registry = Registry::new();
    let prices = PriceTable::new().with_price("anthropic", "claude-sonnet-4", sonnet_4(3.75));
    let metrics: Metrics = Metrics::builder().prices(prices).build(&registry);
    let usage = TokenUsage::new(10_200, 300).with_cache_write_input(10_000);
    let call = LlmCall::new(
        "anthropic",
        "claude-sonnet-4",
        LlmOutcome::Success,
        Duration::from_secs(2),
    )
    .with_time_to_first_token(Duration::from_millis(500))
    .with_usage(usage);
    close(metrics.llm().record(&call).unwrap(), 0.0426);
    let text = registry.render();
    let parsed = exposition::parse(&text).unwrap();
    close(parsed.sum_where(LLM_COST_USD_TOTAL.name, |_| true), 0.0426);
    let tokens = |kind: &str| {
        parsed.sum_where(&format!("{}_sum", LLM_TOKENS.name), |s| {
            s.label("token_type") == Some(kind)
        })
    };
    assert_eq!(tokens("input"), 10_200.0);
    assert_eq!(tokens("cache_write"), 10_000.0);
    assert!(
        !text.contains("token_type=\"reasoning\""),
        "never reported, so never made"
    );
    // (2 s − 0.5 s) / (300 − 1) tokens.
    let tpot = parsed.sum_where("orchestrator_llm_time_per_output_token_seconds_sum", |_| {
        true
    });
    close(tpot, 1.5 / 299.0);
    // One output token: no time per output token.
    let one = LlmCall::new(
        "anthropic",
        "claude-sonnet-4",
        LlmOutcome::Success,
        Duration::from_secs(1),
    )
    .with_time_to_first_token(Duration::from_millis(900))
    .with_usage(TokenUsage::new(10, 1));
    metrics.llm().record(&one);
    let count = exposition::parse(&registry.render()).unwrap().sum_where(
        "orchestrator_llm_time_per_output_token_seconds_count",
        |_| true,
    );
    assert_eq!(count, 1.0);
}
