//! The README's whole service (`src/main.rs`, which the root's `tests/integration/readme.rs`
//! checks is the README's code verbatim), built against the facade alone and run as a
//! process against the demo's simulated OpenAI provider, which streams its answer chunk by
//! chunk over real HTTP. One request, and then: the request and the LLM call in `/metrics`,
//! one trace in which the handler's `#[instrument]` span is the request's child and the
//! LLM call the handler's, and a JSON log line carrying that trace's id, while `RUST_LOG`
//! filters the log output.

use std::io::Read as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use orchestrator_demo::provider::{Provider, ProviderConfig};
use orchestrator_telemetry::exposition::{self, Exposition};
use orchestrator_telemetry::reqwest;
use orchestrator_testkit::server::{closed_port, reachable};
use serde_json::Value;

/// The service's process, killed when the test ends however it ends.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The sum of `series` over its samples carrying every one of `labels`.
fn sum(exposition: &Exposition, series: &str, labels: &[(&str, &str)]) -> f64 {
    exposition.sum_where(series, |s| {
        labels
            .iter()
            .all(|(name, value)| s.label(name) == Some(value))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_service_joins_its_spans_and_records_the_request_and_the_llm_call() {
    let provider = Provider::start(ProviderConfig::without_failures())
        .await
        .unwrap();
    let api = format!("127.0.0.1:{}", closed_port());
    let metrics = format!("127.0.0.1:{}", closed_port());
    let mut command = Command::new(env!("CARGO_BIN_EXE_readme-service"));
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("OTEL_")) {
        command.env_remove(name);
    }
    let child = command
        .env("API_ADDR", &api)
        .env("METRICS_ADDR", &metrics)
        .env(
            "OPENAI_BASE_URL",
            format!("{}/openai/v1", provider.base_url()),
        )
        .env("OTEL_TRACES_SAMPLER", "always_on")
        // Only this crate's logs: the filter must not take the spans away from the trace.
        .env("RUST_LOG", "readme_service=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut service = Service(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(reachable(&api) && reachable(&metrics)) {
        assert!(Instant::now() < deadline, "the service did not listen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let client = reqwest::Client::new();
    let answer = client
        .post(format!("http://{api}/v1/answer"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(answer.text().await.unwrap().ends_with(" bytes of events\n"));

    // The trace: request → handler → LLM call, one trace id.
    let mut trace = Value::Null;
    let deadline = Instant::now() + Duration::from_secs(10);
    while trace.is_null() {
        assert!(Instant::now() < deadline, "no trace of POST /v1/answer");
        let doc: Value = client
            .get(format!("http://{metrics}/api/v1/traces"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(t) = doc["traces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["root"] == "POST /v1/answer")
        {
            trace = t.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let spans = trace["spans"].as_array().unwrap();
    let span = |name: &str| {
        spans
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no {name} span in {trace}"))
    };
    let (root, handler, llm) = (
        span("POST /v1/answer"),
        span("answer"),
        span("chat gpt-4o-mini"),
    );
    assert_eq!(handler["parent_span_id"], root["span_id"], "{trace}");
    assert_eq!(llm["parent_span_id"], handler["span_id"], "{trace}");
    assert_eq!(llm["failed"], false, "{trace}");

    // The request and the LLM call, with its tokens, in /metrics.
    let exposition = client
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let parsed = exposition::parse(&exposition).unwrap();
    let request = [
        ("route", "/v1/answer"),
        ("method", "POST"),
        ("status", "200"),
    ];
    assert_eq!(
        sum(&parsed, "orchestrator_requests_total", &request),
        1.0,
        "{exposition}"
    );
    let call = [
        ("provider", "openai"),
        ("model", "gpt-4o-mini"),
        ("outcome", "success"),
    ];
    assert_eq!(
        sum(&parsed, "orchestrator_llm_requests_total", &call),
        1.0,
        "{exposition}"
    );
    let output = [("model", "gpt-4o-mini"), ("token_type", "output")];
    assert!(
        sum(&parsed, "orchestrator_llm_tokens_sum", &output) > 0.0,
        "no output tokens: {exposition}"
    );

    // The handler's log line, as JSON with the trace's id.
    let _ = service.0.kill();
    let _ = service.0.wait();
    let mut stdout = String::new();
    service
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let line = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["fields"]["message"] == "the LLM answered")
        .unwrap_or_else(|| panic!("no JSON log line of the answer: {stdout}"));
    assert_eq!(line["trace_id"], trace["trace_id"], "{line}");
}
