//! The orchestrator's HTTP API.
//!
//! | route | what it does |
//! |---|---|
//! | `POST /v1/sessions` | opens a session for `{"user_id"}` |
//! | `POST /v1/sessions/{id}/messages` | answers `{"prompt", "model"}`: cache, moderation, LLM, database |
//! | `POST /v1/sessions/{id}/feedback` | records satisfaction, quality, conversion and purchase |
//! | `DELETE /v1/sessions/{id}` | ends the session |
//! | `GET /healthz` | liveness |

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, middleware};
use orchestrator_telemetry::Metrics;
use orchestrator_telemetry::orchestrator_kpi::BusinessRecorder;
use orchestrator_telemetry::orchestrator_tower::{TelemetryLayer, Tracer};
use serde::Deserialize;

use crate::cache::AnswerCache;
use crate::db::{Db, StoredMessage};
use crate::external::ExternalClient;
use crate::llm_client::{LlmClient, LlmError};
use crate::middleware::{RequestObserver, observe_requests};
use crate::provider::{MODELS, ModelProfile};

/// What the orchestrator charges its customers per message: the LLM cost times this.
pub const MARKUP: f64 = 3.0;

/// Shared state of the API.
#[derive(Clone)]
pub struct AppState {
    metrics: Metrics,
    tracer: Tracer,
    business: BusinessRecorder,
    db: Db,
    cache: AnswerCache,
    llm: LlmClient,
    external: ExternalClient,
    open: Arc<Mutex<HashMap<i64, Instant>>>,
}

impl AppState {
    /// The state over these components.
    pub fn new(
        tracer: Tracer,
        business: BusinessRecorder,
        db: Db,
        cache: AnswerCache,
        llm: LlmClient,
        external: ExternalClient,
    ) -> Self {
        AppState {
            metrics: tracer.metrics().clone(),
            tracer,
            business,
            db,
            cache,
            llm,
            external,
            open: Arc::default(),
        }
    }
}

/// The API router, wrapped by the telemetry layer (metrics for every request, a server span
/// for sampled ones) and, when given, the observer.
pub fn router(state: AppState, observer: Option<RequestObserver>) -> Router {
    let tracer = state.tracer.clone();
    let mut router = Router::new()
        .route("/v1/sessions", post(create_session))
        .route("/v1/sessions/{id}/messages", post(send_message))
        .route("/v1/sessions/{id}/feedback", post(feedback))
        .route("/v1/sessions/{id}", delete(end_session))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state);
    if let Some(observer) = observer {
        router = router.layer(middleware::from_fn_with_state(observer, observe_requests));
    }
    // Outermost, after routing: the route template is known, and the handler runs inside
    // the request's trace context, so client calls become its children.
    router.layer(TelemetryLayer::server(&tracer))
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({"error": message.into()}))).into_response()
}

#[derive(Deserialize)]
struct NewSession {
    user_id: String,
}

async fn create_session(State(state): State<AppState>, Json(body): Json<NewSession>) -> Response {
    match state.db.create_session(body.user_id.clone(), now()).await {
        Ok(id) => {
            state.business.session_started(&body.user_id);
            state
                .open
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id, Instant::now());
            (
                StatusCode::CREATED,
                Json(serde_json::json!({"session_id": id})),
            )
                .into_response()
        }
        Err(e) => {
            state.metrics.errors().record("database", "query_failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
    }
}

#[derive(Deserialize)]
struct NewMessage {
    prompt: String,
    #[serde(default)]
    model: Option<String>,
}

fn model(name: Option<&str>) -> Option<&'static ModelProfile> {
    match name {
        None => MODELS.first(),
        Some(name) => MODELS.iter().find(|m| m.model == name),
    }
}

async fn send_message(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(body): Json<NewMessage>,
) -> Response {
    let Some(profile) = model(body.model.as_deref()) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "unknown model");
    };
    match state.db.open_session_user(id).await {
        Ok(Some(_user)) => {}
        Ok(None) => return error(StatusCode::NOT_FOUND, "no open session with this id"),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
    if state.external.moderate(&body.prompt).await == Some(true) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "prompt flagged by moderation",
        );
    }
    let key = format!("{}\u{0}{}", profile.model, body.prompt);
    if let Some(reply) = state.cache.get(&key).await {
        return Json(serde_json::json!({"reply": reply, "model": profile.model, "cached": true}))
            .into_response();
    }
    let simulate = headers.get("x-simulate").and_then(|v| v.to_str().ok());
    let completion = match state.llm.complete(profile, &body.prompt, simulate).await {
        Ok(c) => c,
        Err(e) => {
            let status = match e {
                LlmError::RateLimited => StatusCode::SERVICE_UNAVAILABLE,
                LlmError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
                LlmError::Status(_) | LlmError::Transport(_) => StatusCode::BAD_GATEWAY,
            };
            return error(status, e.to_string());
        }
    };
    let cost = completion.cost.unwrap_or(0.0);
    if cost > 0.0 {
        let _ = state.business.revenue(cost * MARKUP);
    }
    state.cache.set(key, completion.text.clone()).await;
    let stored = StoredMessage {
        session_id: id,
        prompt: body.prompt,
        reply: completion.text.clone(),
        model: profile.model.to_owned(),
        input_tokens: completion.usage.input,
        output_tokens: completion.usage.output,
        cost_usd: cost,
    };
    if let Err(e) = state.db.insert_message(stored).await {
        return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    Json(serde_json::json!({
        "reply": completion.text,
        "model": profile.model,
        "cached": false,
        "input_tokens": completion.usage.input,
        "output_tokens": completion.usage.output,
        "cost_usd": cost,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct Feedback {
    satisfaction: Option<f64>,
    quality: Option<f64>,
    #[serde(default)]
    converted: bool,
    purchase_usd: Option<f64>,
}

async fn feedback(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<Feedback>,
) -> Response {
    if !state
        .open
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .contains_key(&id)
    {
        return error(StatusCode::NOT_FOUND, "no open session with this id");
    }
    // Validate the whole body before recording any of it.
    let within =
        |v: Option<f64>, max: f64| v.is_none_or(|v| v.is_finite() && (0.0..=max).contains(&v));
    if !within(body.satisfaction, 10.0)
        || !within(body.quality, 100.0)
        || !within(body.purchase_usd, 1e9)
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "satisfaction must be 0-10, quality 0-100, purchase_usd a non-negative amount",
        );
    }
    let business = &state.business;
    // Values are in range, so the recorders accept them.
    if let Some(s) = body.satisfaction {
        let _ = business.satisfaction(s);
    }
    if let Some(q) = body.quality {
        let _ = business.quality(q);
    }
    if let Some(usd) = body.purchase_usd {
        let _ = business.revenue(usd);
    }
    if body.converted {
        business.conversion();
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn end_session(State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    match state.db.end_session(id, now()).await {
        Ok(Some(_)) => {
            let started = state
                .open
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id);
            if let Some(started) = started {
                state.business.session_ended(started.elapsed());
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, "no open session with this id"),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
