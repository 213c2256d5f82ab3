//! One trace with an existing OpenTelemetry setup: a service that keeps
//! `tracing-opentelemetry` (over its own `SdkTracerProvider`) beside this project's server
//! layer and bridge. With `opentelemetry_context(true)`, the layer's context is
//! OpenTelemetry's current one while a call runs, so the user's spans (tracing and the
//! OpenTelemetry API) join the layer's trace and follow its sampling decision; the user's
//! provider feeds this project's export queue (`Tracer::span_processor`). The other way
//! round, a request started inside the user's OpenTelemetry span continues its trace. All
//! spans reach a real OTLP/gRPC receiver.

use orchestrator_testkit::otlp::{self, Received, hex};

use std::borrow::Cow;
use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use http::{Request, Response};
use http_body_util::BodyExt as _;
use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::{Sampler as SdkSampler, SdkTracerProvider};
use orchestrator_telemetry::orchestrator_metrics::{Metrics, Registry};
use orchestrator_telemetry::orchestrator_tower::{
    BatchConfig, GenAiRequest, OpenAiCompatible, OtlpConfig, Protocol, TelemetryLayer, Tracer,
};
use tower::{Layer as _, ServiceExt as _, service_fn};
use tracing::Instrument as _;
use tracing_subscriber::prelude::*;

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT: &str = "b7ad6b7169203331";

fn tracer(endpoint: String, share: bool) -> Tracer {
    let mut otlp = OtlpConfig::new(endpoint, Protocol::Grpc);
    otlp.batch = BatchConfig {
        scheduled_delay: Duration::from_millis(100),
        ..BatchConfig::default()
    };
    Tracer::builder(Metrics::new(&Registry::new()))
        .otlp(otlp)
        .opentelemetry_context(share)
        .build()
        .unwrap()
}

/// The user's provider: 10 % of new traces, children follow their parent; its spans go
/// through `tracer`'s queue.
fn user_provider(tracer: &Tracer, sampler: SdkSampler) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(tracer.span_processor())
        .build()
}

fn ten_percent() -> SdkSampler {
    SdkSampler::ParentBased(Box::new(SdkSampler::TraceIdRatioBased(0.1)))
}

async fn provider(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    let body = "data: {\"model\":\"gpt-test\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n";
    Ok(Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from(body))
        .unwrap())
}

/// A request through the server layer whose handler opens a `tracing` span (`plan`), a
/// span with the OpenTelemetry API (`lib-call`, through the global tracer) and an LLM call
/// through the layer.
async fn request(tracer: &Tracer, traceparent: Option<&str>) {
    let handler_tracer = tracer.clone();
    let app = TelemetryLayer::server(tracer).layer(service_fn(move |_: Request<Body>| {
        let tracer = handler_tracer.clone();
        async move {
            // Straight in the handler: a child of the server span.
            opentelemetry::global::tracer("lib")
                .start("handler-call")
                .end();
            async move {
                let mut span = opentelemetry::global::tracer("lib").start("lib-call");
                span.end();
                let llm =
                    TelemetryLayer::llm(&tracer, OpenAiCompatible).layer(service_fn(provider));
                let mut call = Request::post("http://provider/v1/chat/completions")
                    .body(Body::empty())
                    .unwrap();
                call.extensions_mut().insert(GenAiRequest {
                    operation: "chat",
                    provider: Cow::Borrowed("openai"),
                    model: Cow::Borrowed("gpt-test"),
                    prompt: None,
                });
                let answer = llm.oneshot(call).await.unwrap();
                let _ = answer.into_body().collect().await;
            }
            .instrument(tracing::info_span!("plan"))
            .await;
            Ok::<_, Infallible>(Response::new(Body::from("ok")))
        }
    }));
    let mut request = Request::post("/v1/chat");
    if let Some(tp) = traceparent {
        request = request.header("traceparent", tp);
    }
    let response = app
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Runs `test` on a current-thread runtime with the bridge and `tracing-opentelemetry` on
/// one registry as this thread's subscriber.
fn with_both<F: Future>(tracer: &Tracer, user: &SdkTracerProvider, test: F) -> F::Output {
    let subscriber = tracing_subscriber::registry()
        .with(tracer.tracing_layer())
        .with(tracing_opentelemetry::layer().with_tracer(user.tracer("user-app")));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || runtime.block_on(test))
}

