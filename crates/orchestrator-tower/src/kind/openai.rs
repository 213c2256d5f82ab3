//! A [`GenAi`] adapter for OpenAI and OpenAI-compatible APIs (Azure OpenAI, Mistral, vLLM,
//! Ollama, LiteLLM...): Chat Completions, Completions, Embeddings and the Responses API.
//! The client puts a [`GenAiRequest`] in the request's extensions (the layer does not read
//! request bodies; the path names the operation otherwise), and the observer reads `model`
//! and `usage` from the answer, streamed (`text/event-stream`) or not (JSON).
//!
//! Where a stream ends, by its protocol:
//! - Chat Completions: at `data: [DONE]`, or at the chunk with an empty `choices` and the
//!   `usage` (what `stream_options.include_usage` adds before `[DONE]`). The chunk with a
//!   `finish_reason` ends the answer ([`Progress::Answered`]): a usage that follows is
//!   still read while the body is, and the last usage read counts (servers that send a
//!   cumulative usage in every chunk, as vLLM's continuous usage stats, count once).
//! - Responses: at `response.completed`, `response.incomplete` (a success cut short by
//!   `max_output_tokens`, with its usage), `response.failed` or `error`.
//! - An `error` object in a 2xx answer (some gateways) is a failure.

use http::{HeaderMap, Request};
use orchestrator_metrics::{RejectReason, TokenUsage};
use serde_json::{Map, Value};

use super::answer::{Answer, AnswerReader, append_bounded, token_count};
use super::llm::{
    GenAi, GenAiRequest, GenAiResponse, MAX_MODEL_BYTES, PROVIDER_ERROR, Progress, ResponseObserver,
};
use super::route;
use crate::cap::capped;
use crate::classify::ErrorKind;

/// The adapter for OpenAI-compatible APIs.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiCompatible;

impl GenAi for OpenAiCompatible {
    type Observer = OpenAiObserver;

    fn request<B>(&self, request: &Request<B>) -> GenAiRequest {
        route::request(request, "_OTHER")
    }

    fn observer(&self, status: u16, headers: &HeaderMap) -> OpenAiObserver {
        OpenAiObserver {
            answer: Answer::new(status, headers),
            reader: OpenAiReader::default(),
        }
    }

