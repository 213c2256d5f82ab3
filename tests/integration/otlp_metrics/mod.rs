//! The OTLP metrics push against receivers built from the official `opentelemetry-proto`
//! definitions: gRPC and HTTP, plain and mutual TLS. After a scripted load every pushed
//! value equals the same series of the exposition taken at the same instant, the LLM
//! series carry the GenAI conventions' names and attributes, and the exemplars are spans
//! the trace receiver got.

mod compare;
mod faults;

use std::collections::HashSet;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric;
use orchestrator_telemetry::orchestrator_http::TlsFiles;
use orchestrator_telemetry::orchestrator_metrics::catalogue::semconv;
use orchestrator_telemetry::orchestrator_tower::{BatchConfig, ErrorKind, OtlpConfig, Protocol};
use orchestrator_telemetry::{
    LlmOutcome, OtlpMetricsConfig, OtlpProtocol, PushOutcome, Sampler, Status, Telemetry,
    TelemetryGuard, TokenUsage, exposition,
};
use orchestrator_testkit::otlp::{self, hex};
use orchestrator_testkit::otlp_metrics::{grpc_metrics_receiver, http_metrics_receiver};
use orchestrator_testkit::pki::TestPki;
use orchestrator_testkit::server::RecordingServer;
use prost::Message as _;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

use crate::support;

/// A telemetry instance pushing as `config` says (once an hour: the test pushes itself),
/// tracing every call to the trace receiver at `traces`.
pub(crate) fn telemetry(config: OtlpMetricsConfig, traces: Option<String>) -> TelemetryGuard {
    let mut config = config;
    config.interval = Duration::from_secs(3600);
    config.timeout = Duration::from_secs(5);
    Telemetry::builder()
        .without_listener()
        .without_process_collector()
        .without_monitor()
        .ignore_otel_env()
        .expose_gen_ai_names()
        .service_name("otlp-metrics-test")
        .instance("replica-1")
        .otlp_metrics(config)
        .tracing(move |t| {
            let t = t.sampler(Sampler::always_on());
            match traces {
                Some(endpoint) => {
                    let mut otlp = OtlpConfig::new(endpoint, Protocol::Grpc);
                    otlp.batch = BatchConfig {
                        scheduled_delay: Duration::from_millis(50),
                        ..BatchConfig::default()
                    };
                    t.otlp(otlp)
                }
                None => t,
            }
        })
        .build()
        .expect("telemetry")
}

/// Calls of every kind: streamed and not, failed, rate limited, an embeddings operation,
/// requests and the user's own counter.
pub(crate) fn load(telemetry: &TelemetryGuard, rounds: usize) {
    let tracer = telemetry.tracer();
    for i in 0..rounds {
        let mut call = tracer.llm_call("openai", "gpt-4o-mini");
        call.first_token();
        call.finish(
            LlmOutcome::Success,
            Some(TokenUsage::new(100 + i as u64, 20)),
        );
        let call = tracer.llm_call("anthropic", "claude-sonnet-4");
        call.finish(LlmOutcome::Success, Some(TokenUsage::new(1_000, 300)));
        if i % 3 == 0 {
            tracer
                .llm_call("openai", "gpt-4o-mini")
                .fail(ErrorKind::Timeout);
            let call = tracer.llm_call("openai", "gpt-4o-mini");
            call.finish(LlmOutcome::RateLimited, None);
        }
        let mut call = tracer.llm_call("openai", "text-embedding-3-small");
        call.operation("embeddings");
        call.finish(LlmOutcome::Success, Some(TokenUsage::new(50, 0)));
        telemetry.metrics().requests().record(
            "/v1/chat",
            "POST",
            Status::Code(200),
            Duration::from_millis(40 + i as u64),
        );
    }
    metrics::with_local_recorder(telemetry.registry(), || {
        metrics::counter!("app_jobs_total", "queue" => "emails").increment(rounds as u64);
        metrics::gauge!("app_queue_depth").set(7.5);
    });
}

