//! The cost can be rebuilt from `/metrics`: after a run in which three tenants call three
//! providers (every token type reported by some call: cache reads, cache writes, reasoning),
//! each model's and each tenant's token series × the price table give the cost series. A
//! token type a call never reported has no series, not a zero one.
#![cfg(feature = "reqwest")]

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use http::HeaderName;
use orchestrator_metrics::exposition::{self, Exposition, Sample};
use orchestrator_metrics::{ModelPrice, PriceTable, Registry};
use orchestrator_tower::{Sampler, TelemetryLayer, Tracer};
use tower::ServiceExt as _;

use crate::conformance::fixtures;
use crate::conformance::provider;
use crate::conformance::ways::{self, Read, Way};
use crate::support;

/// Per million tokens: input, cache read, cache write, output, reasoning. Each part has its
/// own rate, so a rebuild that mixes two parts up finds another cost.
const RATES: [(&str, &str, [f64; 5]); 3] = [
    ("openai", "gpt-test", [2.5, 1.25, 2.5, 10.0, 12.0]),
    (
        "anthropic",
        "claude-sonnet-4",
        [3.0, 0.30, 3.75, 15.0, 15.0],
    ),
    ("gcp.gemini", "gemini-test", [0.30, 0.075, 0.30, 2.5, 3.5]),
];

/// Who calls what, and how the call is recorded: each tenant calls one model, as the
/// tenant token series carry no model label.
const CALLS: [(&str, &str, Way); 6] = [
    ("acme", "openai-chat-stream", Way::Layer),
    ("acme", "openai-chat-json", Way::Middleware),
    ("acme", "openai-responses-stream", Way::Guard),
    ("globex", "anthropic-stream", Way::Layer),
    ("globex", "anthropic-json", Way::Guard),
    ("initech", "gemini-stream", Way::Middleware),
];

fn rates(provider: &str, model: &str) -> [f64; 5] {
    RATES
        .iter()
        .find(|(p, m, _)| *p == provider && *m == model)
        .map(|(_, _, r)| *r)
        .expect("a rate")
}

fn price_table() -> PriceTable {
    RATES.iter().fold(PriceTable::new(), |table, (p, m, r)| {
        let price = ModelPrice::new(r[0], r[1], r[3])
            .and_then(|price| price.with_cache_write(r[2]))
            .and_then(|price| price.with_reasoning(r[4]))
            .unwrap();
        table.with_price(*p, *m, price)
    })
}

/// The cost of the token sums `tokens(token_type)`, at `rates`, computed here.
fn rebuilt(rates: [f64; 5], tokens: impl Fn(&str) -> f64) -> f64 {
    let [input, cache_read, cache_write, output, reasoning] = rates;
    let fresh = tokens("input") - tokens("cache_read") - tokens("cache_write");
    let answer = tokens("output") - tokens("reasoning");
    (fresh * input
        + tokens("cache_read") * cache_read
        + tokens("cache_write") * cache_write
        + answer * output
        + tokens("reasoning") * reasoning)
        / 1e6
}

#[derive(Clone)]
struct App {
    tracer: Tracer,
    registry: Registry,
    provider: Arc<str>,
}

async fn ask(State(app): State<App>, Path((fixture, way)): Path<(String, usize)>) -> &'static str {
    let f = fixtures::named(&fixture).expect("a fixture");
    let way = [Way::Layer, Way::Middleware, Way::Guard][way];
    ways::call(
        &app.tracer,
        &app.registry,
        &app.provider,
        &f,
        way,
        Read::ToEnd,
        "",
    )
    .await;
    "ok"
}

fn types_of(e: &Exposition, series: &str, keep: impl Fn(&Sample) -> bool) -> Vec<String> {
    let mut types: Vec<String> = e
        .samples(series)
        .filter(|s| keep(s))
        .filter_map(|s| s.label("token_type").map(str::to_owned))
        .collect();
    types.sort();
    types
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_models_and_every_tenants_cost_is_rebuilt_from_the_token_series() {
    let (registry, tracer) = support::priced_tracer(price_table(), Sampler::always_on());
    let state = App {
        tracer: tracer.clone(),
        registry: registry.clone(),
        provider: provider::start().await.into(),
    };
    let app = Router::new()
        .route("/ask/{fixture}/{way}", post(ask))
        .with_state(state)
        .layer(TelemetryLayer::server(&tracer).tenant_header(HeaderName::from_static("x-tenant")));
    for (tenant, fixture, way) in CALLS {
        let request = http::Request::post(format!("/ask/{fixture}/{}", way as usize))
            .header("x-tenant", tenant)
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(app.clone().oneshot(request).await.unwrap().status(), 200);
    }

    let e = exposition::parse(&registry.render()).unwrap();
    let mut models = 0;
    for (provider, model) in e.label_pairs("orchestrator_llm_requests_total", "provider", "model") {
        let this = |s: &Sample| {
            s.label("provider") == Some(provider.as_str())
                && s.label("model") == Some(model.as_str())
        };
        let tokens = |kind: &str| {
            e.sum_where("orchestrator_llm_tokens_sum", |s| {
                this(s) && s.label("token_type") == Some(kind)
            })
        };
        let cost = e.sum_where("orchestrator_llm_cost_usd_total", this);
        let rebuilt = rebuilt(rates(&provider, &model), tokens);
        assert!(cost > 0.0, "{provider}/{model}");
        assert!(
            (rebuilt - cost).abs() < 1e-12,
            "{provider}/{model}: rebuilt {rebuilt}, exported {cost}"
        );
        models += 1;
    }
    assert_eq!(models, 3);

    for (tenant, provider, model) in [
        ("acme", "openai", "gpt-test"),
        ("globex", "anthropic", "claude-sonnet-4"),
        ("initech", "gcp.gemini", "gemini-test"),
    ] {
        let this = |s: &Sample| s.label("tenant") == Some(tenant);
        let tokens = |kind: &str| {
            e.sum_where("orchestrator_tenant_llm_tokens_total", |s| {
                this(s) && s.label("token_type") == Some(kind)
            })
        };
        let cost = e.sum_where("orchestrator_tenant_llm_cost_usd_total", this);
        let rebuilt = rebuilt(rates(provider, model), tokens);
        assert!(cost > 0.0, "{tenant}");
        assert!(
            (rebuilt - cost).abs() < 1e-12,
            "{tenant}: rebuilt {rebuilt}, exported {cost}"
        );
    }

    // Only the token types some call reported have a series.
    let tenant_types = |tenant: &str| {
        types_of(&e, "orchestrator_tenant_llm_tokens_total", |s| {
            s.label("tenant") == Some(tenant)
        })
    };
    let model_types = |model: &str| {
        types_of(&e, "orchestrator_llm_tokens_sum", |s| {
            s.label("model") == Some(model)
        })
    };
    let with_reasoning = ["cache_read", "input", "output", "reasoning"];
    let anthropic = ["cache_read", "cache_write", "input", "output"];
    assert_eq!(tenant_types("acme"), with_reasoning);
    assert_eq!(model_types("gpt-test"), with_reasoning);
    assert_eq!(tenant_types("globex"), anthropic);
    assert_eq!(model_types("claude-sonnet-4"), anthropic);
    assert_eq!(tenant_types("initech"), with_reasoning);
}
