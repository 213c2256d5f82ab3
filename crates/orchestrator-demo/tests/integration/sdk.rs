//! A real third-party SDK, `async-openai`, against the demo's OpenAI-compatible provider
//! over loopback HTTP, recorded through the manual call API: the LLM metrics and a GenAI
//! span, for a streamed and a non-streamed chat completion.

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequest,
    CreateChatCompletionRequestArgs,
};
use futures_util::StreamExt as _;
use orchestrator_demo::provider::{Provider, ProviderConfig};
use orchestrator_metrics::{LlmOutcome, Metrics, Registry, TokenUsage, exposition};
use orchestrator_telemetry::orchestrator_tower::{Sampler, Tracer};

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
    let registry = Registry::new();
    let metrics = Metrics::builder()
        .prices(orchestrator_demo::demo_prices().unwrap())
        .build(&registry);
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_on())
        .build()
        .unwrap();
    let config = OpenAIConfig::new()
        .with_api_base(format!("{}/openai/v1", provider.base_url()))
        .with_api_key("sk-test");
    let client = Client::with_config(config);

    // Not streamed: one answer with its usage.
    let mut call = tracer.llm_call("openai", "gpt-4o-mini");
    let answer = client.chat().create(request(false)).await.unwrap();
    call.status(200).response_model(answer.model.clone());
    let json_usage = usage(answer.usage.as_ref().expect("usage"));
    call.finish(LlmOutcome::Success, Some(json_usage));

    // Streamed: the first chunk is the first token, the last carries the usage.
    let mut call = tracer.llm_call("openai", "gpt-4o-mini");
    let mut stream = client.chat().create_stream(request(true)).await.unwrap();
    let mut streamed_usage = None;
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        if let Some(content) = chunk.choices.first().and_then(|c| c.delta.content.as_ref()) {
            call.first_token();
            text.push_str(content);
        }
        if let Some(u) = &chunk.usage {
            streamed_usage = Some(usage(u));
        }
    }
    assert!(!text.is_empty());
    let streamed_usage = streamed_usage.expect("the last chunk carries the usage");
    call.status(200);
    call.finish(LlmOutcome::Success, Some(streamed_usage));

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
