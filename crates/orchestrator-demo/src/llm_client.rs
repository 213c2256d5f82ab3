//! The orchestrator's client for the LLM provider, wrapped by the telemetry layer with a
//! GenAI adapter per wire format (`OpenAiCompatible` for the OpenAI models,
//! `AnthropicMessages` for the Anthropic one): the layer records the call (latency to the last
//! chunk, time to first token at the first chunk, tokens, cost) and its `chat {model}` span;
//! the client streams the answer and prices it for the business figures.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use orchestrator_telemetry::orchestrator_tower::{
    AnthropicMessages, BudgetLayer, BudgetService, GenAiRequest, Llm, OpenAiCompatible,
    TelemetryLayer, TelemetryService, Tracer, bound_of_body,
};
use orchestrator_telemetry::{BudgetExceeded, PriceTable, TokenUsage};
use serde_json::Value;
use tower::{Layer as _, ServiceExt as _};

use crate::anthropic_wire::UsageSoFar;
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
    /// An enforcing budget refused the call: nothing was sent.
    #[error("{0}")]
    Budget(Box<BudgetExceeded>),
}

impl LlmError {
    /// The HTTP status the orchestrator answers with, and the `retry-after` seconds of a
    /// refusal whose budget frees room.
    pub fn status(&self) -> (http::StatusCode, Option<u64>) {
        use http::StatusCode;
        match self {
            LlmError::RateLimited => (StatusCode::SERVICE_UNAVAILABLE, None),
            LlmError::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, None),
            LlmError::Status(_) | LlmError::Transport(_) => (StatusCode::BAD_GATEWAY, None),
            LlmError::Budget(refused) => (
                StatusCode::TOO_MANY_REQUESTS,
                refused.retry_after.map(|d| d.as_secs().max(1)),
            ),
        }
    }

    /// A failure of the client stack: a budget's refusal, or a transport error.
    fn from_stack(error: tower::BoxError) -> Self {
        match error.downcast::<BudgetExceeded>() {
            Ok(refused) => LlmError::Budget(refused),
            Err(other) => LlmError::Transport(other.to_string()),
        }
    }
}

/// A client of the simulated provider.
#[derive(Debug, Clone)]
pub struct LlmClient {
    openai: BudgetService<TelemetryService<HttpClient, Llm<OpenAiCompatible>>>,
    anthropic: BudgetService<TelemetryService<HttpClient, Llm<AnthropicMessages>>>,
    base_url: String,
    prices: PriceTable,
    deadline: Duration,
}

impl LlmClient {
    /// A client of the provider at `base_url`, recording through `tracer`, pricing with
    /// `prices`.
    pub fn new(base_url: String, tracer: &Tracer, prices: PriceTable) -> Self {
        LlmClient {
            // The budgets admit each call before the layer records and sends it.
            openai: BudgetLayer::new(tracer)
                .layer(TelemetryLayer::llm(tracer, OpenAiCompatible).layer(http_client())),
            anthropic: BudgetLayer::new(tracer)
                .layer(TelemetryLayer::llm(tracer, AnthropicMessages).layer(http_client())),
            base_url,
            prices,
            deadline: Duration::from_secs(5),
        }
    }

    /// The request of a call to `path` of `model`'s provider, carrying `body`.
    fn request(
        &self,
        model: &ModelProfile,
        path: &str,
        body: &Value,
        simulate: Option<&str>,
    ) -> Result<http::Request<Full<Bytes>>, LlmError> {
        let url = format!("{}/{}/{path}", self.base_url, model.provider);
        let mut request = http::Request::post(url).header("content-type", "application/json");
        if let Some(simulate) = simulate {
            request = request.header("x-simulate", simulate);
        }
        let body = Bytes::from(body.to_string());
        let bound = bound_of_body(&body);
        let mut request = request
            .body(Full::new(body))
            .map_err(|e| LlmError::Transport(e.to_string()))?;
        // What the call may cost at most, for the enforcing budgets.
        request.extensions_mut().insert(bound);
        // The layer reads the request from here: it never reads bodies.
        request.extensions_mut().insert(GenAiRequest {
            operation: "chat",
            provider: Cow::Borrowed(model.provider),
            model: Cow::Borrowed(model.model),
            prompt: None,
        });
        Ok(request)
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
        let anthropic = model.provider == "anthropic";
        let messages = serde_json::json!([{"role": "user", "content": prompt}]);
        let (path, body) = if anthropic {
            let body = serde_json::json!({
                "model": model.model, "max_tokens": 1024, "stream": true, "messages": messages,
            });
            ("v1/messages", body)
        } else {
            // A cap on the answer, as callers set one: what an enforcing budget holds.
            let body = serde_json::json!({
                "model": model.model, "max_tokens": 1024, "stream": true, "messages": messages,
            });
            ("v1/chat/completions", body)
        };
        let request = self.request(model, path, &body, simulate)?;
        if anthropic {
            let response = self
                .anthropic
                .clone()
                .oneshot(request)
                .await
                .map_err(LlmError::from_stack)?;
            read(response, Wire::Anthropic, start).await
        } else {
            let response = self
                .openai
                .clone()
                .oneshot(request)
                .await
                .map_err(LlmError::from_stack)?;
            read(response, Wire::OpenAi, start).await
        }
    }
}

