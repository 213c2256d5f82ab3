//! Clients that are not tower services record what the layer records: a `reqwest::Client`
//! through `TelemetryMiddleware` in a `reqwest_middleware` client (streamed and JSON answers from a real HTTP provider on loopback)
//! and an SDK call through the manual guard give the same metric samples and the same span
//! attributes as `TelemetryLayer::llm` for the same call.
#![cfg(feature = "reqwest")]

use crate::support;

use std::borrow::Cow;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::routing::post;
use futures_util::{StreamExt as _, stream};
use opentelemetry::Value;
use orchestrator_metrics::{LlmOutcome, ModelPrice, PriceTable, Registry, TokenUsage, exposition};
use orchestrator_tower::{
    GenAiRequest, OpenAiCompatible, ReqwestService, Sampler, SpanRecord, TelemetryLayer,
    TelemetryMiddleware, Tracer,
};
use tower::{Layer as _, ServiceExt as _};

const EVENTS: [&str; 4] = [
    "data: {\"model\":\"gpt-test-2026\",\"choices\":[{\"delta\":{\"content\":\"Bon\"}}]}\n\n",
    "data: {\"choices\":[{\"delta\":{\"content\":\"jour\"}}]}\n\n",
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":7}}\n\n",
    "data: [DONE]\n\n",
];
const JSON: &str = r#"{"model":"gpt-test-2026","choices":[{"message":{"content":"Bonjour"}}],"usage":{"prompt_tokens":21,"completion_tokens":7}}"#;

