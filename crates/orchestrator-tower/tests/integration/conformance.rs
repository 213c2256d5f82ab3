//! The conformance matrix: every adapter's answers (in the providers' documented shapes,
//! streamed over real HTTP event by event with gaps) × every way a client reads them × every
//! way a call comes in (the tower layer, the reqwest middleware, the manual guard). Each
//! cell asserts the outcome, the tokens (input, output, cache reads, cache writes,
//! reasoning), the cost, whether a time to first token was
//! observed, the span's status and `error.type`, and that the call was recorded once.
//!
//! `cargo test -p orchestrator-tower --all-features --test integration conformance:: -- --nocapture`
//! prints the matrix (the README shows it).
#![cfg(feature = "reqwest")]

pub(crate) mod fixtures;
pub(crate) mod provider;
mod sdk;
pub(crate) mod tool_fixtures;
use crate::support;
pub(crate) mod ways;

use fixtures::{Fixture, Usage};
use orchestrator_metrics::{ModelPrice, PriceTable, Registry, exposition};
use orchestrator_tower::{Sampler, Tracer};
use ways::{Read, Way};

/// Per million tokens: input, cached input, output (reasoning priced as output), and cache
/// writes where the provider charges them apart.
const PRICES: [(&str, &str, [f64; 4]); 4] = [
    ("openai", "gpt-test", [2.5, 1.25, 10.0, 2.5]),
    ("openai", "text-embedding-3-small", [0.02, 0.02, 0.0, 0.02]),
    ("anthropic", "claude-sonnet-4", [3.0, 0.30, 15.0, 3.75]),
    ("gcp.gemini", "gemini-test", [0.30, 0.075, 2.5, 0.30]),
];

pub(crate) fn prices() -> PriceTable {
    PRICES.iter().fold(PriceTable::new(), |table, (p, m, r)| {
        let price = ModelPrice::new(r[0], r[1], r[2])
            .unwrap()
            .with_cache_write(r[3])
            .unwrap();
        table.with_price(*p, *m, price)
    })
}

/// The cost of `usage`, computed here from the rates, not by the library.
pub(crate) fn cost(f: &Fixture, usage: &Usage) -> f64 {
    let (_, _, r) = PRICES
        .iter()
        .find(|(p, m, _)| *p == f.provider && *m == f.model)
        .expect("a price");
    let fresh = usage.input - usage.cached - usage.cache_write;
    (fresh as f64 * r[0]
        + usage.cached as f64 * r[1]
        + usage.output as f64 * r[2]
        + usage.cache_write as f64 * r[3])
        / 1e6
}

/// What a cell records.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    calls: f64,
    outcome: String,
    /// input, output, cache_read, cache_write, reasoning token sums.
    tokens: [f64; 5],
    cost: f64,
    ttft: bool,
    missing: f64,
    failed: bool,
    error_type: Option<String>,
}

fn seen(registry: &Registry, tracer: &Tracer) -> Seen {
    let e = exposition::parse(&registry.render()).unwrap();
    let outcome = e
        .families
        .iter()
        .flat_map(|f| &f.samples)
        .filter(|s| s.name == "orchestrator_llm_requests_total" && s.value > 0.0)
        .filter_map(|s| s.labels.iter().find(|(k, _)| k == "outcome"))
        .map(|(_, v)| v.clone())
        .collect::<Vec<_>>()
        .join("+");
    let tokens = ["input", "output", "cache_read", "cache_write", "reasoning"].map(|kind| {
        e.sum_where("orchestrator_llm_tokens_sum", |s| {
            s.labels.iter().any(|(k, v)| k == "token_type" && v == kind)
        })
    });
    let spans = support::llm_spans(tracer);
    assert!(spans.len() <= 1, "one span per call: {spans:?}");
    Seen {
        calls: e.sum_where("orchestrator_llm_requests_total", |_| true),
        outcome,
        tokens,
        cost: e.sum_where("orchestrator_llm_cost_usd_total", |_| true),
        ttft: e.sum_where("orchestrator_llm_time_to_first_token_seconds_count", |_| {
            true
        }) > 0.0,
        missing: e.sum_where("orchestrator_llm_unreported_usage_total", |s| {
            s.labels.iter().any(|(k, v)| k == "usage" && v == "missing")
        }),
        failed: spans.first().is_some_and(|s| s.failed),
        error_type: spans.first().and_then(|s| s.error_type.map(str::to_owned)),
    }
}

