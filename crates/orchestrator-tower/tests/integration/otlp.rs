//! OTLP on the wire: spans exported by the layer, received by real OTLP receivers built from
//! the official `opentelemetry-proto` definitions, over gRPC and HTTP/protobuf; faults of
//! the collector; graceful shutdown.

use crate::support;

use std::borrow::Cow;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use futures_util::stream;
use http::{Request, Response};
use http_body_util::BodyExt as _;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use orchestrator_tower::{
    BatchConfig, DbOperation, GenAiRequest, OpenAiCompatible, OtlpConfig, Protocol, Sampler,
    TelemetryLayer, Tracer,
};
use support::{answer, metrics, request, sum};
use tower::{Layer, Service, ServiceExt, service_fn};

/// A streamed OpenAI-style answer, chunk by chunk; `x-simulate: rate_limit` answers 429.
async fn provider(req: Request<Body>) -> Result<Response<Body>, Infallible> {
    if req
        .headers()
        .get("x-simulate")
        .is_some_and(|v| v == "rate_limit")
    {
        return answer(429).await;
    }
    let events = [
        "data: {\"model\":\"gpt-test-2026\",\"choices\":[{\"delta\":{\"content\":\"Bon\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"jour\"}}]}\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":7}}\n\n",
        "data: [DONE]\n\n",
    ];
    let chunks = stream::unfold(0usize, move |i| async move {
        if i == events.len() {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        Some((
            Ok::<_, Infallible>(Bytes::from_static(events[i].as_bytes())),
            i + 1,
        ))
    });
    Ok(Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(chunks))
        .unwrap())
}

#[derive(Clone, Copy)]
struct Insert;

impl DbOperation for Insert {
    fn operation(&self) -> &'static str {
        "INSERT"
    }
}

fn app(
    tracer: &Tracer,
) -> impl Service<Request<Body>, Response = Response<Body>, Error = Infallible, Future = impl Send> + Clone
{
    let llm = TelemetryLayer::llm(tracer, OpenAiCompatible).layer(service_fn(provider));
    let db = TelemetryLayer::database(tracer, "sqlite")
        .layer(service_fn(|_: Insert| async { Ok::<_, Infallible>(()) }));
    let handler = service_fn(move |req: Request<Body>| {
        let (llm, db) = (llm.clone(), db.clone());
        async move {
            let mut call = Request::post("http://provider/v1/chat/completions");
            if let Some(v) = req.headers().get("x-simulate") {
                call = call.header("x-simulate", v);
            }
            let mut call = call.body(Body::empty()).unwrap();
            call.extensions_mut().insert(GenAiRequest {
                operation: "chat",
                provider: Cow::Borrowed("openai"),
                model: Cow::Borrowed("gpt-test"),
                prompt: Some("a secret prompt".into()),
            });
            let response = llm.oneshot(call).await?;
            let status = response.status().as_u16();
            let _ = response.into_body().collect().await;
            if status != 200 {
                return answer(502).await;
            }
            db.oneshot(Insert).await?;
            answer(200).await
        }
    });
    TelemetryLayer::server(tracer).layer(handler)
}

fn fast_batches() -> BatchConfig {
    BatchConfig {
        max_queue_size: 2048,
        scheduled_delay: Duration::from_millis(50),
        max_export_batch_size: 64,
        export_timeout: Duration::from_secs(5),
    }
}

fn tracer(
    addr: SocketAddr,
    protocol: Protocol,
    batch: BatchConfig,
) -> (orchestrator_metrics::Registry, Tracer) {
    let (registry, metrics) = metrics();
    let mut otlp = OtlpConfig::new(format!("http://{addr}"), protocol);
    otlp.batch = batch;
    otlp.timeout = Some(Duration::from_millis(500));
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_on())
        .service_name("otlp-test")
        .instance_id("replica-7")
        .otlp(otlp)
        .build()
        .unwrap();
    (registry, tracer)
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn string(span: &Span, key: &str) -> Option<String> {
    match attr(span, key) {
        Some(Value::StringValue(s)) => Some(s.clone()),
        _ => None,
    }
}

fn int(span: &Span, key: &str) -> Option<i64> {
    match attr(span, key) {
        Some(Value::IntValue(i)) => Some(*i),
        _ => None,
    }
}