/// One step of an agent run: the model's tool calls, or its answer.
#[derive(Debug, Clone)]
pub struct Step {
    /// The tool calls asked for: (call id, tool name). Empty when the model answered.
    pub calls: Vec<(String, String)>,
    /// The assistant message, to append to the conversation.
    pub message: Value,
    /// Token usage reported by the provider.
    pub usage: TokenUsage,
}

impl LlmClient {
    /// One step of an agent: a chat completion offered `tools`, not streamed (the layer
    /// records it, with its finish reason and the tool calls asked for).
    pub async fn tool_step(
        &self,
        model: &ModelProfile,
        messages: &Value,
        tools: &Value,
    ) -> Result<Step, LlmError> {
        let body = serde_json::json!({"model": model.model, "messages": messages, "tools": tools});
        let request = self.request(model, "v1/chat/completions", &body, None)?;
        let call = async {
            let response = self
                .openai
                .clone()
                .oneshot(request)
                .await
                .map_err(LlmError::from_stack)?;
            match response.status().as_u16() {
                200 => {}
                429 => return Err(LlmError::RateLimited),
                code => return Err(LlmError::Status(code)),
            }
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| LlmError::Transport(e.to_string()))?
                .to_bytes();
            serde_json::from_slice::<Value>(&bytes)
                .map_err(|e| LlmError::Transport(format!("malformed answer: {e}")))
        };
        let answer = tokio::time::timeout(self.deadline, call)
            .await
            .unwrap_or(Err(LlmError::Timeout(self.deadline)))?;
        let message = answer
            .pointer("/choices/0/message")
            .cloned()
            .ok_or_else(|| LlmError::Transport("an answer without a message".into()))?;
        let calls = message["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                Some((
                    c["id"].as_str()?.to_owned(),
                    c.pointer("/function/name")?.as_str()?.to_owned(),
                ))
            })
            .collect();
        Ok(Step {
            calls,
            message,
            usage: answer.get("usage").map(parse_usage).unwrap_or_default(),
        })
    }
}

/// The wire format of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    OpenAi,
    Anthropic,
}

/// Reads a streamed answer to its end (so the layer sees the last chunk).
async fn read<B>(
    response: http::Response<B>,
    wire: Wire,
    start: Instant,
) -> Result<Completion, LlmError>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    match response.status().as_u16() {
        200 => {}
        429 => return Err(LlmError::RateLimited),
        code => return Err(LlmError::Status(code)),
    }
    let mut events = SseReader::default();
    let mut text = String::new();
    let mut usage = None;
    let mut anthropic = UsageSoFar::default();
    let mut first_token = None;
    let mut body = response.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| LlmError::Transport(e.to_string()))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        for event in events.push(&chunk) {
            let done = if wire == Wire::OpenAi && event == "[DONE]" {
                true
            } else {
                let value: Value = serde_json::from_str(&event)
                    .map_err(|e| LlmError::Transport(format!("malformed event: {e}")))?;
                let (delta, done) = match wire {
                    Wire::OpenAi => {
                        if let Some(u) = value.get("usage") {
                            usage = Some(parse_usage(u));
                        }
                        let delta = value
                            .pointer("/choices/0/delta/content")
                            .and_then(Value::as_str);
                        (delta.map(str::to_owned), false)
                    }
                    Wire::Anthropic => {
                        let reading = anthropic.read(&value);
                        if let Some(kind) = reading.error {
                            return Err(LlmError::Transport(format!(
                                "provider error event: {kind}"
                            )));
                        }
                        usage = reading.usage.or(usage);
                        (reading.text, reading.done)
                    }
                };
                if let Some(delta) = delta {
                    first_token.get_or_insert_with(|| start.elapsed());
                    text.push_str(&delta);
                }
                done
            };
            if done {
                let usage = usage
                    .ok_or_else(|| LlmError::Transport("stream ended without usage".into()))?;
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
        }
    }
    Err(LlmError::Transport(
        "stream ended before its end event".into(),
    ))
}

fn parse_usage(u: &Value) -> TokenUsage {
    let field = |p: &str| u.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    TokenUsage::new(field("/prompt_tokens"), field("/completion_tokens"))
        .with_cached_input(field("/prompt_tokens_details/cached_tokens"))
        .with_reasoning(field("/completion_tokens_details/reasoning_tokens"))
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