/// An OpenAI-compatible provider on loopback: `/stream` answers in server-sent events,
/// chunk by chunk; `/json` in one JSON body.
async fn provider() -> String {
    let app = axum::Router::new()
        .route(
            "/stream",
            post(|| async {
                let chunks = stream::iter(EVENTS).then(|e| async move {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    Ok::<_, Infallible>(Bytes::from_static(e.as_bytes()))
                });
                http::Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from_stream(chunks))
                    .unwrap()
            }),
        )
        .route(
            "/json",
            post(|| async { ([("content-type", "application/json")], JSON) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn tracer() -> (Registry, Tracer) {
    let prices = PriceTable::new().with_price(
        "openai",
        "gpt-test",
        ModelPrice::new(2.5, 1.25, 10.0).unwrap(),
    );
    support::priced_tracer(prices, Sampler::always_on())
}

const BODY: &str = r#"{"model":"gpt-test","messages":[{"role":"user","content":"Bonjour?"}]}"#;

/// The LLM samples that do not depend on timing: counters, and the count of every
/// histogram (their buckets hold durations, which differ from run to run).
fn llm_samples(registry: &Registry) -> Vec<String> {
    let exposition = exposition::parse(&registry.render()).unwrap();
    let mut out: Vec<String> = exposition
        .families
        .iter()
        .filter(|f| f.name.starts_with("orchestrator_llm"))
        .flat_map(|f| &f.samples)
        .filter(|s| {
            !(s.name.ends_with("_bucket") || s.name.ends_with("_sum"))
                || s.name.starts_with("orchestrator_llm_tokens")
        })
        .map(|s| format!("{} {:?} {}", s.name, s.labels, s.value))
        .collect();
    out.sort();
    out
}

/// The span's attributes, sorted, and its name.
fn span_shape(tracer: &Tracer) -> (String, Vec<(String, Value)>) {
    let traces = tracer.store().traces();
    assert_eq!(traces.len(), 1);
    let span: &SpanRecord = &traces[0].spans[0];
    let mut attributes: Vec<(String, Value)> = span
        .attributes
        .iter()
        .map(|kv| (kv.key.to_string(), kv.value.clone()))
        .collect();
    attributes.sort_by(|a, b| a.0.cmp(&b.0));
    (span.name.to_string(), attributes)
}

/// The call through the layer itself: the reference.
async fn through_the_layer(base: &str, path: &str) -> (Registry, Tracer) {
    let (registry, tracer) = tracer();
    let client = TelemetryLayer::llm(&tracer, OpenAiCompatible)
        .layer(ReqwestService::new(reqwest::Client::new()));
    let mut request = http::Request::post(format!("{base}{path}"))
        .body(reqwest::Body::from(BODY))
        .unwrap();
    request.extensions_mut().insert(GenAiRequest {
        operation: "chat",
        provider: Cow::Borrowed("openai"),
        model: Cow::Borrowed("gpt-test"),
        prompt: None,
    });
    let response = client.oneshot(request).await.unwrap();
    let mut body = reqwest::Response::from(response.map(reqwest::Body::wrap)).bytes_stream();
    while body.next().await.is_some() {}
    (registry, tracer)
}

async fn through_reqwest(base: &str, path: &str) -> (Registry, Tracer, String) {
    let (registry, tracer) = tracer();
    let openai = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TelemetryMiddleware::llm(
            &tracer,
            "openai",
            OpenAiCompatible,
        ))
        .build();
    let response = openai
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.url().path(), path, "the URL survives the layer");
    let text = response.text().await.unwrap();
    (registry, tracer, text)
}

/// What an SDK's caller does with the manual guard around a call the layer cannot see.
async fn through_the_guard(base: &str, path: &str) -> (Registry, Tracer) {
    let (registry, tracer) = tracer();
    let mut call = tracer.llm_call("openai", "gpt-test");
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .body(BODY)
        .send()
        .await
        .unwrap();
    call.status(response.status().as_u16());
    let streamed = path == "/stream";
    let mut body = response.bytes_stream();
    let mut text = Vec::new();
    while let Some(chunk) = body.next().await {
        if streamed {
            call.first_token();
        }
        text.extend_from_slice(&chunk.unwrap());
    }
    // The SDK parsed these from the answer.
    call.response_model("gpt-test-2026");
    call.finish(LlmOutcome::Success, Some(TokenUsage::new(21, 7)));
    assert!(!text.is_empty());
    (registry, tracer)
}

async fn all_three_agree(path: &str) {
    let base = provider().await;
    let (layer_registry, layer_tracer) = through_the_layer(&base, path).await;
    let (reqwest_registry, reqwest_tracer, text) = through_reqwest(&base, path).await;
    let (guard_registry, guard_tracer) = through_the_guard(&base, path).await;

    let reference = llm_samples(&layer_registry);
    assert!(
        reference
            .iter()
            .any(|s| s.contains("orchestrator_llm_cost_usd_total")),
        "{reference:#?}"
    );
    let streamed = path == "/stream";
    assert_eq!(
        reference.iter().any(|s| s
            .starts_with("orchestrator_llm_time_to_first_token_seconds_count")
            && s.ends_with(" 1")),
        streamed,
        "time to first token only for streamed answers: {reference:#?}"
    );
    assert_eq!(llm_samples(&reqwest_registry), reference, "reqwest");
    assert_eq!(llm_samples(&guard_registry), reference, "manual guard");

    let span = span_shape(&layer_tracer);
    assert!(
        span.1
            .iter()
            .any(|(k, v)| k == "gen_ai.usage.output_tokens" && *v == Value::I64(7))
    );
    assert_eq!(span_shape(&reqwest_tracer), span, "reqwest");
    assert_eq!(span_shape(&guard_tracer), span, "manual guard");
    if streamed {
        assert!(
            text.contains("[DONE]"),
            "the caller reads the whole stream: {text}"
        );
    } else {
        assert_eq!(text, JSON);
    }
}

#[tokio::test]
async fn a_streamed_answer_records_the_same_through_reqwest_and_the_manual_guard() {
    all_three_agree("/stream").await;
}

#[tokio::test]
async fn a_json_answer_records_the_same_through_reqwest_and_the_manual_guard() {
    all_three_agree("/json").await;
}

#[tokio::test]
async fn a_guard_dropped_unfinished_records_a_cancelled_call() {
    let (registry, tracer) = tracer();
    let mut call = tracer.llm_call("openai", "gpt-test");
    call.first_token();
    drop(call);
    let cancelled = support::sum(&registry, "orchestrator_llm_requests_total", |s| {
        s.label("outcome") == Some("cancelled")
    });
    assert_eq!(cancelled, 1.0);
    let spans = &tracer.store().traces()[0].spans;
    assert_eq!(spans[0].error_type, Some("cancelled"));

    // The other kinds: same guard, same metrics as their layers.
    tracer.database_call("sqlite", "SELECT").finish();
    tracer
        .cache_call("answers", orchestrator_metrics::CacheOp::Get)
        .finish(Some(true));
    tracer
        .external_call("moderation", http::Method::POST)
        .finish(503);
    let text = registry.render();
    assert!(
        text.contains(
            r#"orchestrator_cache_operations_total{cache="answers",operation="get",result="hit"} 1"#
        ),
        "{text}"
    );
    let failed = support::sum(
        &registry,
        "orchestrator_dependency_duration_seconds_count",
        |s| s.label("target") == Some("moderation"),
    );
    assert_eq!(failed, 1.0);
    assert_eq!(tracer.store().len(), 4);
}

#[tokio::test]
async fn a_call_made_inside_a_guard_is_its_child() {
    let (_registry, tracer) = tracer();
    let call = tracer.external_call("search", http::Method::GET);
    let inner = call.in_scope(|| tracer.database_call("sqlite", "SELECT"));
    inner.finish();
    let parent_id = call.context().span_id.to_bytes();
    call.finish(200);
    let traces = tracer.store().traces();
    assert_eq!(traces.len(), 1);
    let child = traces[0].spans.iter().find(|s| !s.is_local_root()).unwrap();
    assert_eq!(child.parent_span_id, Some(parent_id));
}

/// Issue 15, item 4 through the middleware and the guard: Anthropic's Messages stream read by
/// `AnthropicMessages` in a reqwest-middleware client records what the manual guard records
/// with the SDK's usage, cache writes priced apart.
#[tokio::test]
async fn anthropic_messages_through_reqwest_and_the_guard() {
    const STREAM: &str = include_str!("anthropic/stream.sse");
    let app = axum::Router::new().route(
        "/v1/messages",
        post(|| async { ([("content-type", "text/event-stream")], STREAM) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let traced = || support::priced_tracer(support::sonnet_4_prices(), Sampler::always_on());
    let body = r#"{"model":"claude-sonnet-4","max_tokens":1024,"stream":true,"messages":[]}"#;

    let (registry, tracer) = traced();
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TelemetryMiddleware::llm(
            &tracer,
            "anthropic",
            orchestrator_tower::AnthropicMessages,
        ))
        .build();
    let text = client
        .post(format!("{base}/v1/messages"))
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("message_stop"));
    let reference = llm_samples(&registry);
    assert!(
        reference
            .iter()
            .any(|s| s.contains("cache_write") && s.ends_with(" 10000")),
        "{reference:#?}"
    );
    assert!(
        reference
            .iter()
            .any(|s| s.starts_with("orchestrator_llm_cost_usd_total") && s.ends_with(" 0.0426")),
        "{reference:#?}"
    );
    drop(tracer);

    let (registry, tracer) = traced();
    let mut call = tracer.llm_call("anthropic", "claude-sonnet-4");
    let response = reqwest::Client::new()
        .post(format!("{base}/v1/messages"))
        .body(body)
        .send()
        .await
        .unwrap();
    call.status(response.status().as_u16());
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        call.first_token();
        chunk.unwrap();
    }
    call.response_model("claude-sonnet-4-20250514");
    // What an SDK parsed: 200 + 10,000 written to the cache in, 300 out.
    let usage = TokenUsage::new(10_200, 300).with_cache_write_input(10_000);
    call.finish(LlmOutcome::Success, Some(usage));
    assert_eq!(llm_samples(&registry), reference, "manual guard");
    drop(tracer);
}
