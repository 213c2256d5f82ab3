//! One consent rule for prompts and completions, for the layer, the middleware and the
//! guard alike: code decides first (`Llm::record_content` for a layer or a middleware,
//! `TracerBuilder::record_content` for the tracer), then
//! `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`, else nothing is recorded. The
//! variable is parsed as the OpenTelemetry specification parses booleans: `yes` is false,
//! with a warning.
#![cfg(feature = "reqwest")]

use orchestrator_metrics::{Metrics, Registry};
use orchestrator_testkit::logs::LogBuffer;
use orchestrator_tower::{Sampler, Tracer, TracerBuilder};

use crate::conformance::fixtures;
use crate::conformance::provider;
use crate::conformance::ways::{self, Read, Way};

const VAR: &str = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

fn builder(registry: &Registry, env: Option<&'static str>) -> TracerBuilder {
    let lookup = move |name: &str| (name == VAR).then(|| env.map(str::to_owned)).flatten();
    Tracer::builder(Metrics::new(registry))
        .sampler(Sampler::always_on())
        .from_vars(&lookup)
        .unwrap()
}

/// A case: its name, the variable, the tracer's code setting, and whether the layer, the
/// middleware and the guard record.
type Case = (&'static str, Option<&'static str>, Option<bool>, [bool; 3]);

/// Whether each way's call recorded the completion on its span.
async fn recorded(base: &str, make: impl Fn(&Registry) -> Tracer) -> [bool; 3] {
    let f = fixtures::named("openai-chat-stream").unwrap();
    let mut got = [false; 3];
    for (i, way) in [Way::Layer, Way::Middleware, Way::Guard]
        .into_iter()
        .enumerate()
    {
        let registry = Registry::new();
        let tracer = make(&registry);
        ways::call(&tracer, &registry, base, &f, way, Read::ToEnd, "").await;
        let spans = crate::support::llm_spans(&tracer);
        assert_eq!(spans.len(), 1, "{way:?}");
        got[i] = spans[0].attribute("gen_ai.output.messages").is_some();
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_then_the_variable_then_off_for_every_way() {
    let base = provider::start().await;
    let cases: [Case; 6] = [
        ("nothing set", None, None, [false; 3]),
        ("variable true", Some("true"), None, [true; 3]),
        ("variable TRUE", Some("TRUE"), None, [true; 3]),
        ("variable empty is unset", Some(""), None, [false; 3]),
        (
            "code false wins over the variable",
            Some("true"),
            Some(false),
            [false; 3],
        ),
        (
            "code true wins over the variable",
            Some("false"),
            Some(true),
            [true; 3],
        ),
    ];
    for (name, env, code, want) in cases {
        let got = recorded(&base, |registry| {
            let builder = builder(registry, env);
            match code {
                Some(record) => builder.record_content(record),
                None => builder,
            }
            .build()
            .unwrap()
        })
        .await;
        assert_eq!(got, want, "{name} (layer, middleware, guard)");
    }
}

#[test]
fn a_value_that_is_not_a_boolean_is_false_with_a_warning() {
    let registry = Registry::new();
    let (tracer, logs) = LogBuffer::capture(|| builder(&registry, Some("yes")).build().unwrap());
    let log = logs.text();
    assert!(
        log.contains("WARN") && log.contains(VAR) && log.contains("yes"),
        "{log}"
    );
    let mut call = tracer.llm_call("openai", "gpt-test");
    call.record_prompt("Bonjour");
    drop(call);
    let traces = tracer.store().traces();
    assert!(
        traces[0].spans[0]
            .attribute("gen_ai.input.messages")
            .is_none()
    );
}
