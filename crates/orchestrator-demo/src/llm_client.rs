//! The orchestrator's client for the LLM provider, wrapped by the telemetry layer with the
//! OpenAI-compatible GenAI adapter: the layer records the call (latency to the last chunk,
//! time to first token at the first chunk, tokens, cost) and its `chat {model}` span; the
//! client streams the answer and prices it for the business figures.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use orchestrator_telemetry::orchestrator_tower::{
    GenAiRequest, Llm, OpenAiCompatible, TelemetryLayer, TelemetryService, Tracer,
};
use orchestrator_telemetry::{PriceTable, TokenUsage};
use serde_json::Value;
use tower::{Layer as _, ServiceExt as _};

use crate::http_client::{HttpClient, http_client};
use crate::provider::ModelProfile;

/// A completed LLM call.
#[derive(Debug, Clone)]
pub struct Completion {
    /// The answer.
    pub text: String,
    /// Token usage reported by the provider.
    pub usage: TokenUsage,
    /// The priced cost, when the model has a price.
    pub cost: Option<f64>,
    /// Time to the first streamed chunk.
    pub time_to_first_token: Duration,
}

/// Why an LLM call failed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The provider refused for rate limiting.
    #[error("provider rate limited the call")]
    RateLimited,
    /// The provider answered with an error status.
    #[error("provider answered {0}")]
    Status(u16),
    /// No complete answer within the deadline.
    #[error("provider did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection failed or the stream was malformed.
    #[error("provider call failed: {0}")]
    Transport(String),
}

/// A client of the simulated provider.
#[derive(Debug, Clone)]
pub struct LlmClient {
    http: TelemetryService<HttpClient, Llm<OpenAiCompatible>>,
    base_url: String,
    prices: PriceTable,
    deadline: Duration,
}

impl LlmClient {
    /// A client of the provider at `base_url`, recording through `tracer`, pricing with
    /// `prices`.
    pub fn new(base_url: String, tracer: &Tracer, prices: PriceTable) -> Self {
        LlmClient {
            http: TelemetryLayer::llm(tracer, OpenAiCompatible).layer(http_client()),
            base_url,
            prices,
            deadline: Duration::from_secs(5),
        }
    }

    /// Streams a chat completion (the layer records it, success or failure). Past the
    /// deadline the call is dropped and recorded as cancelled.
    pub async fn complete(
        &self,
        model: &ModelProfile,
        prompt: &str,
        simulate: Option<&str>,
    ) -> Result<Completion, LlmError> {
        let start = Instant::now();
        let mut completion =
            tokio::time::timeout(self.deadline, self.stream(model, prompt, simulate, start))
                .await
                .unwrap_or(Err(LlmError::Timeout(self.deadline)))?;
        completion.cost = self
            .prices
            .cost(model.provider, model.model, &completion.usage);
        Ok(completion)
    }

    async fn stream(
        &self,
        model: &ModelProfile,
        prompt: &str,
        simulate: Option<&str>,
        start: Instant,
    ) -> Result<Completion, LlmError> {
        let url = format!("{}/{}/v1/chat/completions", self.base_url, model.provider);
        let body = serde_json::json!({
            "model": model.model,
            "stream": true,
            "messages": [{"role": "user", "content": prompt}],
        });
        let mut request = http::Request::post(url).header("content-type", "application/json");
        if let Some(simulate) = simulate {
            request = request.header("x-simulate", simulate);
        }
        let mut request = request
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| LlmError::Transport(e.to_string()))?;
        // The layer reads the request from here: it never reads bodies.
        request.extensions_mut().insert(GenAiRequest {
            operation: "chat",
            provider: Cow::Borrowed(model.provider),
            model: Cow::Borrowed(model.model),
            prompt: None,
        });
        let response = self
            .http
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| LlmError::Transport(e.to_string()))?;
        match response.status().as_u16() {
            200 => {}
            429 => return Err(LlmError::RateLimited),
            code => return Err(LlmError::Status(code)),
        }
        let mut events = SseReader::default();
        let mut text = String::new();
        let mut usage = None;
        let mut first_token = None;
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| LlmError::Transport(e.to_string()))?;
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            for event in events.push(&chunk) {
                if event == "[DONE]" {
                    let usage = usage
                        .ok_or_else(|| LlmError::Transport("stream ended without usage".into()))?;
                    // Read to the end so that the layer sees the last chunk.
                    while let Some(frame) = body.frame().await {
                        frame.map_err(|e| LlmError::Transport(e.to_string()))?;
                    }
                    return Ok(Completion {
                        text,
                        usage,
                        cost: None,
                        time_to_first_token: first_token.unwrap_or_else(|| start.elapsed()),
                    });
                }
                let value: Value = serde_json::from_str(&event)
                    .map_err(|e| LlmError::Transport(format!("malformed event: {e}")))?;
                if let Some(content) = value
                    .pointer("/choices/0/delta/content")
                    .and_then(Value::as_str)
                {
                    first_token.get_or_insert_with(|| start.elapsed());
                    text.push_str(content);
                }
                if let Some(u) = value.get("usage") {
                    usage = Some(parse_usage(u));
                }
            }
        }
        Err(LlmError::Transport("stream ended before [DONE]".into()))
    }
}

fn parse_usage(u: &Value) -> TokenUsage {
    let field = |p: &str| u.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    TokenUsage::new(field("/prompt_tokens"), field("/completion_tokens"))
        .with_cached_input(field("/prompt_tokens_details/cached_tokens"))
}

/// Splits a server-sent-event byte stream into the `data:` payloads of complete events.
#[derive(Debug, Default)]
struct SseReader {
    buffer: String,
}

impl SseReader {
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buffer.push_str(&String::from_utf8_lossy(bytes));
        let mut out = Vec::new();
        while let Some(end) = self.buffer.find("\n\n") {
            let event: String = self.buffer.drain(..end + 2).collect();
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect();
            if !data.is_empty() {
                out.push(data.join("\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_split_across_chunks() {
        let mut reader = SseReader::default();
        assert!(reader.push(b"data: {\"a\"").is_empty());
        assert_eq!(
            reader.push(b":1}\n\ndata: [DONE]\n\n"),
            vec!["{\"a\":1}", "[DONE]"]
        );
    }
}
