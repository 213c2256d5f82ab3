//! Anthropic's Messages wire format, both sides: the simulated provider's answers (events
//! `message_start`, `content_block_*`, `message_delta`, `message_stop`; JSON; error bodies)
//! and the orchestrator's reading of them. The telemetry layer reads the same bytes with
//! `AnthropicMessages`.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use orchestrator_telemetry::TokenUsage;
use serde_json::{Value, json};

use crate::provider::{Failure, Plan, reply_text};

fn usage(plan: &Plan) -> Value {
    // Anthropic counts `input_tokens` apart from the cache.
    json!({
        "input_tokens": plan.input - plan.cached - plan.cache_write,
        "cache_creation_input_tokens": plan.cache_write,
        "cache_read_input_tokens": plan.cached,
        "output_tokens": plan.output,
    })
}

/// An error body, with Anthropic's error types.
pub(crate) fn error(failure: &Failure) -> Response {
    let (status, kind, message) = match failure {
        Failure::Error => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "simulated provider failure",
        ),
        Failure::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "simulated rate limit",
        ),
    };
    let body = json!({"type": "error", "error": {"type": kind, "message": message}});
    (status, axum::Json(body)).into_response()
}

/// The non-streamed answer, after the whole generation time.
pub(crate) async fn message(plan: Plan) -> Response {
    let wait = plan.first_token + plan.per_token * plan.output as f64;
    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    axum::Json(json!({
        "id": "msg_demo",
        "type": "message",
        "role": "assistant",
        "model": plan.profile.model,
        "content": [{"type": "text", "text": reply_text(plan.output)}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": usage(&plan),
    }))
    .into_response()
}

fn event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// The streamed answer: `message_start` (input usage), text deltas of eight tokens,
/// `message_delta` (output usage), `message_stop`.
pub(crate) fn stream(plan: Plan) -> Response {
    const CHUNK: u64 = 8;
    let chunks = plan.output.div_ceil(CHUNK);
    let events = stream::unfold(0u64, move |i| {
        let plan_usage = usage(&plan);
        let (model, first, per, output) = (
            plan.profile.model,
            plan.first_token,
            plan.per_token,
            plan.output,
        );
        async move {
            let text = match i {
                0 => {
                    tokio::time::sleep(Duration::from_secs_f64(first)).await;
                    let mut start = plan_usage;
                    start["output_tokens"] = json!(1);
                    let message = json!({"type": "message_start", "message": {
                        "id": "msg_demo", "type": "message", "role": "assistant", "content": [],
                        "model": model, "stop_reason": null, "stop_sequence": null, "usage": start,
                    }});
                    let block = json!({"type": "content_block_start", "index": 0,
                        "content_block": {"type": "text", "text": ""}});
                    event("message_start", &message) + &event("content_block_start", &block)
                }
                i if i <= chunks => {
                    if i > 1 {
                        tokio::time::sleep(Duration::from_secs_f64(per * CHUNK as f64)).await;
                    }
                    let tokens = CHUNK.min(output - (i - 1) * CHUNK);
                    let delta = json!({"type": "content_block_delta", "index": 0,
                        "delta": {"type": "text_delta", "text": reply_text(tokens)}});
                    event("content_block_delta", &delta)
                }
                i if i == chunks + 1 => {
                    let stop = json!({"type": "content_block_stop", "index": 0});
                    let delta = json!({"type": "message_delta",
                        "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                        "usage": {"output_tokens": output}});
                    event("content_block_stop", &stop)
                        + &event("message_delta", &delta)
                        + &event("message_stop", &json!({"type": "message_stop"}))
                }
                _ => return None,
            };
            Some((Ok::<_, Infallible>(text), i + 1))
        }
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(events))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// What one Anthropic event tells the orchestrator's client.
#[derive(Debug, Default)]
pub(crate) struct Reading {
    /// Text deltas.
    pub(crate) text: Option<String>,
    /// The usage so far, when the event carries it.
    pub(crate) usage: Option<TokenUsage>,
    /// `message_stop`: the answer is complete.
    pub(crate) done: bool,
    /// An `error` event's type.
    pub(crate) error: Option<String>,
}

/// The client's running usage: `message_start` gives the input, `message_delta` the output.
#[derive(Debug, Default)]
pub(crate) struct UsageSoFar {
    input: u64,
    cache_read: u64,
    cache_write: u64,
    output: u64,
}

impl UsageSoFar {
    /// Reads one event's data.
    pub(crate) fn read(&mut self, value: &Value) -> Reading {
        let mut reading = Reading::default();
        let u = match value["type"].as_str() {
            Some("message_start") => value.pointer("/message/usage"),
            Some("message_delta") => value.get("usage"),
            Some("content_block_delta") => {
                reading.text = value
                    .pointer("/delta/text")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                None
            }
            Some("message_stop") => {
                reading.done = true;
                None
            }
            Some("error") => {
                reading.error = Some(
                    value
                        .pointer("/error/type")
                        .and_then(Value::as_str)
                        .unwrap_or("error")
                        .to_owned(),
                );
                None
            }
            _ => None,
        };
        if let Some(u) = u {
            let field = |name: &str| u.get(name).and_then(Value::as_u64);
            self.input = field("input_tokens").unwrap_or(self.input);
            self.cache_read = field("cache_read_input_tokens").unwrap_or(self.cache_read);
            self.cache_write = field("cache_creation_input_tokens").unwrap_or(self.cache_write);
            self.output = field("output_tokens").unwrap_or(self.output);
            reading.usage = Some(self.usage());
        }
        reading
    }

    /// The usage as the telemetry counts it: `input` includes the cache's tokens.
    pub(crate) fn usage(&self) -> TokenUsage {
        TokenUsage::new(self.input + self.cache_read + self.cache_write, self.output)
            .with_cached_input(self.cache_read)
            .with_cache_write_input(self.cache_write)
    }
}