/// The `error.type` and the metrics' outcome of a non-2xx status.
fn status_error(status: u16) -> (&'static str, &'static str) {
    match status {
        429 => ("rate_limited", "rate_limited"),
        408 | 504 => ("timeout", "timeout"),
        400..=499 => ("client_error", "error"),
        500 => ("500", "error"),
        503 => ("503", "error"),
        _ => ("_OTHER", "error"),
    }
}

/// What a cell must record.
fn expected(f: &Fixture, how: Read) -> Seen {
    let with_usage = |usage: Option<Usage>| {
        let u = usage.unwrap_or_default();
        (
            [u.input, u.output, u.cached, u.cache_write, u.reasoning].map(|n| n as f64),
            usage.map_or(0.0, |u| cost(f, &u)),
        )
    };
    let (tokens, cost) = with_usage(f.usage);
    let base = Seen {
        calls: 1.0,
        outcome: "success".into(),
        tokens,
        cost,
        ttft: f.streamed(),
        missing: 0.0,
        failed: false,
        error_type: None,
    };
    let failure = |outcome: &str, error_type: &str| Seen {
        outcome: outcome.into(),
        failed: true,
        error_type: Some(error_type.into()),
        ..base.clone()
    };
    if f.status != 200 {
        let (by_status, outcome) = status_error(f.status);
        let error_type = match how {
            Read::ErrorForStatus => by_status,
            _ => f.body_error.unwrap_or(by_status),
        };
        return failure(outcome, error_type);
    }
    match (how, f.body_error) {
        (Read::DropAfterFirst, _) => Seen {
            outcome: "cancelled".into(),
            tokens: [0.0; 5],
            cost: 0.0,
            error_type: Some("cancelled".into()),
            ..base
        },
        (Read::Cut, _) => {
            let (tokens, cost) = with_usage(f.usage_before_cut);
            Seen {
                tokens,
                cost,
                ..failure("error", "incomplete_stream")
            }
        }
        (_, Some(error_type)) => failure("error", error_type),
        _ => base,
    }
}

/// The reads that apply to a fixture.
fn reads(f: &Fixture) -> Vec<Read> {
    if f.status != 200 {
        vec![Read::Whole, Read::ErrorForStatus]
    } else if f.streamed() {
        vec![
            Read::Whole,
            Read::ToEnd,
            Read::UntilLast,
            Read::DropAfterFirst,
            Read::Cut,
        ]
    } else {
        vec![
            Read::Whole,
            Read::ToEnd,
            Read::ErrorForStatus,
            Read::DropAfterFirst,
        ]
    }
}

