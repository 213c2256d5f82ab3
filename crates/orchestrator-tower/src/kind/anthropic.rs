//! A [`GenAi`] adapter for Anthropic's Messages API: the client puts a [`GenAiRequest`] in
//! the request's extensions, and the observer reads the model and the usage from the answer,
//! streamed (server-sent events: `message_start` carries the input usage, `message_delta`
//! the output usage, `message_stop` ends the message, `error` reports a failure) or JSON.
//!
//! Anthropic counts `input_tokens` apart from the cache: the usage recorded adds
//! `cache_read_input_tokens` and `cache_creation_input_tokens` to it, so that
//! [`TokenUsage::input`] means every input token, as for OpenAI, and each part is priced at
//! its rate.

use std::borrow::Cow;

use http::{HeaderMap, Request};
use orchestrator_metrics::TokenUsage;
use serde_json::Value;

use super::llm::{GenAi, GenAiRequest, GenAiResponse, MAX_MODEL_BYTES, ResponseObserver};
use super::openai::{MAX_BUFFERED, append_bounded};
use crate::cap::capped;

/// The adapter for Anthropic's Messages API (`POST /v1/messages`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AnthropicMessages;

impl GenAi for AnthropicMessages {
    type Observer = AnthropicObserver;

    fn request<B>(&self, request: &Request<B>) -> GenAiRequest {
        request
            .extensions()
            .get::<GenAiRequest>()
            .cloned()
            .unwrap_or(GenAiRequest {
                operation: "chat",
                provider: Cow::Borrowed("anthropic"),
                model: Cow::Borrowed("_OTHER"),
                prompt: None,
            })
    }

    fn observer(&self, status: u16, headers: &HeaderMap) -> AnthropicObserver {
        let streamed = headers
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        AnthropicObserver {
            streamed,
            ok: (200..300).contains(&status),
            buffer: Vec::new(),
            response: GenAiResponse::default(),
            usage: Usage::default(),
            stopped: false,
            overflow: false,
            capture: None,
        }
    }
}

/// The usage fields as Anthropic reports them; later events override earlier ones (the
/// counts in `message_delta` are cumulative).
#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    seen: bool,
    input: u64,
    cache_read: u64,
    cache_write: u64,
    output: u64,
}

impl Usage {
    fn read(&mut self, u: &Value) {
        let field = |name: &str| u.get(name).and_then(Value::as_u64);
        for (name, slot) in [
            ("input_tokens", &mut self.input),
            ("cache_read_input_tokens", &mut self.cache_read),
            ("cache_creation_input_tokens", &mut self.cache_write),
            ("output_tokens", &mut self.output),
        ] {
            if let Some(n) = field(name) {
                *slot = n;
                self.seen = true;
            }
        }
    }

    fn usage(&self) -> Option<TokenUsage> {
        self.seen.then(|| {
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
    streamed: bool,
    ok: bool,
    buffer: Vec<u8>,
    response: GenAiResponse,
    usage: Usage,
    stopped: bool,
    overflow: bool,
    /// Assemble the completion, up to this many bytes.
    capture: Option<usize>,
}

/// `error.type` for an Anthropic error type (its documented list); others are
/// `provider_error`. A rate limit reads as `rate_limited`, so the call's outcome is
/// `rate_limited` as for a 429.
fn error_type(kind: &str) -> &'static str {
    match kind {
        "rate_limit_error" => "rate_limited",
        "overloaded_error" => "overloaded_error",
        "api_error" => "api_error",
        "invalid_request_error" => "invalid_request_error",
        "authentication_error" => "authentication_error",
        "permission_error" => "permission_error",
        "not_found_error" => "not_found_error",
        "request_too_large" => "request_too_large",
        "timeout_error" => "timeout",
        _ => "provider_error",
    }
}

impl AnthropicObserver {
    fn model(&mut self, value: &Value) {
        if let Some(model) = value.get("model").and_then(Value::as_str)
            && self.response.model.as_deref() != Some(model)
        {
            self.response.model = Some(capped(model, MAX_MODEL_BYTES));
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
            }
            Some("message_stop") => self.stopped = true,
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
                self.response.error = Some(error_type(kind.unwrap_or_default()));
            }
            // A JSON (non-streamed) answer.
            Some("message") => {
                self.model(value);
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
                self.stopped = true;
            }
            _ => {}
        }
    }

    fn line(&mut self, line: &[u8]) {
        let Some(data) = line.strip_prefix(b"data:") else {
            return;
        };
        let data = data.trim_ascii();
        // Text deltas are most of a stream and carry nothing read here.
        let interesting = |needle: &[u8]| data.windows(needle.len()).any(|w| w == needle);
        if data.is_empty() || (self.capture.is_none() && interesting(b"\"content_block_delta\"")) {
            return;
        }
        if let Ok(value) = serde_json::from_slice::<Value>(data) {
            self.event(&value);
        }
    }
}

impl ResponseObserver for AnthropicObserver {
    fn capture_output(&mut self, limit: usize) {
        self.capture = Some(limit);
    }

    fn on_chunk(&mut self, chunk: &[u8]) {
        if !self.ok {
            return;
        }
        if self.buffer.len() + chunk.len() > MAX_BUFFERED {
            self.overflow = true;
            self.buffer.clear();
        }
        if self.overflow && !self.streamed {
            return;
        }
        self.buffer.extend_from_slice(chunk);
        if self.streamed {
            // One pass, one shift of the rest (as the OpenAI observer: linear in the chunk).
            let buffer = std::mem::take(&mut self.buffer);
            let mut start = 0;
            while let Some(end) = buffer[start..].iter().position(|&b| b == b'\n') {
                self.line(&buffer[start..start + end + 1]);
                start += end + 1;
            }
            self.buffer = buffer;
            self.buffer.drain(..start);
        }
    }

    fn finish(&mut self) -> GenAiResponse {
        if self.ok && !self.streamed && !self.overflow {
            if let Ok(value) = serde_json::from_slice::<Value>(&self.buffer) {
                self.event(&value);
            }
        } else if self.streamed && !self.buffer.is_empty() {
            let rest = std::mem::take(&mut self.buffer);
            self.line(&rest);
        }
        // A stream that ends without `message_stop` was cut: the usage reported so far is
        // kept, and the call failed.
        if self.ok && self.streamed && !self.stopped && self.response.error.is_none() {
            self.response.error = Some("incomplete_stream");
        }
        self.response.usage = self.usage.usage();
        std::mem::take(&mut self.response)
    }
}
