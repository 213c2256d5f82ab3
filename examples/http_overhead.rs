//! One axum server on loopback, on one worker thread, for `scripts/http-overhead`: the same
//! handler (two nested user spans and one event) served four ways.
//!
//! `cargo run --release --example http_overhead -- MODE PORT` with MODE one of
//! - `bare`: no subscriber, no layer;
//! - `registry`: a `tracing_subscriber` registry (what a service that uses `tracing` already
//!   runs), no layer;
//! - `layer`: this project's server layer (parent-based 10 %), a `tracing_subscriber`
//!   registry without the bridge;
//! - `bridge`: the same with the bridge, so sampled requests export their user spans;
//! - `otel`: tower-http's `TraceLayer` under `tracing-opentelemetry` at 10 % (parent-based),
//!   spans batched to an exporter that discards them.
//!
//! It serves until killed.

use std::future::ready;
use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter};
use orchestrator_telemetry::orchestrator_tower::{Sampler, TelemetryLayer, Tracer};
use orchestrator_telemetry::{Metrics, Registry};
use tracing_subscriber::layer::SubscriberExt as _;

async fn handler() -> &'static str {
    let plan = tracing::info_span!("plan", steps = 2);
    let _plan = plan.enter();
    let moderate = tracing::info_span!("moderate");
    let _moderate = moderate.enter();
    tracing::info!(tokens = 12, "planning the answer");
    "ok"
}

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        drop(batch);
        ready(Ok(()))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let port: u16 = args
        .next()
        .ok_or("usage: http_overhead MODE PORT")?
        .parse()?;
    let router = Router::new().route("/v1/chat", get(handler));
    let tracer = Tracer::builder(Metrics::new(&Registry::new()))
        .sampler(Sampler::parent_based_ratio(0.1)?)
        .build()?;
    let mut provider = None;
    let (router, dispatch) = match mode.as_str() {
        "bare" => (router, tracing::Dispatch::none()),
        "registry" => (
            router,
            tracing::Dispatch::new(tracing_subscriber::registry()),
        ),
        "layer" => (
            router.layer(TelemetryLayer::server(&tracer)),
            tracing::Dispatch::new(tracing_subscriber::registry()),
        ),
        "bridge" => (
            router.layer(TelemetryLayer::server(&tracer)),
            tracing::Dispatch::new(tracing_subscriber::registry().with(tracer.tracing_layer())),
        ),
        "otel" => {
            use opentelemetry_sdk::trace::Sampler as SdkSampler;
            let sdk = SdkTracerProvider::builder()
                .with_sampler(SdkSampler::ParentBased(Box::new(
                    SdkSampler::TraceIdRatioBased(0.1),
                )))
                .with_span_processor(BatchSpanProcessor::builder(Discard).build())
                .build();
            let layer = tracing_opentelemetry::layer().with_tracer(sdk.tracer("http_overhead"));
            provider = Some(sdk);
            (
                router.layer(tower_http::trace::TraceLayer::new_for_http()),
                tracing::Dispatch::new(tracing_subscriber::registry().with(layer)),
            )
        }
        other => {
            return Err(
                format!("unknown mode {other:?}: bare, registry, layer, bridge or otel").into(),
            );
        }
    };
    tracing::dispatcher::set_global_default(dispatch)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        axum::serve(listener, router).await
    })?;
    drop(provider);
    Ok(())
}