async fn flushed(
    tracer: &Tracer,
    user: &SdkTracerProvider,
    received: &Received,
) -> Vec<opentelemetry_proto::tonic::trace::v1::Span> {
    let (tracer, user) = (tracer.clone(), user.clone());
    tokio::task::spawn_blocking(move || {
        user.force_flush().unwrap();
        tracer.force_flush().unwrap();
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    received.spans()
}

#[test]
fn one_request_is_one_trace_across_both_pipelines() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (addr, received) = runtime.block_on(otlp::grpc_receiver());
    let tracer = tracer(format!("http://{addr}"), true);
    let user = user_provider(&tracer, ten_percent());
    opentelemetry::global::set_tracer_provider(user.clone());
    let spans = with_both(&tracer, &user, async {
        let sampled = format!("00-{TRACE}-{PARENT}-01");
        request(&tracer, Some(&sampled)).await;
        flushed(&tracer, &user, &received).await
    });
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    // Ours: the server span, the bridged `plan`, the LLM call; theirs: `plan` again
    // (tracing-opentelemetry's copy), `handler-call` and `lib-call`.
    assert_eq!(spans.len(), 6, "{names:?}");
    assert!(
        spans.iter().all(|s| hex(&s.trace_id) == TRACE),
        "one trace id: {:?}",
        spans
            .iter()
            .map(|s| (&s.name, hex(&s.trace_id)))
            .collect::<Vec<_>>()
    );
    let ids: HashSet<String> = spans.iter().map(|s| hex(&s.span_id)).collect();
    for span in &spans {
        let parent = hex(&span.parent_span_id);
        assert!(
            parent == PARENT || ids.contains(&parent),
            "{} has a parent outside the tree: {parent}",
            span.name
        );
    }
    let server = spans.iter().find(|s| s.name.starts_with("POST")).unwrap();
    assert_eq!(hex(&server.parent_span_id), PARENT);
    let server_id = hex(&server.span_id);
    let plans: Vec<_> = spans.iter().filter(|s| s.name == "plan").collect();
    assert_eq!(plans.len(), 2);
    assert!(
        plans.iter().all(|p| hex(&p.parent_span_id) == server_id),
        "both copies of plan are children of the server span"
    );
    let handler = spans.iter().find(|s| s.name == "handler-call").unwrap();
    assert_eq!(
        hex(&handler.parent_span_id),
        server_id,
        "an OpenTelemetry API span in the handler is a child of the server span"
    );
    let lib = spans.iter().find(|s| s.name == "lib-call").unwrap();
    assert!(
        plans.iter().any(|p| p.span_id == lib.parent_span_id),
        "lib-call is a child of plan"
    );
    // The live page's store shows the user's spans in the request's trace too.
    let stored = tracer
        .store()
        .traces()
        .into_iter()
        .find(|t| hex(&t.trace_id()) == TRACE)
        .expect("the trace is stored");
    let mut stored_names: Vec<_> = stored.spans.iter().map(|s| s.name.to_string()).collect();
    stored_names.sort();
    assert_eq!(
        stored_names,
        [
            "POST unmatched",
            "chat gpt-test",
            "handler-call",
            "lib-call",
            "plan",
            "plan"
        ]
    );
    assert!(
        stored.root().is_some_and(|r| r.name.starts_with("POST")),
        "the root stays last"
    );
    let _ = user.shutdown();
    drop(runtime);
}

#[test]
fn an_unsampled_request_is_exported_by_neither_pipeline() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (addr, received) = runtime.block_on(otlp::grpc_receiver());
    let tracer = tracer(format!("http://{addr}"), true);
    let user = user_provider(&tracer, ten_percent());
    let spans = with_both(&tracer, &user, async {
        for _ in 0..5 {
            let unsampled = format!("00-{TRACE}-{PARENT}-00");
            request(&tracer, Some(&unsampled)).await;
        }
        flushed(&tracer, &user, &received).await
    });
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert!(spans.is_empty(), "{names:?}");
    let _ = user.shutdown();
    drop(runtime);
}

