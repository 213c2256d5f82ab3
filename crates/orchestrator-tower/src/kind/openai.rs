//! A [`GenAi`] adapter for OpenAI-compatible chat APIs (OpenAI, Azure OpenAI, Mistral,
//! vLLM, Ollama, LiteLLM...): the client puts a [`GenAiRequest`] in the request's extensions
//! (the layer does not read request bodies), and the observer reads `model` and `usage` from
//! the answer, streamed (`text/event-stream`, usage in the last events) or not (JSON).

use std::borrow::Cow;

use http::{HeaderMap, Request};
use orchestrator_metrics::TokenUsage;
use serde_json::Value;

use super::answer::{Answer, AnswerReader, append_bounded, contains, token_count};
use super::llm::{GenAi, GenAiRequest, GenAiResponse, ResponseObserver};
use crate::classify::ErrorKind;

/// The adapter for OpenAI-compatible APIs.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiCompatible;

impl GenAi for OpenAiCompatible {
    type Observer = OpenAiObserver;

    fn request<B>(&self, request: &Request<B>) -> GenAiRequest {
        request
            .extensions()
            .get::<GenAiRequest>()
            .cloned()
            .unwrap_or(GenAiRequest {
                operation: "chat",
                provider: Cow::Borrowed("_OTHER"),
                model: Cow::Borrowed("_OTHER"),
                prompt: None,
            })
    }

    fn observer(&self, status: u16, headers: &HeaderMap) -> OpenAiObserver {
        OpenAiObserver {
            answer: Answer::new(status, headers),
            reader: OpenAiReader::default(),
        }
    }
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
}

impl OpenAiReader {
    fn read(&mut self, value: &Value) {
        if let Some(model) = value.get("model").and_then(Value::as_str)
            && self.response.model.as_deref() != Some(model)
        {
            self.response.model = Some(crate::cap::capped(model, super::llm::MAX_MODEL_BYTES));
        }
        if let Some(u) = value.get("usage").filter(|u| u.is_object()) {
            let field = |p: &str| token_count(u.pointer(p)).map(Option::unwrap_or_default);
            let usage = (|| {
                Ok(
                    TokenUsage::new(field("/prompt_tokens")?, field("/completion_tokens")?)
                        .with_cached_input(field("/prompt_tokens_details/cached_tokens")?)
                        .with_reasoning(field("/completion_tokens_details/reasoning_tokens")?),
                )
            })();
            match usage {
                Ok(usage) => self.response.usage = Some(usage),
                Err(reason) => {
                    self.response.usage = None;
                    self.response.refused_usage = Some(reason);
                }
            }
        }
        if value.get("error").is_some_and(|e| !e.is_null()) {
            self.response.error = Some(ErrorKind::Named("provider_error"));
        }
        if let Some(limit) = self.capture {
            let text = value
                .pointer("/choices/0/delta/content")
                .or_else(|| value.pointer("/choices/0/message/content"))
                .and_then(Value::as_str);
            if let Some(text) = text {
                append_bounded(&mut self.response.completion, text, limit);
            }
        }
    }
}

impl AnswerReader for OpenAiReader {
    fn data(&mut self, data: &[u8]) {
        if data == b"[DONE]" {
            return;
        }
        // Only events that may carry what is read are parsed.
        let wanted = self.capture.is_some()
            || self.response.model.is_none()
            || contains(data, b"\"usage\"")
            || contains(data, b"\"error\"");
        if wanted && let Ok(value) = serde_json::from_slice::<Value>(data) {
            self.read(&value);
        }
    }

    fn json(&mut self, body: &[u8]) {
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            self.read(&value);
        }
    }
}

impl ResponseObserver for OpenAiObserver {
    fn capture_output(&mut self, limit: usize) {
        self.reader.capture = Some(limit);
    }

    fn on_chunk(&mut self, chunk: &[u8]) {
        self.answer.push(chunk, &mut self.reader);
    }

    fn finish(&mut self) -> GenAiResponse {
        self.answer.finish(&mut self.reader);
        std::mem::take(&mut self.reader.response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::CONTENT_TYPE, content_type.parse().unwrap());
        h
    }

    #[test]
    fn reads_usage_from_a_stream_split_anywhere() {
        let stream = b"data: {\"model\":\"gpt-4o-mini-2024\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34}}\n\ndata: [DONE]\n\n";
        for split in [1, 7, 50, stream.len()] {
            let mut o = OpenAiCompatible.observer(200, &headers("text/event-stream"));
            for chunk in stream.chunks(split) {
                o.on_chunk(chunk);
            }
            let r = o.finish();
            assert_eq!(r.model.as_deref(), Some("gpt-4o-mini-2024"));
            assert_eq!(r.usage, Some(TokenUsage::new(12, 34)));
        }
    }

    /// Issue 14, row 9: a chunk of 400 000 newlines is read in linear time (draining line by
    /// line took minutes: 400 000 shifts of a buffer of up to 400 KB).
    #[test]
    fn many_short_lines_take_linear_time() {
        let mut o = OpenAiCompatible.observer(200, &headers("text/event-stream"));
        let chunk = vec![b'\n'; 400_000];
        let started = std::time::Instant::now();
        o.on_chunk(&chunk);
        o.on_chunk(b"data: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(o.finish().usage, Some(TokenUsage::new(1, 2)));
    }

    /// Issue 14, row 11: a hostile provider's model name is held to its cap.
    #[test]
    fn a_huge_model_name_is_capped() {
        let mut o = OpenAiCompatible.observer(200, &headers("application/json"));
        let body = format!(r#"{{"model":"{}","usage":{{}}}}"#, "m".repeat(500_000));
        o.on_chunk(body.as_bytes());
        let model = o.finish().model.unwrap();
        assert!(model.len() <= super::super::llm::MAX_MODEL_BYTES && model.ends_with('…'));
    }

    #[test]
    fn reads_a_json_answer() {
        let mut o = OpenAiCompatible.observer(200, &headers("application/json"));
        o.on_chunk(br#"{"model":"m","usage":{"prompt_tokens":1,"completion_tokens":2}}"#);
        assert_eq!(o.finish().usage, Some(TokenUsage::new(1, 2)));
    }
}