/// Pushes now and returns what the exposition says at the same instant (nothing records in
/// between).
fn push_and_expose(telemetry: &TelemetryGuard) -> exposition::Exposition {
    let outcome = telemetry.push_metrics_now().expect("a push is configured");
    assert!(matches!(outcome, PushOutcome::Sent { .. }), "{outcome:?}");
    exposition::parse(&telemetry.registry().render()).unwrap()
}

/// The whole check of one pushed request against the exposition.
fn check(
    request: &ExportMetricsServiceRequest,
    exposition: &exposition::Exposition,
    conventions_only: bool,
) {
    let compared = compare::check_equal(request, exposition);
    assert_eq!(
        compared,
        compare::exposition_series(exposition, conventions_only),
        "every series of the exposition (with conventions_only, but those the conventions \
         stand for) is pushed, once"
    );
    let names: HashSet<&str> = compare::metrics(request)
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    for m in semconv::GEN_AI_METRICS {
        assert!(names.contains(m.otlp_name), "{} pushed", m.otlp_name);
        assert!(!names.contains(m.def.name), "only the dotted name on OTLP");
    }
    for seed in [
        "orchestrator_llm_latency_seconds",
        "orchestrator_llm_time_to_first_token_seconds",
    ] {
        assert_eq!(names.contains(seed), !conventions_only, "{seed}");
    }
    assert!(names.contains("orchestrator_llm_requests_total"));
    assert!(names.contains("app_jobs_total") && names.contains("app_queue_depth"));
    let duration = compare::metrics(request)
        .into_iter()
        .find(|m| m.name == "gen_ai.client.operation.duration")
        .unwrap();
    assert_eq!(duration.unit, "s");
    let Some(metric::Data::Histogram(h)) = &duration.data else {
        panic!("a histogram")
    };
    let keys = |p: &opentelemetry_proto::tonic::metrics::v1::HistogramDataPoint| {
        compare::labels(&p.attributes, true)
    };
    let timeouts = h
        .data_points
        .iter()
        .find(|p| keys(p).contains(&("error_type".into(), "timeout".into())))
        .expect("error.type on failed calls");
    assert!(timeouts.count > 0);
    assert!(
        h.data_points
            .iter()
            .any(|p| keys(p).contains(&("gen_ai_operation_name".into(), "embeddings".into()))),
        "the operation is an attribute"
    );
    assert_eq!(
        h.data_points[0].explicit_bounds,
        semconv::GEN_AI_CLIENT_OPERATION_DURATION.buckets,
        "the conventions' boundaries"
    );
    let resource = request.resource_metrics[0].resource.as_ref().unwrap();
    let attributes: Vec<(String, String)> = compare::labels(&resource.attributes, false);
    assert!(attributes.contains(&("service.name".into(), "otlp-metrics-test".into())));
    assert!(attributes.contains(&("service.instance.id".into(), "replica-1".into())));
}

