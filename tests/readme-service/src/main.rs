//! A whole service: an axum API whose handler calls an OpenAI-compatible LLM through
//! reqwest, JSON logs filtered by RUST_LOG, and the telemetry's metrics and traces.

use orchestrator_telemetry::axum::{self, Router, extract::State, http::StatusCode, routing::post};
use orchestrator_telemetry::reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use orchestrator_telemetry::tracing::{self, Instrument as _};
use orchestrator_telemetry::tracing_subscriber::{self, EnvFilter, fmt, prelude::*};
use orchestrator_telemetry::{OpenAiCompatible, Telemetry, TelemetryLayer, TelemetryMiddleware};
use orchestrator_telemetry::{TraceIds, reqwest};

#[derive(Clone)]
struct Llm {
    client: ClientWithMiddleware,
    base_url: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    // /metrics and the live page; traces in-process, or over OTLP with the OTEL_* variables.
    let telemetry = Telemetry::builder()
        .listen(var("METRICS_ADDR", "127.0.0.1:9464"))
        .install()?;
    // JSON logs with trace ids, filtered by RUST_LOG on their own layer: a filter on the
    // whole registry would hide your spans from the traces too.
    tracing_subscriber::registry()
        .with(telemetry.tracing_layer())
        .with(
            fmt::layer()
                .json()
                .event_format(TraceIds::json())
                .with_filter(EnvFilter::from_default_env()),
        )
        .init();
    let llm = Llm {
        client: ClientBuilder::new(reqwest::Client::new())
            .with(TelemetryMiddleware::llm(
                telemetry.tracer(),
                "openai",
                OpenAiCompatible,
            ))
            .build(),
        base_url: var("OPENAI_BASE_URL", "https://api.openai.com/v1"),
    };
    let app = Router::new()
        .route("/v1/answer", post(answer))
        .with_state(llm)
        .layer(TelemetryLayer::server(telemetry.tracer()));
    let listener = tokio::net::TcpListener::bind(var("API_ADDR", "127.0.0.1:8080")).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    telemetry.shutdown(); // exports what is queued
    Ok(())
}

/// One LLM call, inside an `answer` span: the call's span is its child, and it is the
/// request's. (`#[tracing::instrument]` does the same; it needs `tracing = "0.1"` in your
/// own dependencies, since the macro names the crate `::tracing`.)
async fn answer(State(llm): State<Llm>) -> Result<String, StatusCode> {
    ask(&llm).instrument(tracing::info_span!("answer")).await
}

async fn ask(llm: &Llm) -> Result<String, StatusCode> {
    let response = llm
        .client
        .post(format!("{}/chat/completions", llm.base_url))
        .bearer_auth(std::env::var("OPENAI_API_KEY").unwrap_or_default())
        .header("content-type", "application/json")
        .body(r#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hello"}]}"#)
        .send()
        .await
        .and_then(|r| r.error_for_status().map_err(Into::into))
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    let events = response.text().await.map_err(|_| StatusCode::BAD_GATEWAY)?;
    tracing::info!(bytes = events.len(), "the LLM answered");
    Ok(format!("{} bytes of events\n", events.len()))
}