#[test]
fn a_request_inside_the_users_opentelemetry_span_continues_its_trace() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (addr, received) = runtime.block_on(otlp::grpc_receiver());
    // Without sharing our context: the other way round needs nothing.
    let tracer = tracer(format!("http://{addr}"), false);
    let user = user_provider(&tracer, SdkSampler::AlwaysOn);
    let spans = with_both(&tracer, &user, async {
        let upstream = user.tracer("upstream").start("upstream");
        let context = opentelemetry::Context::current_with_span(upstream);
        let (trace, id) = {
            let span = context.span();
            let sc = span.span_context();
            (sc.trace_id().to_string(), sc.span_id().to_string())
        };
        {
            let _attached = context.clone().attach();
            request(&tracer, None).await;
        }
        context.span().end();
        (trace, id, flushed(&tracer, &user, &received).await)
    });
    let (trace, upstream_id, spans) = spans;
    let names: Vec<_> = spans
        .iter()
        .map(|s| (s.name.clone(), hex(&s.trace_id), hex(&s.parent_span_id)))
        .collect();
    let server = spans
        .iter()
        .find(|s| s.name.starts_with("POST"))
        .unwrap_or_else(|| panic!("no server span in {names:?}, upstream {trace} {upstream_id}"));
    assert_eq!(hex(&server.trace_id), trace);
    assert_eq!(hex(&server.parent_span_id), upstream_id);
    assert!(
        spans
            .iter()
            .any(|s| s.name == "upstream" && hex(&s.span_id) == upstream_id)
    );
    let _ = user.shutdown();
    drop(runtime);
}

/// Without `opentelemetry_context`, a `tracing-opentelemetry` layer beside the bridge makes
/// a second trace per request: said once, with the builder call that joins them; with it,
/// nothing is said.
#[test]
fn a_second_pipeline_in_other_traces_is_said_once() {
    for share in [false, true] {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (addr, _received) = runtime.block_on(otlp::grpc_receiver());
        let tracer = tracer(format!("http://{addr}"), share);
        let user = user_provider(&tracer, SdkSampler::AlwaysOn);
        let logs = orchestrator_testkit::logs::LogBuffer::default();
        let subscriber = tracing_subscriber::registry()
            .with(tracer.tracing_layer())
            .with(tracing_opentelemetry::layer().with_tracer(user.tracer("user-app")))
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer({
                        let logs = logs.clone();
                        move || logs.clone()
                    }),
            );
        let current = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tracing::subscriber::with_default(subscriber, || {
            current.block_on(async {
                let sampled = format!("00-{TRACE}-{PARENT}-01");
                for _ in 0..3 {
                    request(&tracer, Some(&sampled)).await;
                }
            })
        });
        let said = logs
            .lines_with("WARN")
            .iter()
            .filter(|l| l.contains("opentelemetry_context(true)"))
            .count();
        assert_eq!(said, usize::from(!share), "share={share}: {}", logs.text());
        let _ = user.shutdown();
        drop(runtime);
    }
}

/// The processor added to two providers: each provider's spans go through it once.
#[test]
fn the_processor_in_two_providers_counts_each_span_once() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (addr, received) = runtime.block_on(otlp::grpc_receiver());
    let tracer = tracer(format!("http://{addr}"), false);
    let (a, b) = (
        user_provider(&tracer, SdkSampler::AlwaysOn),
        user_provider(&tracer, SdkSampler::AlwaysOn),
    );
    a.tracer("a").start("from-a").end();
    b.tracer("b").start("from-b").end();
    a.force_flush().unwrap();
    let spans = runtime.block_on(received.wait_for(2, Duration::from_secs(5)));
    let mut names: Vec<_> = spans.iter().map(|s| s.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["from-a", "from-b"]);
    let _ = (a.shutdown(), b.shutdown());
}