fn run_plain(protocol: OtlpProtocol, conventions_only: bool) {
    let runtime = support::runtime();
    let (metrics_addr, received) = runtime.block_on(match protocol {
        OtlpProtocol::Grpc => Box::pin(grpc_metrics_receiver(None))
            as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>,
        OtlpProtocol::HttpProtobuf => Box::pin(http_metrics_receiver()),
    });
    let (traces_addr, spans) = runtime.block_on(otlp::grpc_receiver());
    let mut config = OtlpMetricsConfig::new(format!("http://{metrics_addr}"), protocol);
    config.conventions_only = conventions_only;
    let telemetry = telemetry(config, Some(format!("http://{traces_addr}")));
    load(&telemetry, 12);
    let exposition = push_and_expose(&telemetry);
    let requests = received.requests();
    assert_eq!(requests.len(), 1);
    check(&requests[0], &exposition, conventions_only);

    // Exemplars: ids of spans the trace receiver got.
    let exemplars: Vec<Vec<u8>> = compare::metrics(&requests[0])
        .iter()
        .filter_map(|m| match &m.data {
            Some(metric::Data::Histogram(h)) => Some(h),
            _ => None,
        })
        .flat_map(|h| &h.data_points)
        .flat_map(|p| &p.exemplars)
        .map(|e| e.trace_id.clone())
        .collect();
    assert!(!exemplars.is_empty(), "sampled calls leave exemplars");
    let spans = runtime.block_on(spans.wait_for(80, Duration::from_secs(10)));
    let traces: HashSet<String> = spans.iter().map(|s| hex(&s.trace_id)).collect();
    for id in &exemplars {
        assert!(
            traces.contains(&hex(id)),
            "exemplar trace {} was exported",
            hex(id)
        );
    }
    drop(telemetry);
    assert_eq!(received.requests().len(), 2, "shutdown pushes once more");
}

#[test]
fn pushed_values_equal_the_exposition_over_grpc_conventions_only() {
    run_plain(OtlpProtocol::Grpc, true);
}

#[test]
fn pushed_values_equal_the_exposition_over_http() {
    run_plain(OtlpProtocol::HttpProtobuf, false);
}

fn mutual_tls(pki: &TestPki) -> TlsFiles {
    TlsFiles::new()
        .ca("ca", pki.path("ca.pem"))
        .client_cert("cert", pki.path("client.pem"))
        .client_key("key", pki.path("client.key"))
}

#[test]
fn pushed_values_equal_the_exposition_over_grpc_with_mutual_tls() {
    let pki = TestPki::new();
    let runtime = support::runtime();
    let tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(
            &pki.server_cert_pem,
            &pki.server_key_pem,
        ))
        .client_ca_root(Certificate::from_pem(&pki.ca_pem));
    let (addr, received) = runtime.block_on(grpc_metrics_receiver(Some(tls)));
    let config = OtlpMetricsConfig::new(
        format!("https://localhost:{}", addr.port()),
        OtlpProtocol::Grpc,
    )
    .with_tls(&mutual_tls(&pki))
    .unwrap();
    let telemetry = telemetry(config, None);
    load(&telemetry, 5);
    let exposition = push_and_expose(&telemetry);
    check(&received.requests()[0], &exposition, false);

    // Without the client certificate the server refuses the handshake: a counted drop.
    let no_cert = OtlpMetricsConfig::new(
        format!("https://localhost:{}", addr.port()),
        OtlpProtocol::Grpc,
    )
    .with_tls(&TlsFiles::new().ca("ca", pki.path("ca.pem")))
    .unwrap();
    let refused = self::telemetry(no_cert, None);
    let outcome = refused.push_metrics_now().unwrap();
    assert!(matches!(outcome, PushOutcome::Failed { .. }), "{outcome:?}");
}

#[test]
fn pushed_values_equal_the_exposition_over_http_with_mutual_tls() {
    let pki = TestPki::new();
    let server = RecordingServer::start("127.0.0.1:0", Some(pki.server_config(true)), |r| {
        assert_eq!(r.path, "/v1/metrics");
        assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
        assert_eq!(r.header("x-api-key"), Some("k3y"));
        (200, String::new())
    });
    let config = OtlpMetricsConfig::new(server.url(), OtlpProtocol::HttpProtobuf)
        .with_tls(&mutual_tls(&pki))
        .unwrap()
        .header(
            "x-api-key",
            orchestrator_telemetry::orchestrator_http::Secret::new("k3y"),
        );
    let telemetry = telemetry(config, None);
    load(&telemetry, 5);
    let exposition = push_and_expose(&telemetry);
    let request =
        ExportMetricsServiceRequest::decode(server.requests()[0].body.as_slice()).unwrap();
    check(&request, &exposition, false);
}
