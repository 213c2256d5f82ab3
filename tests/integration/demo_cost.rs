//! After a demo run, whose three models report every token type (cache reads, Anthropic's
//! cache writes, gpt-4o's reasoning), each model's cost series is rebuilt from its exported
//! token series and the demo's price table.

use std::time::Duration;

use orchestrator_demo::demo_prices;
use orchestrator_demo::load::{self, LoadConfig};
use orchestrator_demo::provider::{MODELS, ProviderConfig};
use orchestrator_telemetry::Telemetry;
use orchestrator_telemetry::orchestrator_metrics::TokenUsage;
use orchestrator_telemetry::orchestrator_metrics::exposition::{self, Sample};

#[test]
fn a_demo_runs_cost_is_rebuilt_from_its_token_series() {
    let runtime = crate::support::runtime();
    let telemetry = Telemetry::builder()
        .without_listener()
        .without_monitor()
        .ignore_otel_env()
        .prices(demo_prices().unwrap())
        .build()
        .unwrap();
    let server =
        crate::support::start_demo_with(&runtime, &telemetry, ProviderConfig::without_failures());
    // The provider draws cache writes on about one Anthropic call in eight: on a slow machine
    // a fixed short run can miss them, so the load goes on, a slice at a time, until every
    // token type has been exported (or a deadline says the demo never reports one).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut seed = 11;
    let e = loop {
        let load_config = LoadConfig {
            duration: Duration::from_secs(3),
            concurrency: 4,
            seed,
            ..LoadConfig::default()
        };
        runtime.block_on(load::run(&server.api_url(), &load_config));
        seed += 1;
        let e = exposition::parse(&telemetry.registry().render()).unwrap();
        let seen = |kind: &str| {
            e.sum_where("orchestrator_llm_tokens_sum", |s| {
                s.label("token_type") == Some(kind)
            }) > 0.0
        };
        if ["cache_read", "cache_write", "reasoning"]
            .iter()
            .all(|k| seen(k))
            || std::time::Instant::now() > deadline
        {
            break e;
        }
    };
    drop(server);

    let prices = demo_prices().unwrap();
    let mut types_seen = Vec::new();
    for model in MODELS {
        let this = |s: &Sample| {
            s.label("provider") == Some(model.provider) && s.label("model") == Some(model.model)
        };
        let tokens = |kind: &str| {
            e.sum_where("orchestrator_llm_tokens_sum", |s| {
                this(s) && s.label("token_type") == Some(kind)
            }) as u64
        };
        for kind in ["cache_read", "cache_write", "reasoning"] {
            if tokens(kind) > 0 {
                types_seen.push(kind);
            }
        }
        // The whole run's tokens as one usage, priced by the same table: each part's price
        // is per token, so the sum of the calls' costs is the cost of the summed usage.
        let usage = TokenUsage::new(tokens("input"), tokens("output"))
            .with_cached_input(tokens("cache_read"))
            .with_cache_write_input(tokens("cache_write"))
            .with_reasoning(tokens("reasoning"));
        let rebuilt = prices.cost(model.provider, model.model, &usage).unwrap();
        let exported = e.sum_where("orchestrator_llm_cost_usd_total", this);
        assert!(exported > 0.0, "{}", model.model);
        assert!(
            (rebuilt - exported).abs() < 1e-9,
            "{}: rebuilt {rebuilt} exported {exported}",
            model.model
        );
    }
    types_seen.sort();
    types_seen.dedup();
    assert_eq!(
        types_seen,
        ["cache_read", "cache_write", "reasoning"],
        "a run uses every token type"
    );
    telemetry.shutdown();
}
