//! Provider answers in the shapes the providers document (each cites its page), and what a
//! call answered so must record.

/// Which adapter reads a fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    OpenAi,
    Anthropic,
    Gemini,
}

/// Token usage as the call must record it: input (cached included), output (reasoning
/// included), cached input, reasoning.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cached: u64,
    pub cache_write: u64,
    pub reasoning: u64,
}

pub const fn usage(input: u64, output: u64, cached: u64, reasoning: u64) -> Option<Usage> {
    Some(Usage {
        input,
        output,
        cached,
        cache_write: 0,
        reasoning,
    })
}

/// One provider answer.
#[derive(Debug)]
pub struct Fixture {
    pub name: &'static str,
    pub api: Api,
    pub provider: &'static str,
    pub model: &'static str,
    /// The request path (it names the operation, and Gemini's model).
    pub path: &'static str,
    pub status: u16,
    /// `text/event-stream` or `application/json`.
    pub content_type: &'static str,
    pub body: &'static str,
    /// A line that holds it is the protocol's last event, where a hand-written loop stops.
    pub last_event: &'static str,
    /// How many events are sent before the server cuts the connection.
    pub cut_after: usize,
    /// The usage of the whole answer, and of the events before the cut.
    pub usage: Option<Usage>,
    pub usage_before_cut: Option<Usage>,
    /// The `error.type` a 2xx answer reports in its body, or a non-2xx body names.
    pub body_error: Option<&'static str>,
}

impl Fixture {
    pub fn streamed(&self) -> bool {
        self.content_type == "text/event-stream"
    }

    pub fn operation(&self) -> &'static str {
        if self.path.ends_with("/embeddings") {
            "embeddings"
        } else if self.api == Api::Gemini {
            "generate_content"
        } else {
            "chat"
        }
    }
}

pub(super) const SSE: &str = "text/event-stream";
pub(super) const JSON: &str = "application/json";

/// OpenAI Chat Completions streamed with `stream_options.include_usage`: chunks with a
/// `finish_reason: null`, the chunk with `finish_reason: "stop"`, the usage chunk with an
/// empty `choices`, then `[DONE]`.
/// <https://platform.openai.com/docs/api-reference/chat-streaming/streaming>
const OPENAI_CHAT_STREAM: &str = concat!(
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-test-2026\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-test-2026\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Bonjour\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-test-2026\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-test-2026\",\"system_fingerprint\":\"fp_1\",\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":300,\"total_tokens\":1500,\"prompt_tokens_details\":{\"cached_tokens\":1000},\"completion_tokens_details\":{\"reasoning_tokens\":100}}}\n\n",
    "data: [DONE]\n\n",
);

/// A Chat Completions object. <https://platform.openai.com/docs/api-reference/chat/object>
const OPENAI_CHAT_JSON: &str = r#"{"id":"chatcmpl-2","object":"chat.completion","created":1741569952,"model":"gpt-test-2026","choices":[{"index":0,"message":{"role":"assistant","content":"Bonjour","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":1000,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":100,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default"}"#;

/// vLLM with `stream_options.continuous_usage_stats`: a cumulative usage in every chunk.
/// <https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html>
const VLLM_CUMULATIVE: &str = concat!(
    "data: {\"id\":\"cmpl-3\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-test\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Bon\"},\"finish_reason\":null}],\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":1,\"total_tokens\":41}}\n\n",
    "data: {\"id\":\"cmpl-3\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-test\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"jour\"},\"finish_reason\":null}],\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":2,\"total_tokens\":42}}\n\n",
    "data: {\"id\":\"cmpl-3\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-test\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":3,\"total_tokens\":43}}\n\n",
    "data: {\"id\":\"cmpl-3\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-test\",\"choices\":[],\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":3,\"total_tokens\":43}}\n\n",
    "data: [DONE]\n\n",
);

