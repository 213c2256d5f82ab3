//! An SDK's retry loop, seen attempt by attempt: `async-openai` (0.43) retries 429s and
//! 5xx with backoff in a tower stack over its HTTP service; with the telemetry middleware
//! under that stack (`Client::with_http_service`), each attempt is its own LLM call, with
//! its own outcome and duration, as the README shows.
//!
//! The provider here answers in OpenAI's documented shapes: the rate-limit error of
//! <https://platform.openai.com/docs/guides/error-codes> (HTTP 429, `rate_limit_exceeded`)
//! and the chat completion object of
//! <https://platform.openai.com/docs/api-reference/chat/object>.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use async_openai::middleware::retry::OpenAIRetryLayer;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequest,
    CreateChatCompletionRequestArgs,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::common::traced;
use orchestrator_metrics::{Registry, exposition};
use orchestrator_telemetry::orchestrator_tower::{
    OpenAiCompatible, Operation, TelemetryMiddleware, Tracer,
};

const RATE_LIMITED: &str = r#"{"error":{"message":"Rate limit reached for gpt-4o-mini in organization org-test on requests per min (RPM): Limit 3, Used 3, Requested 1.","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
const COMPLETION: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1741569952,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"An orchestrator routes requests.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":7,"total_tokens":26,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default"}"#;

/// A provider whose first `limited` answers are 429s; the rest are completions, 60 ms in.
async fn provider(limited: usize) -> String {
    async fn answer(
        State((seen, limited)): State<(Arc<AtomicUsize>, usize)>,
    ) -> axum::response::Response {
        if seen.fetch_add(1, Ordering::SeqCst) < limited {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("content-type", "application/json")],
                RATE_LIMITED,
            )
                .into_response();
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
        ([("content-type", "application/json")], COMPLETION).into_response()
    }
    let app = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(answer))
        .with_state((Arc::new(AtomicUsize::new(0)), limited));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

fn request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-mini")
        .messages([ChatCompletionRequestUserMessageArgs::default()
            .content("What is an orchestrator?")
            .build()
            .unwrap()
            .into()])
        .build()
        .unwrap()
}

/// The README's recipe: the SDK's retry layer over the telemetry middleware.
fn client(tracer: &Tracer, base: String, retries: usize) -> async_openai::Client<OpenAIConfig> {
    // README: async-openai {
    let http =
        orchestrator_telemetry::reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(TelemetryMiddleware::llm(tracer, "openai", OpenAiCompatible))
            .build();
    let attempt = tower::service_fn(move |request: HttpRequestFactory| {
        let http = http.clone();
        async move {
            let request = request.build().await?;
            http.execute(request)
                .await
                .map_err(|e| OpenAIError::Boxed(e.into()))
        }
    });
    let config = OpenAIConfig::new()
        .with_api_base(base)
        .with_api_key("sk-test");
    async_openai::Client::with_config(config).with_http_service(
        tower::ServiceBuilder::new()
            .layer(OpenAIRetryLayer::new(retries))
            .service(attempt),
    )
    // }
}

fn calls(registry: &Registry, outcome: &str) -> f64 {
    exposition::parse(&registry.render())
        .unwrap()
        .sum_where("orchestrator_llm_requests_total", |s| {
            s.label("outcome") == Some(outcome)
        })
}

#[tokio::test]
async fn two_429s_then_an_answer_are_three_calls_with_their_own_outcomes_and_durations() {
    let (registry, tracer) = traced();
    let openai = client(&tracer, provider(2).await, 3);
    let started = Instant::now();
    let answer = openai.chat().create(request()).await.unwrap();
    let took = started.elapsed();
    assert_eq!(answer.usage.unwrap().completion_tokens, 7);

    assert_eq!(calls(&registry, "rate_limited"), 2.0);
    assert_eq!(calls(&registry, "success"), 1.0);
    let e = exposition::parse(&registry.render()).unwrap();
    assert_eq!(
        e.sum_where("orchestrator_llm_latency_seconds_count", |_| true),
        3.0
    );
    // Each attempt's own duration: the answer's 60 ms and two quick 429s, not the SDK's
    // backoff between them (100 ms, then 200 ms).
    let latency = e.sum_where("orchestrator_llm_latency_seconds_sum", |_| true);
    assert!(took >= Duration::from_millis(360), "{took:?}");
    assert!(latency < took.as_secs_f64() - 0.25, "{latency} of {took:?}");
    // The tokens of the one answer, once.
    assert_eq!(
        e.sum_where("orchestrator_llm_tokens_sum", |s| s.label("token_type")
            == Some("output")),
        7.0
    );
    // Three spans, two of them failed as rate limited.
    let spans: Vec<_> = tracer
        .store()
        .traces()
        .iter()
        .flat_map(|t| t.spans.clone())
        .filter(|s| s.operation == Operation::LlmRequest)
        .collect();
    assert_eq!(spans.len(), 3);
    let limited = spans
        .iter()
        .filter(|s| s.failed && s.error_type == Some("rate_limited"))
        .count();
    assert_eq!(limited, 2, "{spans:?}");
}

#[tokio::test]
async fn a_retry_loop_that_gives_up_records_every_attempt() {
    let (registry, tracer) = traced();
    let openai = client(&tracer, provider(usize::MAX).await, 2);
    let error = openai.chat().create(request()).await.unwrap_err();
    assert!(
        matches!(&error, OpenAIError::ApiError(e) if e.status_code == 429),
        "{error:?}"
    );
    assert_eq!(
        calls(&registry, "rate_limited"),
        3.0,
        "the first try and 2 retries"
    );
    assert_eq!(calls(&registry, "success"), 0.0);
}
