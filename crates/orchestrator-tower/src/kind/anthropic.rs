//! A [`GenAi`] adapter for Anthropic's Messages API: the client puts a [`GenAiRequest`] in
//! the request's extensions, and the observer reads the model and the usage from the answer,
//! streamed (server-sent events: `message_start` carries the input usage, `message_delta`
//! the output usage and the `stop_reason` that ends the answer, `message_stop` ends the
//! stream and so the call, `error` reports a failure and ends it too) or JSON.
//!
//! Anthropic counts `input_tokens` apart from the cache: the usage recorded adds
//! `cache_read_input_tokens` and `cache_creation_input_tokens` to it, so that
//! [`TokenUsage::input`] means every input token, as for OpenAI, and each part is priced at
//! its rate.

use http::{HeaderMap, Request};
use orchestrator_metrics::{RejectReason, TokenUsage};
use serde_json::Value;

use super::answer::{Answer, AnswerReader, append_bounded, contains, token_count};
use super::llm::{
    GenAi, GenAiRequest, GenAiResponse, MAX_MODEL_BYTES, PROVIDER_ERROR, Progress, ResponseObserver,
};
use crate::cap::capped;
use crate::classify::ErrorKind;

/// The adapter for Anthropic's Messages API (`POST /v1/messages`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AnthropicMessages;

impl GenAi for AnthropicMessages {
    type Observer = AnthropicObserver;

    fn request<B>(&self, request: &Request<B>) -> GenAiRequest {
        super::route::request(request, "anthropic")
    }

    fn observer(&self, status: u16, headers: &HeaderMap) -> AnthropicObserver {
        AnthropicObserver {
            answer: Answer::new(status, headers),
            reader: AnthropicReader::default(),
        }
    }
}

/// The usage fields as Anthropic reports them; later events override earlier ones (the
/// counts in `message_delta` are cumulative).
#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    seen: bool,
    /// A count that was not a non-negative integer: the usage is refused.
    refused: Option<RejectReason>,
    input: u64,
    cache_read: u64,
    cache_write: u64,
    output: u64,
}

impl Usage {
    fn read(&mut self, u: &Value) {
        for (name, slot) in [
            ("input_tokens", &mut self.input),
            ("cache_read_input_tokens", &mut self.cache_read),
            ("cache_creation_input_tokens", &mut self.cache_write),
            ("output_tokens", &mut self.output),
        ] {
            match token_count(u.get(name)) {
                Ok(Some(n)) => {
                    *slot = n;
                    self.seen = true;
                }
                Ok(None) => {}
                Err(reason) => self.refused = Some(reason),
            }
        }
    }

    fn usage(&self) -> Option<TokenUsage> {
        (self.seen && self.refused.is_none()).then(|| {
            let input = self
                .input
                .saturating_add(self.cache_read)
                .saturating_add(self.cache_write);
            TokenUsage::new(input, self.output)
                .with_cached_input(self.cache_read)
                .with_cache_write_input(self.cache_write)
        })
    }
}

/// Reads the model, the usage and failures from an Anthropic Messages answer.
#[derive(Debug)]
pub struct AnthropicObserver {
    answer: Answer,
    reader: AnthropicReader,
}

#[derive(Debug, Default)]
struct AnthropicReader {
    response: GenAiResponse,
    usage: Usage,
    progress: Progress,
    /// Assemble the completion, up to this many bytes.
    capture: Option<usize>,
}

/// The failure of an Anthropic error type (its documented list; others are
/// `provider_error`). A rate limit and a timeout keep their meaning, so the call's outcome is
/// `rate_limited` as for a 429, and `timeout`.
fn error_kind(kind: &str) -> ErrorKind {
    match kind {
        "rate_limit_error" => ErrorKind::RateLimited,
        "timeout_error" => ErrorKind::Timeout,
        "overloaded_error" => ErrorKind::Named("overloaded_error"),
        "api_error" => ErrorKind::Named("api_error"),
        "invalid_request_error" => ErrorKind::Named("invalid_request_error"),
        "authentication_error" => ErrorKind::Named("authentication_error"),
        "permission_error" => ErrorKind::Named("permission_error"),
        "not_found_error" => ErrorKind::Named("not_found_error"),
        "request_too_large" => ErrorKind::Named("request_too_large"),
        _ => PROVIDER_ERROR,
    }
}

