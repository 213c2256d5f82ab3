//! Issue 14, row 1: SIGTERM (Kubernetes' stop signal) loses nothing. The demo binary, run
//! with every request sampled and a real OTLP/gRPC receiver, is sent SIGTERM a few seconds
//! in: it exits 0, prints its summary, and the receiver holds exactly one server span per
//! request the summary counts as answered.

use crate::common;

use orchestrator_testkit::otlp as support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::trace::v1::span::SpanKind;

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_load_drains_and_flushes_every_span() {
    let (addr, received) = support::grpc_receiver().await;
    let mut command = common::demo();
    command
        .args(["--duration", "120", "--concurrency", "4"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}"))
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_TRACES_SAMPLER", "always_on")
        .env("OTEL_BSP_SCHEDULE_DELAY", "200")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("the demo starts");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let sent = Instant::now();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        sent.elapsed() < Duration::from_secs(30),
        "stopped within Kubernetes' default grace period"
    );
    assert!(stdout.contains("Stopped by a signal"), "{stdout}");
    assert!(stderr.contains("SIGTERM received"), "{stderr}");
    let answered: usize = stdout
        .lines()
        .find_map(|l| l.split(" requests (").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no answered count in {stdout}"));
    assert!(answered > 20, "{answered} requests answered");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("Spans exported over OTLP: ") && l.ends_with("dropped: 0")),
        "{stdout}"
    );
    let spans = received.spans();
    let servers = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Server as i32)
        .count();
    assert_eq!(servers, answered, "one server span per answered request");
}