    /// A streamed Chat Completions or Completions request that does not say whether it wants
    /// its usage gets `"stream_options":{"include_usage":true}`, as LLM gateways do: without
    /// it OpenAI reports no usage in a stream. The caller then receives one more chunk before
    /// `[DONE]`, with an empty `choices` and the usage. A request that sets
    /// `include_usage` itself, true or false, is sent as it is.
    fn ask_for_usage(&self, path: &str, body: &[u8]) -> Option<Vec<u8>> {
        if !path.ends_with("/completions") {
            return None;
        }
        // Only the two fields are kept: the prompt is skipped, not copied.
        let fields: StreamFields = serde_json::from_slice(body).ok()?;
        if fields.stream != Some(true) {
            return None;
        }
        match fields.stream_options {
            // Written into the text, so the rest of the body is sent byte for byte.
            None => {
                let open = body.iter().position(|&b| b == b'{')?;
                let mut out = Vec::with_capacity(body.len() + 40);
                out.extend_from_slice(&body[..=open]);
                out.extend_from_slice(br#""stream_options":{"include_usage":true},"#);
                out.extend_from_slice(&body[open + 1..]);
                Some(out)
            }
            // `null` is unset, as OpenAI reads it.
            Some(options @ (Value::Null | Value::Object(_)))
                if options.get("include_usage").is_none() =>
            {
                let mut fields: Map<String, Value> = serde_json::from_slice(body).ok()?;
                let mut options = match options {
                    Value::Object(options) => options,
                    _ => Map::new(),
                };
                options.insert("include_usage".into(), Value::Bool(true));
                fields.insert("stream_options".into(), Value::Object(options));
                serde_json::to_vec(&fields).ok()
            }
            Some(_) => None,
        }
    }
}

/// What [`OpenAiCompatible::ask_for_usage`] reads of a request body.
#[derive(serde::Deserialize)]
struct StreamFields {
    #[serde(default)]
    stream: Option<bool>,
    /// Present, even as `null` (`Some(Value::Null)`), or absent (`None`).
    #[serde(default, deserialize_with = "present")]
    stream_options: Option<Value>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    serde::Deserialize::deserialize(d).map(Some)
}

/// Reads `model` and `usage` from an OpenAI-compatible answer.
#[derive(Debug)]
pub struct OpenAiObserver {
    answer: Answer,
    reader: OpenAiReader,
}

#[derive(Debug, Default)]
struct OpenAiReader {
    response: GenAiResponse,
    /// Assemble the completion, up to this many bytes.
    capture: Option<usize>,
    progress: Progress,
}

/// The `error.type` of an OpenAI error object (its `code`, else its `type`) when it is one
/// whose meaning is worth a series of its own; others are `provider_error`.
fn error_kind(error: &Value) -> ErrorKind {
    let name = ["code", "type"]
        .iter()
        .find_map(|key| error.get(*key).and_then(Value::as_str));
    match name.unwrap_or_default() {
        "rate_limit_exceeded" => ErrorKind::RateLimited,
        "insufficient_quota" => ErrorKind::Named("insufficient_quota"),
        "context_length_exceeded" => ErrorKind::Named("context_length_exceeded"),
        "invalid_api_key" => ErrorKind::Named("invalid_api_key"),
        "model_not_found" => ErrorKind::Named("model_not_found"),
        "content_filter" => ErrorKind::Named("content_filter"),
        _ => PROVIDER_ERROR,
    }
}

/// The usage of Chat Completions and Embeddings (`prompt_tokens`, `completion_tokens`) or
/// of the Responses API (`input_tokens`, `output_tokens`); `None` when neither count is
/// there (a usage of `null` fields).
fn usage(u: &Value) -> Result<Option<TokenUsage>, RejectReason> {
    let n = |p: &str| token_count(u.pointer(p));
    let responses = u.get("input_tokens").is_some() || u.get("output_tokens").is_some();
    let [input, output, cached, reasoning] = if responses {
        [
            "/input_tokens",
            "/output_tokens",
            "/input_tokens_details/cached_tokens",
            "/output_tokens_details/reasoning_tokens",
        ]
    } else {
        [
            "/prompt_tokens",
            "/completion_tokens",
            "/prompt_tokens_details/cached_tokens",
            "/completion_tokens_details/reasoning_tokens",
        ]
    };
    let (input, output) = (n(input)?, n(output)?);
    let (cached, reasoning) = (n(cached)?, n(reasoning)?);
    if input.is_none() && output.is_none() {
        return Ok(None);
    }
    Ok(Some(
        TokenUsage::new(input.unwrap_or(0), output.unwrap_or(0))
            .with_cached_input(cached.unwrap_or(0))
            .with_reasoning(reasoning.unwrap_or(0)),
    ))
}

impl OpenAiReader {
    fn model(&mut self, value: &Value) {
        // Azure's first chunk (`prompt_filter_results`) names the model "".
        if let Some(model) = value
            .get("model")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            && self.response.model.as_deref() != Some(model)
        {
            self.response.model = Some(capped(model, MAX_MODEL_BYTES));
        }
    }

    fn fail(&mut self, kind: ErrorKind) {
        self.response.error = Some(kind);
        self.progress = Progress::Done;
    }

    /// A Responses API event (it has a `type`).
    fn event(&mut self, kind: &str, value: &Value) {
        match kind {
            "response.completed" | "response.incomplete" | "response.failed" => {
                if let Some(response) = value.get("response") {
                    self.object(response);
                }
                self.progress = Progress::Done;
            }
            "response.created" | "response.in_progress" => {
                if let Some(response) = value.get("response") {
                    self.model(response);
                }
            }
            "response.output_text.delta" => {
                if let (Some(limit), Some(text)) =
                    (self.capture, value.get("delta").and_then(Value::as_str))
                {
                    append_bounded(&mut self.response.completion, text, limit);
                }
            }
            "error" => self.fail(error_kind(value)),
            _ => {}
        }
    }

    /// A chat chunk, or a whole answer of any of the APIs.
    fn object(&mut self, value: &Value) {
        self.model(value);
        if let Some(u) = value.get("usage").filter(|u| u.is_object()) {
            match usage(u) {
                Ok(Some(usage)) => {
                    self.response.usage = Some(usage);
                    self.response.refused_usage = None;
                }
                Ok(None) => {}
                Err(reason) => {
                    self.response.usage = None;
                    self.response.refused_usage = Some(reason);
                }
            }
        }
        if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
            self.fail(error_kind(error));
        }
        if let Some(limit) = self.capture {
            self.capture_text(value, limit);
        }
        self.tools(value);
        if let Some(choices) = value.get("choices").and_then(Value::as_array) {
            if choices.is_empty() && self.response.usage.is_some() {
                self.progress = Progress::Done;
            } else if matches!(self.progress, Progress::Open | Progress::Unknown)
                && choices
                    .iter()
                    .any(|c| c.get("finish_reason").is_some_and(|r| !r.is_null()))
            {
                self.progress = Progress::Answered;
            }
        }
    }

