//! The guard fed what an SDK hands out: each 2xx answer of the matrix streamed over real
//! HTTP, its events parsed into JSON values as an SDK parses them (`data: [DONE]` is the
//! SDK's, never handed out), given to `LlmAnswer::value`, then `completed()` at the end of
//! the SDK's stream, or `fail()` where the connection is cut. Each records what the layer
//! records for the same answer read to the end (or cut).

use futures_util::StreamExt as _;
use orchestrator_tower::{
    AnthropicMessages, Gemini, GenAi, LlmAnswer, OpenAiCompatible, ResponseObserver, Sampler,
    Tracer,
};
use serde_json::Value;

use super::fixtures::{self, Api, Fixture};
use super::ways::Read;
use super::{expected, prices, provider, seen, support};

/// The values an SDK would hand out, as the body arrives; `Err` if the connection broke.
async fn values(base: &str, f: &Fixture, cut: bool) -> (Vec<Value>, bool) {
    let mode = if cut { "cut" } else { "" };
    let url = format!("{base}{}?fixture={}&mode={mode}", f.path, f.name);
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let mut broken = false;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(bytes) => text.push_str(&String::from_utf8_lossy(&bytes)),
            Err(_) => {
                broken = true;
                break;
            }
        }
    }
    if !f.streamed() {
        return (vec![serde_json::from_str(&text).unwrap()], broken);
    }
    let values = text
        .lines()
        .filter_map(|line| line.trim_end().strip_prefix("data:"))
        .map(str::trim)
        .filter(|data| *data != "[DONE]")
        .map(|data| serde_json::from_str(data).unwrap())
        .collect();
    (values, broken)
}

fn feed<O: ResponseObserver>(mut answer: LlmAnswer<O>, values: &[Value], broken: bool) {
    for value in values {
        answer.value(value);
    }
    if broken {
        answer.fail();
    } else {
        answer.completed();
    }
}

fn record<A: GenAi>(adapter: &A, tracer: &Tracer, f: &Fixture, values: &[Value], broken: bool) {
    let mut call = tracer.llm_call(f.provider, f.model);
    call.operation(f.operation());
    feed(call.sdk_answer(adapter, f.streamed()), values, broken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_values_record_what_the_layer_records() {
    let base = provider::start().await;
    let mut failures = Vec::new();
    let mut cells = 0;
    for f in fixtures::all().into_iter().filter(|f| f.status == 200) {
        let cuts: &[bool] = if f.streamed() {
            &[false, true]
        } else {
            &[false]
        };
        for &cut in cuts {
            let (values, broken) = values(&base, &f, cut).await;
            let (registry, tracer) = support::priced_tracer(prices(), Sampler::always_on());
            match f.api {
                Api::OpenAi => record(&OpenAiCompatible, &tracer, &f, &values, broken),
                Api::Anthropic => record(&AnthropicMessages, &tracer, &f, &values, broken),
                Api::Gemini => record(&Gemini, &tracer, &f, &values, broken),
            }
            let want = expected(&f, if cut { Read::Cut } else { Read::ToEnd });
            let got = seen(&registry, &tracer);
            if got != want {
                failures.push(format!(
                    "{} cut={cut}:\n  want {want:?}\n  got  {got:?}",
                    f.name
                ));
            }
            cells += 1;
        }
    }
    assert!(cells >= 15, "{cells}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A value that is not the provider's shape is ignored and counted once for its call;
/// the call is still recorded from the values that are.
#[test]
fn values_of_another_shape_are_counted_once_and_ignored() {
    let (registry, tracer) = support::priced_tracer(prices(), Sampler::always_on());
    let f = fixtures::named("openai-chat-json").unwrap();
    let mut answer = tracer
        .llm_call(f.provider, f.model)
        .sdk_answer(&OpenAiCompatible, false);
    answer.value("a plain string");
    answer.value(&serde_json::json!({"candidates": []}));
    answer.value(&serde_json::from_str::<Value>(f.body).unwrap());
    answer.completed();
    let got = seen(&registry, &tracer);
    assert_eq!(got, expected(&f, Read::Whole));
    let unrecognised = support::sum(
        &registry,
        "orchestrator_telemetry_rejected_values_total",
        |s| s.label("reason") == Some("unrecognised_chunk"),
    );
    assert_eq!(unrecognised, 1.0);
}
