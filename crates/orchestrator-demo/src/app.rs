//! The orchestrator's HTTP API.
//!
//! | route | what it does |
//! |---|---|
//! | `POST /v1/sessions` | opens a session for `{"user_id"}` |
//! | `POST /v1/sessions/{id}/messages` | answers `{"prompt", "model"}`: cache, moderation, LLM, database |
//! | `POST /v1/sessions/{id}/research` | answers `{"question"}` with the research agent (see [`agent`](crate::agent)) |
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
use orchestrator_telemetry::orchestrator_kpi::BusinessRecorder;
use orchestrator_telemetry::orchestrator_tower::{
    Feedback, TelemetryLayer, TraceContext, Tracer, current,
};
use orchestrator_telemetry::{Metrics, TraceFutureExt as _};
use serde::Deserialize;
use tracing::instrument;

use crate::cache::AnswerCache;
use crate::db::{Db, StoredMessage};
use crate::external::ExternalClient;
use crate::llm_client::{Completion, LlmClient, LlmError};
use crate::middleware::{RequestObserver, observe_requests};
use crate::provider::{MODELS, ModelProfile};

/// What the orchestrator charges its customers per message: the LLM cost times this.
pub const MARKUP: f64 = 3.0;

/// Shared state of the API.
#[derive(Clone)]
pub struct AppState {
    metrics: Metrics,
    pub(crate) tracer: Tracer,
    business: BusinessRecorder,
    db: Db,
    cache: AnswerCache,
    pub(crate) llm: LlmClient,
    external: ExternalClient,
    open: Arc<Mutex<HashMap<i64, OpenSession>>>,
}

/// A session between its creation and its end.
#[derive(Debug, Clone)]
struct OpenSession {
    started: Instant,
    /// The trace of the session's last answer: the feedback judges it.
    judged: Option<TraceContext>,
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
        .route("/v1/sessions/{id}/research", post(crate::agent::research))
        .route("/v1/sessions/{id}/feedback", post(feedback))
        .route("/v1/sessions/{id}", delete(end_session))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state);
    if let Some(observer) = observer {
        router = router.layer(middleware::from_fn_with_state(observer, observe_requests));
    }
    router = router.layer(middleware::from_fn(warn_on_failure));
    // Outermost, after routing: the route template is known, and the handler runs inside
    // the request's trace context, so client calls become its children.
    // Requests (and their LLM calls) are billed to the tenant in `x-tenant-id`.
    router.layer(
        TelemetryLayer::server(&tracer).tenant_header(http::HeaderName::from_static("x-tenant-id")),
    )
}

/// One `WARN` line per failed (5xx) request. It runs inside the telemetry layer, so the
/// line carries the request's `trace_id` and `span_id`.
async fn warn_on_failure(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let response = next.run(request).await;
    if response.status().is_server_error() {
        tracing::warn!(
            status = response.status().as_u16(),
            %method,
            route = route.as_deref().unwrap_or("unmatched"),
            "request failed"
        );
    }
    response
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
                .insert(
                    id,
                    OpenSession {
                        started: Instant::now(),
                        judged: None,
                    },
                );
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

/// Keeps the current request's trace as the one the session's feedback judges.
fn remember_answer(state: &AppState, id: i64) {
    if let Some(session) = state
        .open
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_mut(&id)
    {
        session.judged = current();
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
    if let Err(response) = plan(&state, id).await {
        return response;
    }
    if moderate(&state, &body.prompt).await {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "prompt flagged by moderation",
        );
    }
    let simulate = headers.get("x-simulate").and_then(|v| v.to_str().ok());
    let completion = match answer(&state, profile, &body.prompt, simulate).await {
        Ok(Answer::Cached(reply)) => {
            remember_answer(&state, id);
            return Json(
                serde_json::json!({"reply": reply, "model": profile.model, "cached": true}),
            )
            .into_response();
        }
        Ok(Answer::Fresh(c)) => c,
        Err(e) => {
            let (status, retry_after) = e.status();
            let mut response = error(status, e.to_string());
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(http::header::RETRY_AFTER, seconds.into());
            }
            return response;
        }
    };
    let cost = completion.cost.unwrap_or(0.0);
    if cost > 0.0 {
        let _ = state.business.revenue(cost * MARKUP);
    }
    let stored = StoredMessage {
        session_id: id,
        prompt: body.prompt,
        reply: completion.text.clone(),
        model: profile.model.to_owned(),
        input_tokens: completion.usage.input,
        output_tokens: completion.usage.output,
        cost_usd: cost,
    };
    // Persisted on a task of its own, which joins the request's trace through
    // `in_current_trace` (its log lines carry the request's ids, sampled or not).
    let persisted = tokio::spawn(persist(state.clone(), stored).in_current_trace()).await;
    if let Err(e) = persisted.map_err(|e| e.to_string()).and_then(|r| r) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, e);
    }
    remember_answer(&state, id);
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