/// Azure OpenAI: a first chunk with `prompt_filter_results`, no choice and a model "", and
/// usage fields that are `null` until the last chunk.
/// <https://learn.microsoft.com/en-us/azure/ai-services/openai/concepts/content-filter>
const AZURE_STREAM: &str = concat!(
    "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":\"safe\"}}}]}\n\n",
    "data: {\"choices\":[{\"content_filter_results\":{},\"delta\":{\"content\":\"Bonjour\",\"role\":\"assistant\"},\"finish_reason\":null,\"index\":0}],\"created\":1,\"id\":\"chatcmpl-4\",\"model\":\"gpt-4o-2024-08-06\",\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":null,\"completion_tokens\":null}}\n\n",
    "data: {\"choices\":[{\"content_filter_results\":{},\"delta\":{},\"finish_reason\":\"stop\",\"index\":0}],\"created\":1,\"id\":\"chatcmpl-4\",\"model\":\"gpt-4o-2024-08-06\",\"object\":\"chat.completion.chunk\"}\n\n",
    "data: {\"choices\":[],\"created\":1,\"id\":\"chatcmpl-4\",\"model\":\"gpt-4o-2024-08-06\",\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":7,\"total_tokens\":37}}\n\n",
    "data: [DONE]\n\n",
);

/// OpenAI's Responses API streamed: `response.created`, deltas, `response.completed` with
/// the usage. <https://platform.openai.com/docs/api-reference/responses-streaming>
const RESPONSES_STREAM: &str = concat!(
    "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1741290958,\"status\":\"in_progress\",\"error\":null,\"model\":\"gpt-test-2026\",\"output\":[],\"usage\":null}}\n\n",
    "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Bonjour\"}\n\n",
    "event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\",\"sequence_number\":2,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"text\":\"Bonjour\"}\n\n",
    "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":3,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1741290958,\"status\":\"completed\",\"error\":null,\"model\":\"gpt-test-2026\",\"output\":[{\"type\":\"message\",\"id\":\"msg_1\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Bonjour\",\"annotations\":[]}]}],\"usage\":{\"input_tokens\":1200,\"input_tokens_details\":{\"cached_tokens\":1000},\"output_tokens\":300,\"output_tokens_details\":{\"reasoning_tokens\":100},\"total_tokens\":1500}}}\n\n",
);

/// A Responses object. <https://platform.openai.com/docs/api-reference/responses/object>
const RESPONSES_JSON: &str = r#"{"id":"resp_2","object":"response","created_at":1741476542,"status":"completed","error":null,"incomplete_details":null,"model":"gpt-test-2026","output":[{"type":"message","id":"msg_2","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Bonjour","annotations":[]}]}],"usage":{"input_tokens":1200,"input_tokens_details":{"cached_tokens":1000},"output_tokens":300,"output_tokens_details":{"reasoning_tokens":100},"total_tokens":1500}}"#;

/// An embeddings answer. <https://platform.openai.com/docs/api-reference/embeddings/object>
const EMBEDDINGS_JSON: &str = r#"{"object":"list","data":[{"object":"embedding","embedding":[0.0023064255,-0.009327292,-0.0028842222],"index":0}],"model":"text-embedding-3-small","usage":{"prompt_tokens":800,"total_tokens":800}}"#;

/// A 200 whose body is an error object (gateways that answer errors so).
/// <https://platform.openai.com/docs/guides/error-codes>
const OPENAI_200_ERROR: &str = r#"{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;

/// OpenAI's error bodies. <https://platform.openai.com/docs/guides/error-codes>
const OPENAI_429: &str = r#"{"error":{"message":"Rate limit reached for gpt-test in organization org-1 on requests per min (RPM): Limit 3, Used 3, Requested 1.","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
const OPENAI_429_QUOTA: &str = r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
const OPENAI_500: &str = r#"{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#;
const OPENAI_503: &str = r#"{"error":{"message":"The engine is currently overloaded, please try again later.","type":"server_error","param":null,"code":null}}"#;

/// Anthropic's Messages stream and message (this crate's golden files).
/// <https://docs.anthropic.com/en/api/messages-streaming>
const ANTHROPIC_STREAM: &str = include_str!("../anthropic/stream.sse");
/// <https://docs.anthropic.com/en/api/messages>
const ANTHROPIC_JSON: &str = include_str!("../anthropic/message.json");
/// Anthropic's error bodies. <https://docs.anthropic.com/en/api/errors>
const ANTHROPIC_429: &str = r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#;
const ANTHROPIC_500: &str =
    r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#;
