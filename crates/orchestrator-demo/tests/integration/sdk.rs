//! A real third-party SDK, `async-openai`, against the demo's OpenAI-compatible provider
//! over loopback HTTP, recorded through the manual call API fed the SDK's own values (its
//! response, its stream's chunks): the LLM metrics and a GenAI span, for a streamed and a
//! non-streamed chat completion, with no hand-written mapping of the SDK's types.

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequest,
    CreateChatCompletionRequestArgs,
};
use futures_util::StreamExt as _;
use orchestrator_demo::provider::{Provider, ProviderConfig};
use orchestrator_metrics::{TokenUsage, exposition};
use orchestrator_telemetry::orchestrator_tower::OpenAiCompatible;

fn request(stream: bool) -> CreateChatCompletionRequest {
    CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-mini")
        .stream(stream)
        .messages([ChatCompletionRequestUserMessageArgs::default()
            .content("What is an orchestrator?")
            .build()
            .unwrap()
            .into()])
        .build()
        .unwrap()
}

/// The SDK's usage, to check the recorded tokens against (the adapter read its own).
fn usage(u: &async_openai::types::chat::CompletionUsage) -> TokenUsage {
    let cached = u
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.cached_tokens)
        .unwrap_or(0);
    TokenUsage::new(u.prompt_tokens.into(), u.completion_tokens.into())
        .with_cached_input(cached.into())
}

#[tokio::test]
async fn async_openai_calls_are_recorded_through_the_manual_api() {
    let provider = Provider::start(ProviderConfig::without_failures())
        .await
        .unwrap();
    let (registry, tracer) = crate::common::traced();
    let config = OpenAIConfig::new()
        .with_api_base(format!("{}/openai/v1", provider.base_url()))
        .with_api_key("sk-test");
    let client = Client::with_config(config);

    // Not streamed: the SDK's response, read by the adapter.
    let call = tracer.llm_call("openai", "gpt-4o-mini");
    let response = client.chat().create(request(false)).await.unwrap();
    let mut answer = call.sdk_answer(&OpenAiCompatible, false);
    answer.value(&response);
    answer.completed();
    let json_usage = usage(response.usage.as_ref().expect("usage"));

    // Streamed: each chunk the SDK yields, as it yields it.
    let call = tracer.llm_call("openai", "gpt-4o-mini");
    let mut stream = client.chat().create_stream(request(true)).await.unwrap();
    let mut answer = call.sdk_answer(&OpenAiCompatible, true);
    let mut streamed_usage = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        answer.value(&chunk);
        streamed_usage = chunk.usage.as_ref().map(usage).or(streamed_usage);
    }
    answer.completed();
    let streamed_usage = streamed_usage.expect("the last chunk carries the usage");

    let exposition = exposition::parse(&registry.render()).unwrap();
    let success = exposition.sum_where("orchestrator_llm_requests_total", |s| {
        s.label("outcome") == Some("success") && s.label("model") == Some("gpt-4o-mini")
    });
    assert_eq!(success, 2.0);
    let output_tokens = exposition.sum_where("orchestrator_llm_tokens_sum", |s| {
        s.label("token_type") == Some("output")
    });
    assert_eq!(
        output_tokens,
        (json_usage.output + streamed_usage.output) as f64
    );
    let ttft = exposition.sum_where("orchestrator_llm_time_to_first_token_seconds_count", |_| {
        true
    });
    assert_eq!(
        ttft, 1.0,
        "only the streamed call has a time to first token"
    );
    assert!(exposition.sum_where("orchestrator_llm_cost_usd_total", |_| true) > 0.0);

    let traces = tracer.store().traces();
    assert_eq!(traces.len(), 2);
    for trace in &traces {
        let span = &trace.spans[0];
        assert_eq!(span.name, "chat gpt-4o-mini");
        let attr = |k: &str| span.attribute(k).map(|v| v.as_str().into_owned());
        assert_eq!(attr("gen_ai.provider.name").as_deref(), Some("openai"));
        assert_eq!(attr("gen_ai.request.model").as_deref(), Some("gpt-4o-mini"));
        assert!(span.attribute("gen_ai.usage.output_tokens").is_some());
    }
}
