//! A simulated LLM provider, served over real HTTP on loopback.
//!
//! `POST /{provider}/v1/chat/completions` with `"stream": true` answers with server-sent
//! events in the OpenAI format: content chunks after a first-token delay, then a final chunk
//! with the token usage, then `data: [DONE]`. `POST /{provider}/v1/messages` answers in
//! Anthropic's Messages format (see the `anthropic_wire` module); the demo's Anthropic model
//! is called that way, so both GenAI adapters run in every demo run. Latency is log-normal
//! per model; a share of calls fail with 500 or 429. The header
//! `x-simulate: error|rate_limit|slow` forces a behaviour, for tests.
//!
//! Timings are about ten times shorter than a real provider's so that a 30-second run
//! produces thousands of requests.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::stream;
use serde::Deserialize;
use tokio::net::TcpListener;

use crate::incident::{Incident, IncidentSwitch, SLOW_FACTOR};
use crate::rng::SharedRng;

/// How the simulated provider behaves.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Share of calls answered with HTTP 500.
    pub error_rate: f64,
    /// Share of calls answered with HTTP 429.
    pub rate_limit_rate: f64,
    /// Multiplies every delay (1.0 = the default timings).
    pub latency_scale: f64,
    /// Seed of the random source.
    pub seed: u64,
    /// The incident in progress: during `errors`, `incident_error_rate` of calls fail with
    /// HTTP 500; during `slow`, every delay is [`SLOW_FACTOR`] times longer.
    pub incident: IncidentSwitch,
    /// Share of calls that fail during an `errors` incident.
    pub incident_error_rate: f64,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig {
            error_rate: 0.01,
            rate_limit_rate: 0.005,
            latency_scale: 1.0,
            seed: 7,
            incident: IncidentSwitch::default(),
            incident_error_rate: 0.3,
        }
    }
}

impl ProviderConfig {
    /// No background failures: only an incident or a forced `x-simulate` fails a call, so
    /// a test knows the cause of every error it counts.
    pub fn without_failures() -> Self {
        ProviderConfig {
            error_rate: 0.0,
            rate_limit_rate: 0.0,
            ..ProviderConfig::default()
        }
    }
}

/// A model the simulated provider serves, with its timing profile.
#[derive(Debug, Clone, Copy)]
pub struct ModelProfile {
    /// Provider name (`gen_ai.provider.name`).
    pub provider: &'static str,
    /// Model name.
    pub model: &'static str,
    /// Median delay to the first token, in seconds.
    pub first_token_median: f64,
    /// Delay per output token after the first, in seconds.
    pub per_token: f64,
    /// The share of the output tokens spent reasoning (reported as OpenAI's
    /// `completion_tokens_details.reasoning_tokens`), so a demo run uses every token type.
    pub reasoning_share: f64,
}

impl ModelProfile {
    /// The reasoning part of `output` tokens.
    pub(crate) fn reasoning(&self, output: u64) -> u64 {
        (output as f64 * self.reasoning_share) as u64
    }
}

/// The models of the demo.
pub const MODELS: &[ModelProfile] = &[
    ModelProfile {
        provider: "openai",
        model: "gpt-4o-mini",
        first_token_median: 0.035,
        per_token: 0.0004,
        reasoning_share: 0.0,
    },
    ModelProfile {
        provider: "anthropic",
        model: "claude-3-5-haiku",
        first_token_median: 0.045,
        per_token: 0.0005,
        reasoning_share: 0.0,
    },
    ModelProfile {
        provider: "openai",
        model: "gpt-4o",
        first_token_median: 0.080,
        per_token: 0.0009,
        reasoning_share: 0.25,
    },
];

fn profile(provider: &str, model: &str) -> Option<&'static ModelProfile> {
    MODELS
        .iter()
        .find(|m| m.provider == provider && m.model == model)
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChatRequest {
    model: String,
    pub(crate) messages: Vec<Message>,
    #[serde(default)]
    stream: bool,
    /// The tools the model may call (an agent's step): answered by `agent_wire`.
    #[serde(default)]
    pub(crate) tools: Option<Vec<serde_json::Value>>,
}

