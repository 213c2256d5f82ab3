//! A [`GenAi`] adapter for Google's Gemini API (`…/models/{model}:generateContent` and
//! `:streamGenerateContent`, JSON, `?alt=sse` events, or the JSON array a stream without
//! `alt=sse` answers). The model is read from the request's [`GenAiRequest`] or its path;
//! the observer reads `modelVersion` and `usageMetadata` (the last one seen counts: a stream
//! repeats it as it grows).
//!
//! Usage, as [`TokenUsage`] means it: input is `promptTokenCount` (which includes
//! `cachedContentTokenCount`, the cached part) plus `toolUsePromptTokenCount`; output is
//! `candidatesTokenCount` plus `thoughtsTokenCount`, the reasoning part.
//!
//! A stream ends at the chunk whose candidate has a `finishReason` and that carries the
//! `usageMetadata`; a stream cut before it is `incomplete_stream`, with no tokens made up.

use http::{HeaderMap, Request};
use orchestrator_metrics::{RejectReason, TokenUsage};
use serde_json::Value;

use super::answer::{Answer, AnswerReader, append_bounded, token_count};
use super::llm::{
    GenAi, GenAiRequest, GenAiResponse, MAX_MODEL_BYTES, PROVIDER_ERROR, Progress, ResponseObserver,
};
use crate::cap::capped;
use crate::classify::ErrorKind;

/// The adapter for the Gemini API (`gen_ai.provider.name` `gcp.gemini` unless the request
/// says otherwise).
#[derive(Debug, Clone, Copy, Default)]
pub struct Gemini;

impl GenAi for Gemini {
    type Observer = GeminiObserver;

    fn request<B>(&self, request: &Request<B>) -> GenAiRequest {
        super::route::request(request, "gcp.gemini")
    }

    fn observer(&self, status: u16, headers: &HeaderMap) -> GeminiObserver {
        GeminiObserver {
            answer: Answer::new(status, headers),
            reader: GeminiReader::default(),
        }
    }
}

/// Reads the model, the usage and failures from a Gemini answer.
#[derive(Debug)]
pub struct GeminiObserver {
    answer: Answer,
    reader: GeminiReader,
}

#[derive(Debug, Default)]
struct GeminiReader {
    response: GenAiResponse,
    capture: Option<usize>,
    progress: Progress,
}

/// The failure a Gemini error's `status` names (google.rpc codes).
fn error_kind(error: &Value) -> ErrorKind {
    match error
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "RESOURCE_EXHAUSTED" => ErrorKind::RateLimited,
        "DEADLINE_EXCEEDED" => ErrorKind::Timeout,
        "UNAVAILABLE" => ErrorKind::Named("unavailable"),
        "INVALID_ARGUMENT" => ErrorKind::Named("invalid_argument"),
        "PERMISSION_DENIED" => ErrorKind::Named("permission_denied"),
        "UNAUTHENTICATED" => ErrorKind::Named("unauthenticated"),
        "NOT_FOUND" => ErrorKind::Named("not_found"),
        "FAILED_PRECONDITION" => ErrorKind::Named("failed_precondition"),
        _ => PROVIDER_ERROR,
    }
}

fn usage(u: &Value) -> Result<Option<TokenUsage>, RejectReason> {
    let n = |key: &str| token_count(u.get(key));
    let prompt = n("promptTokenCount")?;
    let candidates = n("candidatesTokenCount")?;
    let tool_prompt = n("toolUsePromptTokenCount")?.unwrap_or(0);
    let cached = n("cachedContentTokenCount")?.unwrap_or(0);
    let thoughts = n("thoughtsTokenCount")?.unwrap_or(0);
    if prompt.is_none() && candidates.is_none() {
        return Ok(None);
    }
    let input = prompt.unwrap_or(0).saturating_add(tool_prompt);
    let output = candidates.unwrap_or(0).saturating_add(thoughts);
    Ok(Some(
        TokenUsage::new(input, output)
            .with_cached_input(cached)
            .with_reasoning(thoughts),
    ))
}