const ANTHROPIC_529: &str =
    r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;

/// Gemini's `streamGenerateContent?alt=sse`: each event a `GenerateContentResponse`; the
/// last has the candidate's `finishReason` and the `usageMetadata`.
/// <https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse>
const GEMINI_STREAM: &str = concat!(
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Bon\"}],\"role\": \"model\"},\"index\": 0}],\"modelVersion\": \"gemini-test-001\",\"responseId\": \"r1\"}\r\n\r\n",
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"jour\"}],\"role\": \"model\"},\"index\": 0}],\"modelVersion\": \"gemini-test-001\",\"responseId\": \"r1\"}\r\n\r\n",
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 1200,\"candidatesTokenCount\": 200,\"totalTokenCount\": 1500,\"cachedContentTokenCount\": 1000,\"thoughtsTokenCount\": 100,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 1200}]},\"modelVersion\": \"gemini-test-001\",\"responseId\": \"r1\"}\r\n\r\n",
);

/// Gemini's `generateContent`. <https://ai.google.dev/api/generate-content#method:-models.generatecontent>
const GEMINI_JSON: &str = r#"{"candidates":[{"content":{"parts":[{"text":"Bonjour"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":1200,"candidatesTokenCount":200,"totalTokenCount":1500,"cachedContentTokenCount":1000,"thoughtsTokenCount":100},"modelVersion":"gemini-test-001","responseId":"r2"}"#;

/// Gemini's error bodies. <https://ai.google.dev/gemini-api/docs/troubleshooting>
const GEMINI_429: &str = r#"{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}"#;
const GEMINI_500: &str =
    r#"{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}"#;
const GEMINI_503: &str =
    r#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#;

pub(super) const CHAT: &str = "/v1/chat/completions";
pub(super) const MESSAGES: &str = "/v1/messages";
const GEMINI_STREAM_PATH: &str = "/v1beta/models/gemini-test:streamGenerateContent";
pub(super) const GEMINI_PATH: &str = "/v1beta/models/gemini-test:generateContent";

/// The usage of the fixtures that report 1200 in (1000 cached), 300 out (100 reasoning).
const FULL: Option<Usage> = usage(1200, 300, 1000, 100);

pub(super) const fn ok(
    name: &'static str,
    api: Api,
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
) -> Fixture {
    let (provider, model) = match api {
        Api::OpenAi => ("openai", "gpt-test"),
        Api::Anthropic => ("anthropic", "claude-sonnet-4"),
        Api::Gemini => ("gcp.gemini", "gemini-test"),
    };
    Fixture {
        name,
        api,
        provider,
        model,
        path,
        status: 200,
        content_type,
        body,
        last_event: "",
        cut_after: 2,
        usage: FULL,
        usage_before_cut: None,
        body_error: None,
    }
}

const fn error(
    name: &'static str,
    api: Api,
    path: &'static str,
    status: u16,
    body: &'static str,
    body_error: Option<&'static str>,
) -> Fixture {
    let mut f = ok(name, api, path, JSON, body);
    f.status = status;
    f.usage = None;
    f.body_error = body_error;
    f
}