impl ChatRequest {
    /// The prompt's length in words, which the simulated input token count follows.
    fn words(&self) -> usize {
        self.messages
            .iter()
            .filter_map(|m| m.content.as_deref())
            .map(|c| c.split_whitespace().count())
            .sum()
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Message {
    #[serde(default)]
    pub(crate) role: String,
    /// Absent (`null`) on an assistant message that only called tools.
    #[serde(default)]
    content: Option<String>,
}

#[derive(Clone)]
pub(crate) struct ProviderState {
    pub(crate) config: ProviderConfig,
    pub(crate) rng: SharedRng,
}

/// The running provider.
#[derive(Debug)]
pub struct Provider {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Provider {
    /// Starts the provider on a free loopback port.
    pub async fn start(config: ProviderConfig) -> std::io::Result<Self> {
        let state = ProviderState {
            rng: SharedRng::new(config.seed),
            config,
        };
        let app = Router::new()
            .route("/{provider}/v1/chat/completions", post(chat))
            .route("/{provider}/v1/messages", post(messages))
            .route("/external/moderation", get(moderation))
            .with_state(state);
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Provider { addr, task })
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn forced(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-simulate").and_then(|v| v.to_str().ok())
}

/// What the simulated provider does with one call.
pub(crate) struct Plan {
    pub(crate) profile: &'static ModelProfile,
    /// Seconds to the first token.
    pub(crate) first_token: f64,
    /// Seconds per output token after the first.
    pub(crate) per_token: f64,
    /// Input tokens, cached and cache-written ones included.
    pub(crate) input: u64,
    pub(crate) output: u64,
    /// Input tokens read from the prompt cache.
    pub(crate) cached: u64,
    /// Input tokens written to the prompt cache (reported by the Anthropic format only).
    pub(crate) cache_write: u64,
}

/// How a call fails, before any token.
pub(crate) enum Failure {
    /// HTTP 500.
    Error,
    /// HTTP 429.
    RateLimited,
}

/// Draws the call's fate: a failure (after its delay), or a plan.
async fn plan(
    state: &ProviderState,
    profile: &'static ModelProfile,
    headers: &HeaderMap,
    prompt_words: usize,
) -> Result<Plan, Failure> {
    let rng = &state.rng;
    let scale = state.config.latency_scale
        * if state.config.incident.is(Incident::Slow) {
            SLOW_FACTOR
        } else {
            1.0
        };
    let force = forced(headers);
    let roll = rng.unit();
    let error_rate = if state.config.incident.is(Incident::Errors) {
        state.config.incident_error_rate
    } else {
        state.config.error_rate
    };
    if force == Some("error") || (force.is_none() && roll < error_rate) {
        tokio::time::sleep(Duration::from_secs_f64(rng.log_normal(0.02, 0.5) * scale)).await;
        return Err(Failure::Error);
    }
    if force == Some("rate_limit")
        || (force.is_none() && roll < error_rate + state.config.rate_limit_rate)
    {
        return Err(Failure::RateLimited);
    }
    let slow = if force == Some("slow") { 20.0 } else { 1.0 };
    let first_token = rng.log_normal(profile.first_token_median, 0.6) * scale * slow;
    let input = 40 + (prompt_words as u64 * 4) / 3;
    let output = rng.range(12, 160);
    let (cached, cache_write) = if rng.chance(0.4) {
        (input.min(32), 0)
    } else if rng.chance(0.2) {
        (0, input.min(32))
    } else {
        (0, 0)
    };
    Ok(Plan {
        profile,
        first_token,
        per_token: profile.per_token * scale * slow,
        input,
        output,
        cached,
        cache_write,
    })
}

fn unknown(provider: &str, model: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!("unknown model {provider}/{model}"),
    )
        .into_response()
}

async fn chat(
    State(state): State<ProviderState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    axum::Json(request): axum::Json<ChatRequest>,
) -> Response {
    let Some(profile) = profile(&provider, &request.model) else {
        return unknown(&provider, &request.model);
    };
    let words = request.words();
    let plan = match plan(&state, profile, &headers, words).await {
        Ok(plan) => plan,
        Err(Failure::Error) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "simulated provider failure",
            )
                .into_response();
        }
        Err(Failure::RateLimited) => {
            return (StatusCode::TOO_MANY_REQUESTS, "simulated rate limit").into_response();
        }
    };
    if request.tools.is_some() && !request.stream {
        return crate::agent_wire::step(&state, profile, &request, &plan).await;
    }
    if !request.stream {
        let wait = plan.first_token + plan.per_token * plan.output as f64;
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        let message = serde_json::json!({"role": "assistant", "content": reply_text(plan.output)});
        return chat_completion(profile, message, "stop", &plan, plan.output);
    }
    sse_response(
        profile,
        plan.first_token,
        plan.per_token,
        plan.input,
        plan.output,
        plan.cached,
    )
}

/// Anthropic's Messages API: the same simulation, in its wire format.
async fn messages(
    State(state): State<ProviderState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    axum::Json(request): axum::Json<ChatRequest>,
) -> Response {
    let Some(profile) = profile(&provider, &request.model) else {
        return unknown(&provider, &request.model);
    };
    let words = request.words();
    match plan(&state, profile, &headers, words).await {
        Ok(plan) if request.stream => crate::anthropic_wire::stream(plan),
        Ok(plan) => crate::anthropic_wire::message(plan).await,
        Err(failure) => crate::anthropic_wire::error(&failure),
    }
}

/// The `created` timestamp of every answer (a fixed date: the demo's answers are synthetic).
const CREATED: u64 = 1_764_460_800;

/// A whole (not streamed) chat completion of `output` tokens: the full shape of OpenAI's
/// answer, so that strict SDK types (async-openai) read it.
pub(crate) fn chat_completion(
    profile: &ModelProfile,
    message: serde_json::Value,
    finish_reason: &str,
    plan: &Plan,
    output: u64,
) -> Response {
    axum::Json(serde_json::json!({
        "id": "chatcmpl-demo",
        "object": "chat.completion",
        "created": CREATED,
        "model": profile.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": usage_json(plan.input, output, plan.cached, profile.reasoning(output)),
    }))
    .into_response()
}

fn usage_json(input: u64, output: u64, cached: u64, reasoning: u64) -> serde_json::Value {
    serde_json::json!({
        "prompt_tokens": input,
        "completion_tokens": output,
        "total_tokens": input + output,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    })
}

pub(crate) fn reply_text(tokens: u64) -> String {
    const WORDS: &[&str] = &[
        "the",
        "orchestrator",
        "answers",
        "with",
        "care",
        "and",
        "speed",
        "today",
    ];
    (0..tokens)
        .map(|i| WORDS[i as usize % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// Streams `output_tokens` in chunks of eight tokens, the first after `first_token`
/// seconds, then the usage chunk and `[DONE]`.
fn sse_response(
    profile: &'static ModelProfile,
    first_token: f64,
    per_token: f64,
    input: u64,
    output: u64,
    cached: u64,
) -> Response {
    const CHUNK: u64 = 8;
    let chunks = output.div_ceil(CHUNK);
    let events = stream::unfold(0u64, move |i| async move {
        let event = if i < chunks {
            let delay = if i == 0 {
                first_token
            } else {
                per_token * CHUNK as f64
            };
            tokio::time::sleep(Duration::from_secs_f64(delay)).await;
            let tokens = CHUNK.min(output - i * CHUNK);
            let chunk = serde_json::json!({
                "id": "chatcmpl-demo",
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": profile.model,
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": reply_text(tokens)}, "finish_reason": null}],
            });
            format!("data: {chunk}\n\n")
        } else if i == chunks {
            let last = serde_json::json!({
                "id": "chatcmpl-demo",
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": profile.model,
                "choices": [],
                "usage": usage_json(input, output, cached, profile.reasoning(output)),
            });
            format!("data: {last}\n\n")
        } else if i == chunks + 1 {
            "data: [DONE]\n\n".to_owned()
        } else {
            return None;
        };
        Some((Ok::<_, Infallible>(event), i + 1))
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(events))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn moderation(State(state): State<ProviderState>, headers: HeaderMap) -> Response {
    let rng = &state.rng;
    let delay = rng.log_normal(0.006, 0.5) * state.config.latency_scale;
    tokio::time::sleep(Duration::from_secs_f64(delay)).await;
    if forced(&headers) == Some("error") || rng.chance(state.config.error_rate) {
        return (StatusCode::SERVICE_UNAVAILABLE, "simulated outage").into_response();
    }
    axum::Json(serde_json::json!({"flagged": false})).into_response()
}
