//! Anthropic's Messages API through the layer (issue 15, item 4): golden streams and a JSON
//! answer give the right usage (cache reads and writes priced apart), outcome and span; an
//! `error` event mid-stream and a stream cut before `message_stop` are failures with the
//! usage reported so far.

use crate::support;

use std::borrow::Cow;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use futures_util::{StreamExt as _, stream};
use http::{Request, Response};
use http_body_util::BodyExt as _;
use opentelemetry::Value;
use orchestrator_metrics::{Registry, exposition};
use orchestrator_tower::{AnthropicMessages, GenAiRequest, Sampler, TelemetryLayer, Tracer};
use tower::{Layer as _, ServiceExt as _, service_fn};

const STREAM: &str = include_str!("anthropic/stream.sse");
const ERROR_MID_STREAM: &str = include_str!("anthropic/error_mid_stream.sse");
const CUT: &str = include_str!("anthropic/cut.sse");
const MESSAGE: &str = include_str!("anthropic/message.json");

fn tracer() -> (Registry, Tracer) {
    support::priced_tracer(support::sonnet_4_prices(), Sampler::always_on())
}

/// Calls a provider answering `body` (in events split in chunks of 37 bytes, or JSON) and
/// reads the answer to its end.
async fn call(body: &'static str, streamed: bool) -> (Registry, Tracer) {
    let (registry, tracer) = tracer();
    let provider = service_fn(move |_: Request<Body>| async move {
        let content_type = if streamed {
            "text/event-stream"
        } else {
            "application/json"
        };
        let chunks = stream::iter(body.as_bytes().chunks(37)).then(|c| async move {
            tokio::time::sleep(Duration::from_millis(2)).await;
            Ok::<_, Infallible>(Bytes::from_static(c))
        });
        Ok::<_, Infallible>(
            Response::builder()
                .header("content-type", content_type)
                .body(Body::from_stream(chunks))
                .unwrap(),
        )
    });
    let client = TelemetryLayer::llm(&tracer, AnthropicMessages).layer(provider);
    let mut request = Request::post("http://anthropic/v1/messages")
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(GenAiRequest {
        operation: "chat",
        provider: Cow::Borrowed("anthropic"),
        model: Cow::Borrowed("claude-sonnet-4"),
        prompt: None,
    });
    let response = client.oneshot(request).await.unwrap();
    let _ = response.into_body().collect().await.unwrap();
    (registry, tracer)
}

fn value(registry: &Registry, name: &str, label: Option<(&str, &str)>) -> f64 {
    exposition::parse(&registry.render())
        .unwrap()
        .sum_where(name, |s| label.is_none_or(|(k, v)| s.label(k) == Some(v)))
}

fn attribute(tracer: &Tracer, key: &str) -> Option<Value> {
    let traces = tracer.store().traces();
    traces[0].spans[0]
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

fn tokens(registry: &Registry, kind: &str) -> f64 {
    value(
        registry,
        "orchestrator_llm_tokens_sum",
        Some(("token_type", kind)),
    )
}

#[tokio::test]
async fn a_streamed_message_is_read_and_priced_with_its_cache_write() {
    let (registry, tracer) = call(STREAM, true).await;
    assert_eq!(
        value(
            &registry,
            "orchestrator_llm_requests_total",
            Some(("outcome", "success"))
        ),
        1.0
    );
    // input_tokens 200 + cache_creation_input_tokens 10,000; output 300 (message_delta's).
    assert_eq!(tokens(&registry, "input"), 10_200.0);
    assert_eq!(tokens(&registry, "cache_write"), 10_000.0);
    assert_eq!(tokens(&registry, "output"), 300.0);
    // 200 × 3 + 10,000 × 3.75 + 300 × 15 = $0.0426.
    let cost = value(&registry, "orchestrator_llm_cost_usd_total", None);
    assert!((cost - 0.0426).abs() < 1e-12, "{cost}");
    assert_eq!(
        value(
            &registry,
            "orchestrator_llm_time_per_output_token_seconds_count",
            None
        ),
        1.0
    );
    assert_eq!(
        attribute(&tracer, "gen_ai.provider.name"),
        Some(Value::from("anthropic"))
    );
    assert_eq!(
        attribute(&tracer, "gen_ai.response.model"),
        Some(Value::from("claude-sonnet-4-20250514"))
    );
    assert_eq!(
        attribute(&tracer, "gen_ai.usage.input_tokens"),
        Some(Value::I64(10_200))
    );
    assert_eq!(
        attribute(&tracer, "gen_ai.usage.output_tokens"),
        Some(Value::I64(300))
    );
    assert_eq!(
        attribute(&tracer, "gen_ai.usage.cache_creation.input_tokens"),
        Some(Value::I64(10_000))
    );
    assert_eq!(
        attribute(&tracer, "gen_ai.usage.cache_read.input_tokens"),
        None,
        "no cache read reported, no attribute"
    );
    assert_eq!(attribute(&tracer, "error.type"), None);
}

#[tokio::test]
async fn a_json_message_is_read_with_its_cache_read() {
    let (registry, tracer) = call(MESSAGE, false).await;
    assert_eq!(tokens(&registry, "input"), 10_200.0);
    assert_eq!(tokens(&registry, "cache_read"), 10_000.0);
    assert_eq!(
        attribute(&tracer, "gen_ai.usage.cache_read.input_tokens"),
        Some(Value::I64(10_000))
    );
    // 200 × 3 + 10,000 × 0.30 + 300 × 15 = $0.0081.
    let cost = value(&registry, "orchestrator_llm_cost_usd_total", None);
    assert!((cost - 0.0081).abs() < 1e-12, "{cost}");
    assert_eq!(
        value(
            &registry,
            "orchestrator_llm_requests_total",
            Some(("outcome", "success"))
        ),
        1.0
    );
    assert_eq!(
        attribute(&tracer, "gen_ai.response.model"),
        Some(Value::from("claude-sonnet-4-20250514"))
    );
}

#[tokio::test]
async fn an_error_event_mid_stream_fails_the_call_with_its_type_and_keeps_the_usage() {
    let (registry, tracer) = call(ERROR_MID_STREAM, true).await;
    assert_eq!(
        value(
            &registry,
            "orchestrator_llm_requests_total",
            Some(("outcome", "error"))
        ),
        1.0
    );
    assert_eq!(
        attribute(&tracer, "error.type"),
        Some(Value::from("overloaded_error"))
    );
    // What message_start reported: 50 fresh + 10,000 cache reads, 1 output token.
    assert_eq!(tokens(&registry, "input"), 10_050.0);
    assert_eq!(tokens(&registry, "output"), 1.0);
}

#[tokio::test]
async fn a_stream_cut_before_message_stop_is_an_incomplete_failure_with_partial_usage() {
    let (registry, tracer) = call(CUT, true).await;
    assert_eq!(
        value(
            &registry,
            "orchestrator_llm_requests_total",
            Some(("outcome", "error"))
        ),
        1.0
    );
    assert_eq!(
        attribute(&tracer, "error.type"),
        Some(Value::from("incomplete_stream"))
    );
    assert_eq!(tokens(&registry, "input"), 40.0);
    assert_eq!(tokens(&registry, "output"), 12.0, "the last reported count");
}
