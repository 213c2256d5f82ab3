//! The `tracing` bridge: the orchestrator's own spans become children in the layer's
//! traces (on the wire, through a real OTLP receiver), logs carry the trace ids, and the
//! context follows spawned tasks.

use crate::bridge_support;
use crate::support;

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use bridge_support::{LlmClient, call_llm, llm_client, local, one_trace, request, server};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use orchestrator_tower::{
    BatchConfig, Operation, OtlpConfig, Protocol, Sampler, TelemetryLayer, TraceFutureExt as _,
    TraceIds, Tracer,
};
use support::{grpc_receiver, hex, metrics};
use tower::ServiceExt as _;
use tracing::instrument;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

/// Log lines written by a `fmt` layer, kept for the test to read.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

#[instrument(skip(llm), fields(plan.steps = 3))]
async fn plan_answer(llm: LlmClient, topic: &str) -> Result<(), String> {
    tracing::info!(tokens = 12, "planning the answer");
    call_llm(llm).await;
    Ok(())
}

#[instrument(err)]
async fn failing_step() -> Result<(), String> {
    Err("the plan was rejected".into())
}

fn app(tracer: &Tracer) -> Router {
    let llm = llm_client(tracer);
    Router::new()
        .route(
            "/v1/chat",
            post(move || {
                let llm = llm.clone();
                async move {
                    tracing::info!("request received");
                    plan_answer(llm, "weather").await.unwrap();
                    let _ = failing_step().await;
                    "ok"
                }
            }),
        )
        .layer(TelemetryLayer::server(tracer))
}

fn exporting_tracer(addr: std::net::SocketAddr, sampler: Sampler) -> Tracer {
    let mut otlp = OtlpConfig::new(format!("http://{addr}"), Protocol::Grpc);
    otlp.batch = BatchConfig {
        max_queue_size: 2048,
        scheduled_delay: Duration::from_millis(50),
        max_export_batch_size: 64,
        export_timeout: Duration::from_secs(5),
    };
    let (_, metrics) = metrics();
    Tracer::builder(metrics)
        .sampler(sampler)
        .otlp(otlp)
        .build()
        .unwrap()
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn by_name<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name} among {:?}", names(spans)))
}