/// Every fixture of the matrix.
pub fn all() -> Vec<Fixture> {
    let anthropic_usage = Usage {
        input: 10_200,
        output: 300,
        cached: 0,
        cache_write: 10_000,
        reasoning: 0,
    };
    let mut all = vec![
        Fixture {
            last_event: "[DONE]",
            ..ok(
                "openai-chat-stream",
                Api::OpenAi,
                CHAT,
                SSE,
                OPENAI_CHAT_STREAM,
            )
        },
        ok(
            "openai-chat-json",
            Api::OpenAi,
            CHAT,
            JSON,
            OPENAI_CHAT_JSON,
        ),
        Fixture {
            last_event: "[DONE]",
            usage: usage(40, 3, 0, 0),
            usage_before_cut: usage(40, 2, 0, 0),
            ..ok(
                "vllm-cumulative-usage",
                Api::OpenAi,
                CHAT,
                SSE,
                VLLM_CUMULATIVE,
            )
        },
        Fixture {
            last_event: "[DONE]",
            usage: usage(30, 7, 0, 0),
            ..ok("azure-filter-chunk", Api::OpenAi, CHAT, SSE, AZURE_STREAM)
        },
        Fixture {
            last_event: "response.completed",
            ..ok(
                "openai-responses-stream",
                Api::OpenAi,
                "/v1/responses",
                SSE,
                RESPONSES_STREAM,
            )
        },
        ok(
            "openai-responses-json",
            Api::OpenAi,
            "/v1/responses",
            JSON,
            RESPONSES_JSON,
        ),
        Fixture {
            model: "text-embedding-3-small",
            usage: usage(800, 0, 0, 0),
            ..ok(
                "openai-embeddings",
                Api::OpenAi,
                "/v1/embeddings",
                JSON,
                EMBEDDINGS_JSON,
            )
        },
        Fixture {
            usage: None,
            body_error: Some("insufficient_quota"),
            ..ok(
                "openai-200-error",
                Api::OpenAi,
                CHAT,
                JSON,
                OPENAI_200_ERROR,
            )
        },
        error(
            "openai-429",
            Api::OpenAi,
            CHAT,
            429,
            OPENAI_429,
            Some("rate_limited"),
        ),
        error(
            "openai-429-quota",
            Api::OpenAi,
            CHAT,
            429,
            OPENAI_429_QUOTA,
            Some("insufficient_quota"),
        ),
        error("openai-500", Api::OpenAi, CHAT, 500, OPENAI_500, None),
        error("openai-503", Api::OpenAi, CHAT, 503, OPENAI_503, None),
        Fixture {
            last_event: "message_stop",
            usage: Some(anthropic_usage),
            // message_start reported the input and the cache write before the cut.
            usage_before_cut: Some(Usage {
                output: 1,
                ..anthropic_usage
            }),
            ..ok(
                "anthropic-stream",
                Api::Anthropic,
                MESSAGES,
                SSE,
                ANTHROPIC_STREAM,
            )
        },
        Fixture {
            usage: Some(Usage {
                input: 10_200,
                output: 300,
                cached: 10_000,
                cache_write: 0,
                reasoning: 0,
            }),
            ..ok(
                "anthropic-json",
                Api::Anthropic,
                MESSAGES,
                JSON,
                ANTHROPIC_JSON,
            )
        },
        error(
            "anthropic-429",
            Api::Anthropic,
            MESSAGES,
            429,
            ANTHROPIC_429,
            Some("rate_limited"),
        ),
        error(
            "anthropic-500",
            Api::Anthropic,
            MESSAGES,
            500,
            ANTHROPIC_500,
            Some("api_error"),
        ),
        error(
            "anthropic-529",
            Api::Anthropic,
            MESSAGES,
            529,
            ANTHROPIC_529,
            Some("overloaded_error"),
        ),
        Fixture {
            last_event: "finishReason",
            ..ok(
                "gemini-stream",
                Api::Gemini,
                GEMINI_STREAM_PATH,
                SSE,
                GEMINI_STREAM,
            )
        },
        ok("gemini-json", Api::Gemini, GEMINI_PATH, JSON, GEMINI_JSON),
        error(
            "gemini-429",
            Api::Gemini,
            GEMINI_PATH,
            429,
            GEMINI_429,
            Some("rate_limited"),
        ),
        error(
            "gemini-500",
            Api::Gemini,
            GEMINI_PATH,
            500,
            GEMINI_500,
            None,
        ),
        error(
            "gemini-503",
            Api::Gemini,
            GEMINI_PATH,
            503,
            GEMINI_503,
            Some("unavailable"),
        ),
    ];
    all.extend(super::tool_fixtures::all());
    all
}

/// One fixture by name.
pub fn named(name: &str) -> Option<Fixture> {
    all().into_iter().find(|f| f.name == name)
}
