//! Issue 15, item 6: prompt and response capture, off by default; when on, the prompt and
//! the completion (assembled from the stream's deltas, both wire formats) are redacted by the
//! built-in hook or the user's, capped, and written in the conventions' message shape; a
//! panicking hook costs the attribute (counted), never the request; unsampled calls capture
//! nothing (their allocations are counted in the root's `tests/integration/no_alloc.rs`).

use crate::support;

use std::borrow::Cow;
use std::convert::Infallible;

use axum::body::Body;
use http::{Request, Response};
use http_body_util::BodyExt as _;
use opentelemetry::Value;
use orchestrator_metrics::Registry;
use orchestrator_tower::{
    AnthropicMessages, GenAi, GenAiRequest, Llm, OpenAiCompatible, Sampler, TelemetryLayer, Tracer,
};
use serde_json::json;
use tower::{Layer as _, ServiceExt as _, service_fn};

const PROMPT: &str = "I am jane@example.com, card 4111 1111 1111 1111, Bearer abcdefghijklmnop";
const OPENAI_STREAM: &str = "data: {\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"Call me at \"}}]}\n\n\
data: {\"choices\":[{\"delta\":{\"content\":\"+1 415 555 0132 today\"}}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\ndata: [DONE]\n\n";
const ANTHROPIC_STREAM: &str = include_str!("anthropic/stream.sse");

fn tracer(sampler: Sampler) -> (Registry, Tracer) {
    support::priced_tracer(orchestrator_metrics::PriceTable::new(), sampler)
}

async fn call<A: GenAi + std::fmt::Debug>(tracer: &Tracer, llm: Llm<A>, body: &'static str) {
    let provider = service_fn(move |_: Request<Body>| async move {
        Ok::<_, Infallible>(
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from(body))
                .unwrap(),
        )
    });
    let client = TelemetryLayer::new(tracer, llm).layer(provider);
    let mut request = Request::post("http://provider/v1")
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(GenAiRequest {
        operation: "chat",
        provider: Cow::Borrowed("openai"),
        model: Cow::Borrowed("m"),
        prompt: Some(PROMPT.to_owned()),
    });
    let response = client.oneshot(request).await.unwrap();
    let _ = response.into_body().collect().await.unwrap();
}

fn attribute(tracer: &Tracer, key: &str) -> Option<serde_json::Value> {
    let traces = tracer.store().traces();
    traces.first()?.spans[0]
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| match &kv.value {
            Value::String(s) => serde_json::from_str(s.as_str()).unwrap(),
            other => panic!("{other:?}"),
        })
}

#[tokio::test]
async fn off_by_default() {
    let (_, tracer) = tracer(Sampler::always_on());
    call(&tracer, Llm::new(OpenAiCompatible), OPENAI_STREAM).await;
    assert_eq!(attribute(&tracer, "gen_ai.input.messages"), None);
    assert_eq!(attribute(&tracer, "gen_ai.output.messages"), None);
}

#[tokio::test]
async fn captured_redacted_in_the_message_shape_from_openai_deltas() {
    let (_, tracer) = tracer(Sampler::always_on());
    call(
        &tracer,
        Llm::new(OpenAiCompatible).record_content(true),
        OPENAI_STREAM,
    )
    .await;
    assert_eq!(
        attribute(&tracer, "gen_ai.input.messages"),
        Some(json!([{"role": "user", "parts": [{"type": "text",
            "content": "I am [EMAIL], card [CARD], Bearer [SECRET]"}]}]))
    );
    assert_eq!(
        attribute(&tracer, "gen_ai.output.messages"),
        Some(json!([{"role": "assistant", "parts": [{"type": "text",
            "content": "Call me at [PHONE] today"}], "finish_reason": "stop"}]))
    );
}

#[tokio::test]
async fn anthropic_deltas_are_assembled_and_a_custom_hook_runs() {
    let (_, tracer) = tracer(Sampler::always_on());
    let llm = Llm::new(AnthropicMessages)
        .record_content(true)
        .redact(|text| Cow::Owned(text.replace("jour", "****")));
    call(&tracer, llm, ANTHROPIC_STREAM).await;
    let output = attribute(&tracer, "gen_ai.output.messages").unwrap();
    assert_eq!(output[0]["parts"][0]["content"], "Bon****");
    let input = attribute(&tracer, "gen_ai.input.messages").unwrap();
    assert_eq!(
        input[0]["parts"][0]["content"], PROMPT,
        "the custom hook replaces the built-in one"
    );
}

#[tokio::test]
async fn the_cap_holds_with_a_marker() {
    let (_, tracer) = tracer(Sampler::always_on());
    let llm = Llm::new(OpenAiCompatible)
        .record_content(true)
        .content_limit(100);
    call(&tracer, llm, OPENAI_STREAM).await;
    let traces = tracer.store().traces();
    let raw = traces[0].spans[0]
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "gen_ai.input.messages")
        .map(|kv| kv.value.as_str().into_owned())
        .unwrap();
    assert!(raw.len() <= 100, "{}", raw.len());
    let parsed: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert!(
        parsed[0]["parts"][0]["content"]
            .as_str()
            .unwrap()
            .ends_with('…')
    );
}

#[tokio::test]
async fn a_panicking_hook_costs_the_attribute_counted_never_the_request() {
    let (registry, tracer) = tracer(Sampler::always_on());
    let llm = Llm::new(OpenAiCompatible)
        .record_content(true)
        .redact(|_| -> Cow<'_, str> { panic!("a buggy hook") });
    call(&tracer, llm, OPENAI_STREAM).await;
    assert_eq!(attribute(&tracer, "gen_ai.input.messages"), None);
    let dropped = support::sum(&registry, "orchestrator_telemetry_dropped_total", |s| {
        s.label("queue") == Some("span_attributes")
    });
    assert_eq!(dropped, 2.0, "the prompt and the completion");
    assert_eq!(
        tracer.store().traces()[0].spans.len(),
        1,
        "the span is kept"
    );
}

#[tokio::test]
async fn unsampled_calls_capture_nothing() {
    let (_, tracer) = tracer(Sampler::always_off());
    call(
        &tracer,
        Llm::new(OpenAiCompatible).record_content(true),
        OPENAI_STREAM,
    )
    .await;
    assert!(tracer.store().traces().is_empty());
}