fn row(f: &Fixture, how: Read, s: &Seen) -> String {
    let [input, output, cache_read, cache_write, reasoning] = s.tokens;
    format!(
        "| {} | {how:?} | {} | {input} / {output} / {cache_read} / {cache_write} / {reasoning} | ${:.6} | {} | {} | layer = middleware = guard |",
        f.name,
        s.outcome,
        s.cost,
        if s.ttft { "yes" } else { "no" },
        s.error_type.as_deref().unwrap_or("—"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_adapter_every_read_every_way() {
    let base = provider::start().await;
    let mut table = vec![
        "| answer | read | outcome | tokens in / out / cache read / cache write / reasoning | cost | TTFT | error.type | ways |".to_owned(),
        "|---|---|---|---|---|---|---|---|".to_owned(),
    ];
    let mut failures = Vec::new();
    for f in fixtures::all() {
        for how in reads(&f) {
            let want = expected(&f, how);
            for way in [Way::Layer, Way::Middleware, Way::Guard] {
                let (registry, tracer) = support::priced_tracer(prices(), Sampler::always_on());
                let at_last = ways::call(&tracer, &registry, &base, &f, way, how, "").await;
                let got = seen(&registry, &tracer);
                if got != want {
                    failures.push(format!(
                        "{} {how:?} {way:?}:\n  want {want:?}\n  got  {got:?}",
                        f.name
                    ));
                }
                if how == Read::UntilLast && at_last != Some(true) {
                    failures.push(format!(
                        "{} {how:?} {way:?}: not recorded at the last event",
                        f.name
                    ));
                }
            }
            table.push(row(&f, how, &want));
        }
    }
    println!("{}", table.join("\n"));
    assert!(
        failures.is_empty(),
        "{} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The provider sends a chat stream's usage chunk only when asked, as OpenAI does. The
/// middleware asks (and the caller receives the usage chunk); told not to, and through the
/// layer or the guard, which do not hold the body, the call is counted as missing its usage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_middleware_asks_a_stream_for_its_usage() {
    let base = provider::start().await;
    let f = fixtures::named("openai-chat-stream").unwrap();
    let url = format!("{base}{}?fixture={}&usage=if-asked", f.path, f.name);
    let body =
        r#"{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"Bonjour?"}]}"#;
    for inject in [true, false] {
        let (registry, tracer) = support::priced_tracer(prices(), Sampler::always_on());
        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(
                orchestrator_tower::TelemetryMiddleware::llm(
                    &tracer,
                    "openai",
                    orchestrator_tower::OpenAiCompatible,
                )
                .inject_stream_usage(inject),
            )
            .build();
        let text = client
            .post(&url)
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(text.contains(r#""choices":[],"usage""#), inject, "{text}");
        let got = seen(&registry, &tracer);
        let want = if inject {
            expected(&f, Read::Whole)
        } else {
            Seen {
                tokens: [0.0; 5],
                cost: 0.0,
                missing: 1.0,
                ..expected(&f, Read::Whole)
            }
        };
        assert_eq!(got, want, "inject_stream_usage({inject})");
    }
    for way in [Way::Layer, Way::Guard] {
        let (registry, tracer) = support::priced_tracer(prices(), Sampler::always_on());
        ways::call(
            &tracer,
            &registry,
            &base,
            &f,
            way,
            Read::ToEnd,
            "&usage=if-asked",
        )
        .await;
        let got = seen(&registry, &tracer);
        assert_eq!(
            (got.outcome.as_str(), got.tokens, got.missing),
            ("success", [0.0; 5], 1.0),
            "{way:?}"
        );
    }
}

/// An estimator fills in a missing usage from the request and the answer's text: priced,
/// counted apart, and marked on the span.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_estimator_fills_in_a_missing_usage() {
    use orchestrator_metrics::TokenUsage;
    use orchestrator_tower::{Llm, OpenAiCompatible, TelemetryMiddleware};
    let base = provider::start().await;
    let f = fixtures::named("openai-chat-stream").unwrap();
    let url = format!("{base}{}?fixture={}&usage=if-asked", f.path, f.name);
    let body =
        r#"{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"Bonjour?"}]}"#;
    let (registry, tracer) = support::priced_tracer(prices(), Sampler::always_on());
    // About four bytes a token: what a user without a tokenizer might do.
    let estimator = Llm::new(OpenAiCompatible).estimate_usage(|request, answer| {
        let prompt = request.prompt.as_deref()?;
        Some(TokenUsage::new(
            prompt.len() as u64 / 4,
            answer.len() as u64,
        ))
    });
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TelemetryMiddleware::with(&tracer, "openai", estimator).inject_stream_usage(false))
        .build();
    client
        .post(&url)
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let got = seen(&registry, &tracer);
    let input = (body.len() / 4) as f64;
    assert_eq!(got.tokens, [input, "Bonjour".len() as f64, 0.0, 0.0, 0.0]);
    assert!(
        (got.cost - (input * 2.5 + 7.0 * 10.0) / 1e6).abs() < 1e-12,
        "{got:?}"
    );
    assert_eq!(got.missing, 0.0);
    let estimated = support::sum(&registry, "orchestrator_llm_unreported_usage_total", |s| {
        s.labels
            .iter()
            .any(|(k, v)| k == "usage" && v == "estimated")
    });
    assert_eq!(estimated, 1.0);
    let span = tracer.store().traces()[0].spans[0].clone();
    assert_eq!(
        span.attribute("gen_ai.usage.estimated"),
        Some(&opentelemetry::Value::Bool(true))
    );
    assert!(
        span.attribute("gen_ai.input.messages").is_none(),
        "the prompt kept for the estimator is not recorded"
    );
}
