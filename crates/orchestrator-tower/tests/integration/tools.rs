//! A step that asks for tools is recorded as such, whichever way the call comes in (the
//! layer, the reqwest middleware, the guard fed the bytes, the guard fed an SDK's values,
//! the guard told by hand): `gen_ai.response.finish_reasons` as the provider wrote it, and,
//! with content consent, the calls' names and ids as `tool_call` parts of
//! `gen_ai.output.messages` with the finish reason `tool_call`, as the GenAI conventions
//! put them.
#![cfg(feature = "reqwest")]

use opentelemetry::{Array, Value};
use orchestrator_metrics::{LlmOutcome, Metrics, Registry};
use orchestrator_tower::{AnthropicMessages, Gemini, GenAi, Sampler, SpanRecord, Tracer};

use crate::conformance::fixtures::{self, Api, Fixture};
use crate::conformance::provider;
use crate::conformance::tool_fixtures::{TOOL_STEPS, ToolStep};
use crate::conformance::ways::{self, Read, Way};

fn tracer(content: bool) -> (Registry, Tracer) {
    let registry = Registry::new();
    let tracer = Tracer::builder(Metrics::new(&registry))
        .sampler(Sampler::always_on())
        .record_content(content)
        .build()
        .unwrap();
    (registry, tracer)
}

fn llm_span(tracer: &Tracer) -> SpanRecord {
    let spans = crate::support::llm_spans(tracer);
    assert_eq!(spans.len(), 1);
    spans[0].clone()
}

fn finish_reasons(span: &SpanRecord) -> Vec<String> {
    match span.attribute("gen_ai.response.finish_reasons") {
        Some(Value::Array(Array::String(reasons))) => {
            reasons.iter().map(|r| r.as_str().to_owned()).collect()
        }
        other => panic!("{other:?}"),
    }
}

/// A tool call as the output message gives it: its id and name.
type Call = (Option<String>, String);

/// The output message's tool calls and finish reason.
fn output(span: &SpanRecord) -> Option<(Vec<Call>, String)> {
    let messages = span.attribute("gen_ai.output.messages")?;
    let messages: serde_json::Value = serde_json::from_str(&messages.as_str()).unwrap();
    let message = &messages[0];
    let calls = message["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "tool_call")
        .map(|p| {
            (
                p["id"].as_str().map(str::to_owned),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    Some((calls, message["finish_reason"].as_str().unwrap().to_owned()))
}

fn check(step: &ToolStep, span: &SpanRecord, content: bool, way: &str) {
    assert_eq!(
        finish_reasons(span),
        step.finish_reasons,
        "{} {way}",
        step.fixture
    );
    let want: Vec<_> = step
        .calls
        .iter()
        .map(|(id, name)| (id.map(str::to_owned), (*name).to_owned()))
        .collect();
    match output(span) {
        Some((calls, reason)) => {
            assert!(content, "{} {way}: content without consent", step.fixture);
            assert_eq!(calls, want, "{} {way}", step.fixture);
            assert_eq!(reason, "tool_call", "{} {way}", step.fixture);
        }
        None => assert!(!content, "{} {way}: no output message", step.fixture),
    }
}

/// The guard fed the fixture's values as an SDK hands them out.
fn sdk<A: GenAi>(adapter: &A, tracer: &Tracer, f: &Fixture) {
    let mut answer = tracer
        .llm_call(f.provider, f.model)
        .sdk_answer(adapter, f.streamed());
    let values: Vec<serde_json::Value> = if f.streamed() {
        f.body
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    } else {
        vec![serde_json::from_str(f.body).unwrap()]
    };
    for value in &values {
        answer.value(value);
    }
    answer.completed();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_records_the_finish_reason_and_the_tool_calls() {
    let base = provider::start().await;
    for step in &TOOL_STEPS {
        let f = fixtures::named(step.fixture).unwrap();
        for content in [false, true] {
            for way in [Way::Layer, Way::Middleware, Way::Guard] {
                let (registry, tracer) = tracer(content);
                ways::call(&tracer, &registry, &base, &f, way, Read::ToEnd, "").await;
                check(step, &llm_span(&tracer), content, &format!("{way:?}"));
            }
            let (_, tracer) = tracer(content);
            match f.api {
                Api::OpenAi => sdk(&orchestrator_tower::OpenAiCompatible, &tracer, &f),
                Api::Anthropic => sdk(&AnthropicMessages, &tracer, &f),
                Api::Gemini => sdk(&Gemini, &tracer, &f),
            }
            check(step, &llm_span(&tracer), content, "sdk values");
        }
    }
}

#[test]
fn the_guard_told_by_hand() {
    let (_, tracer) = tracer(true);
    let mut call = tracer.llm_call("openai", "gpt-test");
    call.finish_reason("tool_calls")
        .tool_call(Some("call_1"), "search")
        .tool_call(Some("call_2"), "fetch");
    call.finish(LlmOutcome::Success, None);
    let span = llm_span(&tracer);
    assert_eq!(finish_reasons(&span), ["tool_calls"]);
    let (calls, reason) = output(&span).unwrap();
    assert_eq!(
        calls,
        [
            (Some("call_1".to_owned()), "search".to_owned()),
            (Some("call_2".to_owned()), "fetch".to_owned())
        ]
    );
    assert_eq!(reason, "tool_call");
    assert!(
        span.attribute("orchestrator.llm.includes_retries")
            .is_none()
    );

    // A call recorded around an SDK that retries inside says so.
    let (_, retried) = self::tracer(false);
    let mut call = retried.llm_call("openai", "gpt-test");
    call.includes_retries();
    call.finish(LlmOutcome::Success, None);
    assert_eq!(
        llm_span(&retried).attribute("orchestrator.llm.includes_retries"),
        Some(&Value::Bool(true))
    );
}

/// A hostile answer cannot make a span unbounded: 200 tool calls with 2 KB names (within
/// the 1 MiB a JSON answer may hold) keep 64 calls of 128 bytes.
#[test]
fn tool_calls_are_bounded() {
    let (_, tracer) = tracer(true);
    let mut answer = tracer
        .llm_call("openai", "gpt-test")
        .sdk_answer(&orchestrator_tower::OpenAiCompatible, false);
    let calls: Vec<_> = (0..200)
        .map(|i| serde_json::json!({"id": format!("call_{i}"), "type": "function", "function": {"name": "x".repeat(2_000), "arguments": "{}"}}))
        .collect();
    answer.value(&serde_json::json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": calls}, "finish_reason": "tool_calls"}]
    }));
    answer.completed();
    let (calls, _) = output(&llm_span(&tracer)).unwrap();
    assert_eq!(calls.len(), 64);
    assert!(calls.iter().all(|(_, name)| name.len() <= 131));
}