impl AnthropicReader {
    fn model(&mut self, value: &Value) {
        if let Some(model) = value.get("model").and_then(Value::as_str)
            && self.response.model.as_deref() != Some(model)
        {
            self.response.model = Some(capped(model, MAX_MODEL_BYTES));
        }
    }

    /// A `tool_use` content block: a tool call.
    fn tool_use(&mut self, block: &Value) {
        if block.get("type").and_then(Value::as_str) == Some("tool_use")
            && let Some(name) = block.get("name").and_then(Value::as_str)
        {
            let id = block.get("id").and_then(Value::as_str);
            self.response.tool_call(id, name);
        }
    }

    fn event(&mut self, value: &Value) {
        match value.get("type").and_then(Value::as_str) {
            Some("message_start") => {
                if let Some(message) = value.get("message") {
                    self.model(message);
                    if let Some(u) = message.get("usage") {
                        self.usage.read(u);
                    }
                }
            }
            Some("message_delta") => {
                if let Some(u) = value.get("usage") {
                    self.usage.read(u);
                }
                if let Some(reason) = value.pointer("/delta/stop_reason").filter(|r| !r.is_null()) {
                    if let Some(reason) = reason.as_str() {
                        self.response.finish_reason(reason);
                    }
                    self.progress = Progress::Answered;
                }
            }
            Some("message_stop") => self.progress = Progress::Done,
            Some("content_block_start") => {
                if let Some(block) = value.get("content_block") {
                    self.tool_use(block);
                }
            }
            Some("content_block_delta") => {
                if let (Some(limit), Some(text)) = (
                    self.capture,
                    value.pointer("/delta/text").and_then(Value::as_str),
                ) {
                    append_bounded(&mut self.response.completion, text, limit);
                }
            }
            Some("error") => {
                let kind = value.pointer("/error/type").and_then(Value::as_str);
                self.response.error = Some(error_kind(kind.unwrap_or_default()));
                self.progress = Progress::Done;
            }
            // A JSON (non-streamed) answer.
            Some("message") => {
                self.model(value);
                if let Some(reason) = value.get("stop_reason").and_then(Value::as_str) {
                    self.response.finish_reason(reason);
                }
                for block in value
                    .get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    self.tool_use(block);
                }
                if let (Some(limit), Some(parts)) =
                    (self.capture, value.get("content").and_then(Value::as_array))
                {
                    for text in parts
                        .iter()
                        .filter_map(|p| p.get("text").and_then(Value::as_str))
                    {
                        append_bounded(&mut self.response.completion, text, limit);
                    }
                }
                if let Some(u) = value.get("usage") {
                    self.usage.read(u);
                }
            }
            _ => {}
        }
    }
}

impl AnswerReader for AnthropicReader {
    fn progress(&self) -> Progress {
        self.progress
    }

    fn data(&mut self, data: &[u8]) {
        // Text deltas are most of a stream and carry nothing read here.
        if self.capture.is_none() && contains(data, b"\"content_block_delta\"") {
            return;
        }
        if let Ok(value) = serde_json::from_slice::<Value>(data) {
            self.event(&value);
        }
    }

    fn json(&mut self, body: &[u8]) {
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            self.event(&value);
        }
    }
}

impl ResponseObserver for AnthropicObserver {
    /// Every Messages event and message, and the error body, carry a `type`.
    fn recognises(&self, value: &serde_json::Value) -> bool {
        value.get("type").is_some_and(serde_json::Value::is_string)
    }

    fn capture_output(&mut self, limit: usize) {
        self.reader.capture = Some(limit);
    }

    fn on_chunk(&mut self, chunk: &[u8]) {
        self.answer.push(chunk, &mut self.reader);
    }

    fn progress(&self) -> Progress {
        self.answer.progress(self.reader.progress)
    }

    fn finish(&mut self) -> GenAiResponse {
        self.answer.finish(&mut self.reader);
        let reader = &mut self.reader;
        reader.response.usage = reader.usage.usage();
        reader.response.refused_usage = reader.usage.refused;
        std::mem::take(&mut reader.response)
    }
}