impl GeminiReader {
    /// One `GenerateContentResponse` (a whole answer, or one chunk of a stream).
    fn chunk(&mut self, value: &Value) {
        if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
            self.response.error = Some(error_kind(error));
            self.progress = Progress::Done;
            return;
        }
        if let Some(model) = value.get("modelVersion").and_then(Value::as_str)
            && self.response.model.as_deref() != Some(model)
        {
            self.response.model = Some(capped(model, MAX_MODEL_BYTES));
        }
        let reported = value.get("usageMetadata").filter(|u| u.is_object());
        if let Some(u) = reported {
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
        let candidates = value.get("candidates").and_then(Value::as_array);
        let mut finished = false;
        for candidate in candidates.into_iter().flatten() {
            finished |= candidate.get("finishReason").is_some_and(|r| !r.is_null());
            if let Some(reason) = candidate.get("finishReason").and_then(Value::as_str) {
                self.response.finish_reason(reason);
            }
            let parts = candidate
                .pointer("/content/parts")
                .and_then(Value::as_array);
            for call in parts
                .into_iter()
                .flatten()
                .filter_map(|p| p.get("functionCall"))
            {
                if let Some(name) = call.get("name").and_then(Value::as_str) {
                    self.response
                        .tool_call(call.get("id").and_then(Value::as_str), name);
                }
            }
            if let Some(limit) = self.capture {
                for text in parts
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                {
                    append_bounded(&mut self.response.completion, text, limit);
                }
            }
        }
        if finished {
            self.progress = if reported.is_some() {
                Progress::Done
            } else {
                Progress::Answered
            };
        }
    }
}

impl AnswerReader for GeminiReader {
    fn data(&mut self, data: &[u8]) {
        if let Ok(value) = serde_json::from_slice::<Value>(data) {
            self.chunk(&value);
        }
    }

    fn json(&mut self, body: &[u8]) {
        match serde_json::from_slice::<Value>(body) {
            // A stream without `alt=sse`: a JSON array of chunks.
            Ok(Value::Array(chunks)) => chunks.iter().for_each(|c| self.chunk(c)),
            Ok(value) => self.chunk(&value),
            Err(_) => {}
        }
    }

    fn progress(&self) -> Progress {
        self.progress
    }
}

impl ResponseObserver for GeminiObserver {
    /// A `GenerateContentResponse` (candidates, usage, prompt feedback) or an error body.
    fn recognises(&self, value: &serde_json::Value) -> bool {
        ["candidates", "usageMetadata", "promptFeedback", "error"]
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
mod tests {
    use super::*;

    fn read(content_type: &'static str, body: &[u8]) -> (GenAiResponse, Progress) {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, content_type.parse().unwrap());
        let mut o = Gemini.observer(200, &headers);
        for chunk in body.chunks(11) {
            o.on_chunk(chunk);
        }
        let progress = o.progress();
        (o.finish(), progress)
    }

    /// A stream without `alt=sse` is one JSON array of chunks; the last usage counts.
    #[test]
    fn a_json_array_stream_reads_its_last_usage() {
        let body = br#"[{"candidates":[{"content":{"parts":[{"text":"Bon"}],"role":"model"}}],"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9},"modelVersion":"gemini-2.5-flash"},
{"candidates":[{"content":{"parts":[{"text":"jour"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":2,"thoughtsTokenCount":5,"toolUsePromptTokenCount":3,"totalTokenCount":19}}]"#;
        let (r, _) = read("application/json", body);
        let usage = TokenUsage::new(12, 7).with_reasoning(5);
        assert_eq!(r.usage, Some(usage));
        assert_eq!(r.model.as_deref(), Some("gemini-2.5-flash"));
    }

    /// The finish without usage answers; the usage after it ends the stream.
    #[test]
    fn a_finish_without_usage_answers_and_the_usage_ends() {
        let (r, progress) = read(
            "text/event-stream",
            b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n",
        );
        assert_eq!((r.usage, progress), (None, Progress::Answered));
        let (r, progress) = read(
            "text/event-stream",
            b"data: {\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":-1}}\r\n\r\n",
        );
        assert_eq!(r.refused_usage, Some(RejectReason::Negative));
        assert_eq!(progress, Progress::Open);
    }

    #[test]
    fn error_statuses_name_their_kind() {
        let mut o = Gemini.observer(429, &HeaderMap::new());
        o.on_chunk(br#"{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}"#);
        assert_eq!(o.finish().error, Some(ErrorKind::RateLimited));
        let mut o = Gemini.observer(500, &HeaderMap::new());
        o.on_chunk(br#"{"error":{"code":500,"status":"INTERNAL"}}"#);
        assert_eq!(o.finish().error, Some(PROVIDER_ERROR));
    }
}