fn names(spans: &[Span]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_spans_nest_between_the_server_and_the_llm_span_on_the_wire() {
    let (addr, received) = grpc_receiver().await;
    let tracer = exporting_tracer(addr, Sampler::always_on());
    let logs = Logs::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracer.tracing_layer())
        .with(
            tracing_subscriber::fmt::layer()
                .event_format(TraceIds::text())
                .with_writer(logs.clone()),
        );
    let _default = tracing::subscriber::set_default(subscriber);

    let response = app(&tracer).oneshot(request(None)).await.unwrap();
    assert_eq!(response.status(), 200);
    tracer.force_flush().unwrap();
    let spans = received.wait_for(4, Duration::from_secs(10)).await;
    assert_eq!(
        spans.len(),
        4,
        "server, plan_answer, chat, failing_step: {:?}",
        names(&spans)
    );

    let server = by_name(&spans, "POST /v1/chat");
    let user = by_name(&spans, "plan_answer");
    let llm = by_name(&spans, "chat gpt-test");
    assert!(
        spans.iter().all(|s| s.trace_id == server.trace_id),
        "one trace"
    );
    assert_eq!(server.kind, SpanKind::Server as i32);
    assert_eq!(user.kind, SpanKind::Internal as i32);
    assert_eq!(
        user.parent_span_id, server.span_id,
        "user span under the server span"
    );
    assert_eq!(
        llm.parent_span_id, user.span_id,
        "LLM span under the user span"
    );
    assert!(user.start_time_unix_nano <= llm.start_time_unix_nano);
    assert!(user.end_time_unix_nano >= llm.end_time_unix_nano);

    // Fields are attributes; the event is a span event with its level and fields.
    assert_eq!(attr(user, "plan.steps"), Some(&Value::IntValue(3)));
    assert_eq!(
        attr(user, "topic"),
        Some(&Value::StringValue("weather".into()))
    );
    assert_eq!(user.events.len(), 1);
    let event = &user.events[0];
    assert_eq!(event.name, "planning the answer");
    let event_attr = |key: &str| {
        event
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref()?.value.clone())
    };
    assert_eq!(event_attr("tokens"), Some(Value::IntValue(12)));
    assert_eq!(event_attr("level"), Some(Value::StringValue("INFO".into())));

    // `#[instrument(err)]` sets the span status to error, with the error's text.
    let failed = by_name(&spans, "failing_step");
    let status = failed.status.as_ref().expect("a status");
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, "the plan was rejected");
    assert_eq!(failed.parent_span_id, server.span_id);

    // Log lines carry the ids of the span they were written in.
    let text = logs.text();
    let trace = hex(&server.trace_id);
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no log line {needle:?} in {text}"))
            .to_owned()
    };
    assert!(line("request received").ends_with(&format!(
        "trace_id={trace} span_id={}",
        hex(&server.span_id)
    )));
    assert!(
        line("planning the answer")
            .ends_with(&format!("trace_id={trace} span_id={}", hex(&user.span_id)))
    );
    // The analysis counts the request, with the internal operation beside the others.
    let analysis = tracer.analysis();
    assert_eq!(analysis.traces, 1);
    assert!(
        analysis
            .operations
            .iter()
            .any(|o| o.operation == Operation::Internal && o.spans == 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsampled_requests_export_no_user_span_and_logs_keep_the_trace_id() {
    let (addr, received) = grpc_receiver().await;
    let tracer = exporting_tracer(addr, Sampler::parent_based_ratio(1.0).unwrap());
    let logs = Logs::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracer.tracing_layer())
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .event_format(TraceIds::json())
                .with_writer(logs.clone()),
        );
    let _default = tracing::subscriber::set_default(subscriber);

    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = format!("00-{trace}-00f067aa0ba902b7-00");
    let response = app(&tracer).oneshot(request(Some(&parent))).await.unwrap();
    assert_eq!(response.status(), 200);
    tracer.force_flush().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        received.spans().is_empty(),
        "nothing exported: {:?}",
        names(&received.spans())
    );
    assert!(tracer.store().is_empty());

    let text = logs.text();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect();
    let planning = lines
        .iter()
        .find(|l| l["fields"]["message"] == "planning the answer")
        .unwrap_or_else(|| panic!("no planning line in {text}"));
    assert_eq!(planning["trace_id"], trace);
    assert_eq!(planning["span_id"].as_str().map(str::len), Some(16));
    assert_eq!(planning["fields"]["tokens"], 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_tasks_join_the_trace_only_through_in_current_trace() {
    let (tracer, _guard) = local(Sampler::always_on());
    let llm = llm_client(&tracer);
    let joined = server(&tracer, move || {
        let llm = llm.clone();
        async move {
            tokio::spawn(call_llm(llm).in_current_trace())
                .await
                .unwrap();
        }
    });
    joined.oneshot(request(None)).await.unwrap();
    let spans = one_trace(&tracer);
    assert_eq!(spans.len(), 2, "the LLM call joined the request's trace");
    let root = spans
        .iter()
        .find(|s| s.operation == Operation::ApiRequest)
        .unwrap();
    let child = spans
        .iter()
        .find(|s| s.operation == Operation::LlmRequest)
        .unwrap();
    assert_eq!(child.parent_span_id, Some(root.span_id));

    // Without the wrapper the task runs outside the request: a trace of its own. This pins
    // the documented behaviour.
    let (tracer, _guard) = local(Sampler::always_on());
    let llm = llm_client(&tracer);
    let detached = server(&tracer, move || {
        let llm = llm.clone();
        async move {
            tokio::spawn(call_llm(llm)).await.unwrap();
        }
    });
    detached.oneshot(request(None)).await.unwrap();
    let traces = tracer.store().traces();
    assert_eq!(
        traces.len(),
        2,
        "two traces: the request and the detached call"
    );
    assert_ne!(traces[0].trace_id(), traces[1].trace_id());
    assert!(traces.iter().all(|t| t.spans.len() == 1));

    // spawn_blocking through the closure wrapper: the context is current inside.
    let (tracer, _guard) = local(Sampler::always_on());
    let seen = Arc::new(Mutex::new(None));
    let out = seen.clone();
    let blocking = server(&tracer, move || {
        let out = out.clone();
        async move {
            let inside = orchestrator_tower::current();
            let seen = tokio::task::spawn_blocking(orchestrator_tower::in_current_trace(
                orchestrator_tower::current,
            ))
            .await
            .unwrap();
            *out.lock().unwrap() = Some((inside, seen));
        }
    });
    blocking.oneshot(request(None)).await.unwrap();
    let (inside, seen) = seen.lock().unwrap().take().unwrap();
    assert!(inside.is_some());
    assert_eq!(inside, seen);
}

#[instrument]
async fn nightly_job(llm: LlmClient) {
    tracing::info!("summarising yesterday");
    call_llm(llm).await;
}

#[tokio::test]
async fn a_background_job_starts_its_own_trace_when_sampled() {
    let (tracer, _guard) = local(Sampler::always_on());
    nightly_job(llm_client(&tracer)).await;
    let spans = one_trace(&tracer);
    assert_eq!(spans.len(), 2);
    let root = spans.iter().find(|s| s.is_local_root()).unwrap();
    assert_eq!(root.name, "nightly_job");
    assert_eq!(root.operation, Operation::Internal);
    let llm = spans.iter().find(|s| !s.is_local_root()).unwrap();
    assert_eq!(llm.parent_span_id, Some(root.span_id));
    assert_eq!(root.events.len(), 1);
    // Not a request: the analysis does not count it.
    assert_eq!(tracer.analysis().traces, 0);

    let (tracer, _guard) = local(Sampler::always_off());
    nightly_job(llm_client(&tracer)).await;
    assert!(tracer.store().is_empty(), "unsampled: nothing recorded");

    // Off by configuration: the job's client call is a trace of its own, the job is not.
    let (_, metrics) = metrics();
    let tracer = Tracer::builder(metrics)
        .sampler(Sampler::always_on())
        .build()
        .unwrap();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(tracer.tracing_layer().background_roots(false)),
    );
    nightly_job(llm_client(&tracer)).await;
    let spans = one_trace(&tracer);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].operation, Operation::LlmRequest);
}