/// The session the message belongs to must be open.
#[instrument(name = "plan", skip_all, fields(session.id = id))]
async fn plan(state: &AppState, id: i64) -> Result<(), Response> {
    match state.db.open_session_user(id).await {
        Ok(Some(_user)) => Ok(()),
        Ok(None) => Err(error(StatusCode::NOT_FOUND, "no open session with this id")),
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

/// Asks the moderation API; `true` when the prompt is flagged.
#[instrument(name = "moderate", skip_all, fields(prompt.chars = prompt.chars().count()))]
async fn moderate(state: &AppState, prompt: &str) -> bool {
    let flagged = state.external.moderate(prompt).await == Some(true);
    if flagged {
        tracing::info!("prompt flagged");
    }
    flagged
}

enum Answer {
    Cached(String),
    Fresh(Completion),
}

/// The answer: from the cache when this prompt was answered before, else from the LLM.
#[instrument(name = "answer", skip_all, fields(gen_ai.request.model = profile.model, cached))]
async fn answer(
    state: &AppState,
    profile: &ModelProfile,
    prompt: &str,
    simulate: Option<&str>,
) -> Result<Answer, LlmError> {
    let key = format!("{}\u{0}{}", profile.model, prompt);
    let cached = state.cache.get(&key).await;
    tracing::Span::current().record("cached", cached.is_some());
    if let Some(reply) = cached {
        return Ok(Answer::Cached(reply));
    }
    let completion = state.llm.complete(profile, prompt, simulate).await?;
    state.cache.set(key, completion.text.clone()).await;
    Ok(Answer::Fresh(completion))
}

/// Stores the exchange.
#[instrument(name = "persist", skip_all, err)]
async fn persist(state: AppState, stored: StoredMessage) -> Result<(), String> {
    state
        .db
        .insert_message(stored)
        .await
        .map_err(|e| e.to_string())
}

#[derive(Deserialize)]
struct FeedbackBody {
    satisfaction: Option<f64>,
    quality: Option<f64>,
    #[serde(default)]
    converted: bool,
    purchase_usd: Option<f64>,
}

async fn feedback(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<FeedbackBody>,
) -> Response {
    let Some(session) = state
        .open
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&id)
        .cloned()
    else {
        return error(StatusCode::NOT_FOUND, "no open session with this id");
    };
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
    // Scores on the trace of the answer they judge (a feedback span and an exemplar when
    // that trace was sampled), or plain scores when the session has no answer yet.
    let score = |kind: Feedback, value: f64| match &session.judged {
        Some(judged) => state.tracer.record_feedback(judged, kind, value),
        None => match kind {
            Feedback::Satisfaction => business.satisfaction(value),
            Feedback::Quality => business.quality(value),
        },
    };
    if let Some(s) = body.satisfaction {
        let _ = score(Feedback::Satisfaction, s);
    }
    if let Some(q) = body.quality {
        let _ = score(Feedback::Quality, q);
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
            if let Some(session) = started {
                state.business.session_ended(session.started.elapsed());
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, "no open session with this id"),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