    /// Finish reasons and tool calls: of chat choices (a stream's deltas name each call
    /// once, with its id and name, before its arguments), and of a Responses answer's
    /// `function_call` output items.
    fn tools(&mut self, value: &Value) {
        for choice in value
            .get("choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                self.response.finish_reason(reason);
            }
            let calls = choice
                .pointer("/delta/tool_calls")
                .or_else(|| choice.pointer("/message/tool_calls"))
                .and_then(Value::as_array);
            for call in calls.into_iter().flatten() {
                if let Some(name) = call.pointer("/function/name").and_then(Value::as_str) {
                    let id = call.get("id").and_then(Value::as_str);
                    self.response.tool_call(id, name);
                }
            }
        }
        let outputs = value.get("output").and_then(Value::as_array);
        for item in outputs.into_iter().flatten() {
            if item.get("type").and_then(Value::as_str) == Some("function_call")
                && let Some(name) = item.get("name").and_then(Value::as_str)
            {
                let id = item.get("call_id").and_then(Value::as_str);
                self.response.tool_call(id, name);
            }
        }
    }

    fn capture_text(&mut self, value: &Value, limit: usize) {
        let chat = value
            .pointer("/choices/0/delta/content")
            .or_else(|| value.pointer("/choices/0/message/content"))
            .or_else(|| value.pointer("/choices/0/text"))
            .and_then(Value::as_str);
        if let Some(text) = chat {
            append_bounded(&mut self.response.completion, text, limit);
        }
        // A whole Responses answer: its output messages' text parts.
        let outputs = value.get("output").and_then(Value::as_array);
        for part in outputs
            .into_iter()
            .flatten()
            .filter_map(|o| o.get("content").and_then(Value::as_array))
            .flatten()
        {
            if let Some(text) = part.get("text").and_then(Value::as_str) {
                append_bounded(&mut self.response.completion, text, limit);
            }
        }
    }

    fn read(&mut self, value: &Value) {
        match value.get("type").and_then(Value::as_str) {
            Some(kind) => self.event(kind, value),
            None => self.object(value),
        }
    }
}

/// What an event may carry, found in one pass over its quotes: events that carry nothing
/// read (most of a stream's text deltas) are not parsed.
fn worth_parsing(data: &[u8]) -> bool {
    const KEYS: [&[u8]; 7] = [
        b"usage\"",
        b"tool_calls\"",
        b"error",
        b"response.completed\"",
        b"response.incomplete\"",
        b"response.failed\"",
        b"finish_reason\"",
    ];
    let mut rest = data;
    while let Some(at) = rest.iter().position(|&b| b == b'"') {
        rest = &rest[at + 1..];
        for key in KEYS {
            if let Some(after) = rest.strip_prefix(key) {
                if key != b"finish_reason\"" {
                    return true;
                }
                // Every chat chunk carries `"finish_reason":null`; only a set one counts.
                let value = after.trim_ascii_start().strip_prefix(b":");
                if value.is_some_and(|v| !v.trim_ascii_start().starts_with(b"null")) {
                    return true;
                }
            }
        }
    }
    false
}

impl AnswerReader for OpenAiReader {
    fn data(&mut self, data: &[u8]) {
        if data == b"[DONE]" {
            self.progress = Progress::Done;
            return;
        }
        let wanted = self.capture.is_some() || self.response.model.is_none() || worth_parsing(data);
        if wanted && let Ok(value) = serde_json::from_slice::<Value>(data) {
            self.read(&value);
        }
    }

    fn json(&mut self, body: &[u8]) {
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            self.read(&value);
        }
    }

    fn progress(&self) -> Progress {
        self.progress
    }
}

impl ResponseObserver for OpenAiObserver {
    /// A chat chunk or completion, a Responses event or response, an embeddings answer,
    /// or an error body.
    fn recognises(&self, value: &Value) -> bool {
        [
            "choices", "usage", "type", "output", "data", "error", "object",
        ]
        .iter()
        .any(|key| value.get(key).is_some())
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
        std::mem::take(&mut self.reader.response)
    }
}

#[cfg(test)]
mod tests;
