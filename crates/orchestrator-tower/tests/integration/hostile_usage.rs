//! Issue 15, bad input: a provider reporting a negative, fractional, non-numeric or absurd
//! token count. The usage is refused and counted
//! (`orchestrator_telemetry_rejected_values_total{reason}`), no token and no cost is
//! recorded, and the call itself still is.

use crate::support;

use std::borrow::Cow;
use std::convert::Infallible;

use axum::body::Body;
use http::{Request, Response};
use orchestrator_tower::{
    AnthropicMessages, GenAiRequest, OpenAiCompatible, Sampler, TelemetryLayer, Tracer,
};
use support::{metrics, sum};
use tower::{Layer as _, ServiceExt as _, service_fn};

async fn call<A>(tracer: &Tracer, adapter: A, provider: &'static str, body: &'static str)
where
    A: orchestrator_tower::GenAi + Clone + Send + Sync + 'static,
{
    let service = TelemetryLayer::llm(tracer, adapter).layer(service_fn(
        move |_: Request<Body>| async move {
            Ok::<_, Infallible>(
                Response::builder()
                    .header("content-type", "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
        },
    ));
    let mut request = Request::new(Body::empty());
    request.extensions_mut().insert(GenAiRequest {
        operation: "chat",
        provider: Cow::Borrowed(provider),
        model: Cow::Borrowed("m"),
        prompt: None,
    });
    let response = service.oneshot(request).await.unwrap();
    http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap();
}

#[tokio::test]
async fn implausible_token_counts_are_refused_and_counted() {
    let (registry, metrics) = metrics();
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_off())
        .build()
        .unwrap();
    let cases: [(&str, &'static str, &str); 5] = [
        (
            "openai",
            r#"{"usage":{"prompt_tokens":-5,"completion_tokens":2}}"#,
            "negative",
        ),
        (
            "openai",
            r#"{"usage":{"prompt_tokens":1.5,"completion_tokens":2}}"#,
            "out_of_range",
        ),
        (
            "openai",
            r#"{"usage":{"prompt_tokens":"NaN","completion_tokens":2}}"#,
            "nan",
        ),
        // Absurd: more than MAX_TOKENS_PER_CALL.
        (
            "openai",
            r#"{"usage":{"prompt_tokens":1000000000000,"completion_tokens":2}}"#,
            "out_of_range",
        ),
        (
            "anthropic",
            r#"{"type":"message","usage":{"input_tokens":-1,"output_tokens":3}}"#,
            "negative",
        ),
    ];
    for (provider, body, _) in cases {
        if provider == "openai" {
            call(&tracer, OpenAiCompatible, provider, body).await;
        } else {
            call(&tracer, AnthropicMessages, provider, body).await;
        }
    }
    let rejected = |reason: &str| {
        sum(
            &registry,
            "orchestrator_telemetry_rejected_values_total",
            |s| s.label("reason") == Some(reason),
        )
    };
    assert_eq!(rejected("negative"), 2.0);
    assert_eq!(rejected("nan"), 1.0);
    assert_eq!(rejected("out_of_range"), 2.0);
    assert_eq!(
        sum(&registry, "orchestrator_llm_requests_total", |_| true),
        5.0,
        "every call is still counted"
    );
    assert_eq!(
        sum(&registry, "orchestrator_llm_tokens_count", |_| true),
        0.0
    );
    assert_eq!(
        sum(&registry, "orchestrator_llm_cost_usd_total", |_| true),
        0.0
    );
    // A plausible usage after them is recorded as usual.
    call(
        &tracer,
        OpenAiCompatible,
        "openai",
        r#"{"usage":{"prompt_tokens":3,"completion_tokens":2}}"#,
    )
    .await;
    assert_eq!(
        sum(&registry, "orchestrator_llm_tokens_count", |_| true),
        2.0
    );
}
