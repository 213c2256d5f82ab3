//! Answers of a step that asks for a tool, in the providers' documented shapes: what the
//! matrix reads like any answer, and what `tools.rs` checks on the spans (finish reasons,
//! tool call names and ids).

use super::fixtures::{Api, CHAT, Fixture, GEMINI_PATH, JSON, MESSAGES, SSE, Usage, ok, usage};

/// OpenAI Chat Completions streamed with a tool call: the first delta names the call (its
/// id and the function's name), the next ones stream its arguments, then `finish_reason:
/// "tool_calls"`, the usage chunk, `[DONE]`.
/// <https://platform.openai.com/docs/guides/function-calling#streaming>
const OPENAI_TOOL_STREAM: &str = concat!(
    "data: {\"id\":\"chatcmpl-4\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-test-2026\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_DdmO9pD3xa9XTPNJ32zg2hcA\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}],\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-4\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-test-2026\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"location\\\":\"}}]},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-4\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-test-2026\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-4\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-test-2026\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-4\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-test-2026\",\"system_fingerprint\":\"fp_1\",\"choices\":[],\"usage\":{\"prompt_tokens\":82,\"completion_tokens\":17,\"total_tokens\":99,\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n",
    "data: [DONE]\n\n",
);

/// Anthropic's Messages stream of a step with text, then a `tool_use` block whose input
/// streams as `input_json_delta`, ending with `stop_reason: "tool_use"`.
/// <https://docs.anthropic.com/en/docs/build-with-claude/streaming#streaming-request-with-tool-use>
const ANTHROPIC_TOOL_STREAM: &str = concat!(
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_014p7gG3wDgGV9EUtLvnow3U\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-20250514\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":472,\"output_tokens\":2},\"content\":[],\"stop_reason\":null}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Okay, let's check the weather for Paris.\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"get_weather\",\"input\":{}}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"location\\\": \\\"Paris\\\"}\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":89}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
);

/// Gemini's `generateContent` answering with a `functionCall` part.
/// <https://ai.google.dev/gemini-api/docs/function-calling>
const GEMINI_TOOL_JSON: &str = r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_current_temperature","args":{"location":"Paris"}}}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":120,"candidatesTokenCount":15,"totalTokenCount":135},"modelVersion":"gemini-test-001","responseId":"r3"}"#;

/// What a tool step's span must say: its finish reasons, and its calls (id, name).
pub struct ToolStep {
    pub fixture: &'static str,
    pub finish_reasons: &'static [&'static str],
    pub calls: &'static [(Option<&'static str>, &'static str)],
}

pub const TOOL_STEPS: [ToolStep; 3] = [
    ToolStep {
        fixture: "openai-tool-stream",
        finish_reasons: &["tool_calls"],
        calls: &[(Some("call_DdmO9pD3xa9XTPNJ32zg2hcA"), "get_weather")],
    },
    ToolStep {
        fixture: "anthropic-tool-stream",
        finish_reasons: &["tool_use"],
        calls: &[(Some("toolu_01T1x1fJ34qAmk2tNTrN7Up6"), "get_weather")],
    },
    ToolStep {
        fixture: "gemini-tool-json",
        finish_reasons: &["STOP"],
        calls: &[(None, "get_current_temperature")],
    },
];

pub fn all() -> Vec<Fixture> {
    let anthropic = Usage {
        input: 472,
        output: 89,
        ..Usage::default()
    };
    vec![
        Fixture {
            last_event: "[DONE]",
            usage: usage(82, 17, 0, 0),
            ..ok(
                "openai-tool-stream",
                Api::OpenAi,
                CHAT,
                SSE,
                OPENAI_TOOL_STREAM,
            )
        },
        Fixture {
            last_event: "message_stop",
            usage: Some(anthropic),
            usage_before_cut: Some(Usage {
                output: 2,
                ..anthropic
            }),
            ..ok(
                "anthropic-tool-stream",
                Api::Anthropic,
                MESSAGES,
                SSE,
                ANTHROPIC_TOOL_STREAM,
            )
        },
        Fixture {
            usage: usage(120, 15, 0, 0),
            ..ok(
                "gemini-tool-json",
                Api::Gemini,
                GEMINI_PATH,
                JSON,
                GEMINI_TOOL_JSON,
            )
        },
    ]
}