async fn spans_arrive_intact(protocol: Protocol) {
    let (addr, received) = match protocol {
        Protocol::Grpc => support::grpc_receiver().await,
        Protocol::HttpProtobuf => support::http_receiver().await,
    };
    let (registry, tracer) = tracer(addr, protocol, fast_batches());
    let service = app(&tracer);
    for _ in 0..5 {
        let response = service.clone().oneshot(request(None)).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let mut limited = request(None);
    limited
        .headers_mut()
        .insert("x-simulate", "rate_limit".parse().unwrap());
    assert_eq!(
        service.clone().oneshot(limited).await.unwrap().status(),
        502
    );

    let spans = received.wait_for(17, Duration::from_secs(10)).await;
    assert_eq!(spans.len(), 17, "5 × (server, llm, db) + (server, llm)");
    assert!(
        received
            .service_names
            .lock()
            .unwrap()
            .iter()
            .all(|n| n.contains("otlp-test"))
    );
    // Issue 17: which replica exported them, as OpenTelemetry's `service.instance.id`.
    assert!(
        received
            .resource_attributes
            .lock()
            .unwrap()
            .iter()
            .any(|(k, v)| k == "service.instance.id" && v.contains("replica-7"))
    );

    let servers: Vec<_> = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Server as i32)
        .collect();
    assert_eq!(servers.len(), 6);
    let llms: Vec<_> = spans.iter().filter(|s| s.name == "chat gpt-test").collect();
    assert_eq!(llms.len(), 6);
    for llm in &llms {
        assert_eq!(llm.kind, SpanKind::Client as i32);
        let parent = servers
            .iter()
            .find(|s| s.span_id == llm.parent_span_id)
            .expect("the LLM span's parent is a server span");
        assert_eq!(parent.trace_id, llm.trace_id);
        assert_eq!(
            string(llm, "gen_ai.operation.name").as_deref(),
            Some("chat")
        );
        assert_eq!(
            string(llm, "gen_ai.provider.name").as_deref(),
            Some("openai")
        );
        assert_eq!(
            string(llm, "gen_ai.request.model").as_deref(),
            Some("gpt-test")
        );
        assert!(
            attr(llm, "gen_ai.input.messages").is_none(),
            "no prompt unless opted in"
        );
    }
    let ok = llms
        .iter()
        .find(|s| int(s, "http.response.status_code") == Some(200))
        .unwrap();
    assert_eq!(
        string(ok, "gen_ai.response.model").as_deref(),
        Some("gpt-test-2026")
    );
    assert_eq!(int(ok, "gen_ai.usage.input_tokens"), Some(21));
    assert_eq!(int(ok, "gen_ai.usage.output_tokens"), Some(7));
    let limited = llms
        .iter()
        .find(|s| int(s, "http.response.status_code") == Some(429))
        .unwrap();
    assert_eq!(
        string(limited, "error.type").as_deref(),
        Some("rate_limited")
    );
    assert_eq!(
        limited.status.as_ref().map(|s| s.code),
        Some(2),
        "STATUS_CODE_ERROR"
    );
    let db = spans.iter().find(|s| s.name == "INSERT sqlite").unwrap();
    assert_eq!(string(db, "db.system.name").as_deref(), Some("sqlite"));
    assert!(servers.iter().any(|s| s.span_id == db.parent_span_id));
    // Root server spans have no parent.
    assert!(servers.iter().all(|s| s.parent_span_id.is_empty()));

    // The metrics of the LLM calls, measured at the body: tokens, time to first token.
    let llm_calls = sum(&registry, "orchestrator_llm_requests_total", |_| true);
    assert_eq!(llm_calls, 6.0);
    let rate_limited = sum(&registry, "orchestrator_llm_requests_total", |s| {
        s.label("outcome") == Some("rate_limited")
    });
    assert_eq!(rate_limited, 1.0);
    let ttft = sum(
        &registry,
        "orchestrator_llm_time_to_first_token_seconds_count",
        |_| true,
    );
    assert_eq!(ttft, 5.0);
    let input = sum(&registry, "orchestrator_llm_tokens_sum", |s| {
        s.label("token_type") == Some("input")
    });
    assert_eq!(input, 5.0 * 21.0);
    tracer.shutdown().unwrap();
    assert_eq!(tracer.dropped_spans(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_arrive_intact_over_grpc() {
    spans_arrive_intact(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_arrive_intact_over_http_protobuf() {
    spans_arrive_intact(Protocol::HttpProtobuf).await;
}

async fn requests_survive(addr: SocketAddr, protocol: Protocol) {
    let batch = BatchConfig {
        max_queue_size: 64,
        scheduled_delay: Duration::from_millis(20),
        max_export_batch_size: 16,
        export_timeout: Duration::from_millis(300),
    };
    let (registry, tracer) = tracer(addr, protocol, batch);
    let service = TelemetryLayer::server(&tracer).layer(service_fn(|_: Request<Body>| answer(200)));
    let started = std::time::Instant::now();
    for _ in 0..2_000 {
        let response = tokio::time::timeout(
            Duration::from_secs(1),
            service.clone().oneshot(request(None)),
        )
        .await
        .expect("a request completes whatever the collector does")
        .unwrap();
        assert_eq!(response.status(), 200);
    }
    let elapsed = started.elapsed();
    assert!(tracer.dropped_spans() > 0, "the drop counter rises");
    let counted = || {
        sum(&registry, "orchestrator_telemetry_dropped_total", |s| {
            s.label("queue") == Some("spans")
        })
    };
    // Both rise while the export thread drops: the exposition never runs ahead, and they
    // are equal once it has stopped (below).
    assert!(counted() > 0.0 && counted() <= tracer.dropped_spans() as f64);
    // Bounded: the store holds its capacity, the queue its size; after shutdown every span
    // is accounted for, exported or counted as dropped.
    assert!(tracer.store().len() <= tracer.store().capacity());
    let stop = std::time::Instant::now();
    let _ = tokio::task::spawn_blocking({
        let tracer = tracer.clone();
        move || tracer.shutdown()
    })
    .await
    .unwrap();
    assert!(
        stop.elapsed() < Duration::from_secs(3),
        "shutdown is bounded by the export timeout"
    );
    assert_eq!(tracer.exported_spans(), 0);
    assert_eq!(tracer.dropped_spans(), 2_000);
    assert_eq!(counted(), 2_000.0);
    eprintln!("2000 requests in {elapsed:?} with a dead collector");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refusing_collector_costs_spans_not_requests() {
    requests_survive(support::refusing_port(), Protocol::Grpc).await;
    requests_survive(support::refusing_port(), Protocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_collector_costs_spans_not_requests() {
    requests_survive(support::silent_port(), Protocol::Grpc).await;
    requests_survive(support::silent_port(), Protocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_exports_every_queued_span() {
    let (addr, received) = support::grpc_receiver().await;
    let batch = BatchConfig {
        // Nothing leaves on the timer nor on a full batch: only shutdown sends.
        scheduled_delay: Duration::from_secs(3600),
        max_export_batch_size: 512,
        ..fast_batches()
    };
    let (_registry, tracer) = tracer(addr, Protocol::Grpc, batch);
    let service = app(&tracer);
    for _ in 0..40 {
        service.clone().oneshot(request(None)).await.unwrap();
    }
    assert!(received.spans().is_empty(), "still queued");
    tokio::task::spawn_blocking({
        let tracer = tracer.clone();
        move || tracer.shutdown()
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        received.spans().len(),
        120,
        "every queued span, on shutdown"
    );
    assert_eq!(tracer.exported_spans(), 120);
    assert_eq!(tracer.dropped_spans(), 0);
}

/// The caller runs no Tokio runtime at all: the layer is polled by hand and the exporter
/// runs on its own thread with its own runtime (the receiver has one of its own, elsewhere).
#[test]
fn export_works_when_the_caller_runs_no_tokio_runtime() {
    use futures_util::FutureExt as _;

    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let (addr, received) = support::grpc_receiver().await;
            addr_tx.send((addr, received)).unwrap();
            std::future::pending::<()>().await;
        });
    });
    let (addr, received) = addr_rx.recv().unwrap();
    assert!(
        tokio::runtime::Handle::try_current().is_err(),
        "no runtime here"
    );
    let (_registry, tracer) = tracer(addr, Protocol::Grpc, fast_batches());
    let mut service = TelemetryLayer::server(&tracer).layer(service_fn(|_: Request<Body>| {
        std::future::ready(Ok::<_, Infallible>(Response::new(Body::empty())))
    }));
    for _ in 0..25 {
        let response = service.call(request(None)).now_or_never().expect("ready");
        assert_eq!(response.unwrap().status(), 200);
    }
    tracer.shutdown().unwrap();
    assert_eq!(received.spans().len(), 25);
}
