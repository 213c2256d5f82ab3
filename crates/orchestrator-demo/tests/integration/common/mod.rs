//! What the tests that run the demo binary share.
#![allow(dead_code)] // each test file uses a part

use std::process::{Command, Output};

/// The standard variables a run must not inherit from the shell that runs the tests; a test
/// sets the ones it means.
pub const OTEL_VARS: &[&str] = &[
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_TRACES_EXPORTER",
];

/// The demo binary with its API and telemetry on ports the kernel picks, and none of the
/// [`OTEL_VARS`] from the environment.
pub fn demo() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orchestrator-demo"));
    command.args([
        "--api-addr",
        "127.0.0.1:0",
        "--telemetry-addr",
        "127.0.0.1:0",
    ]);
    for var in OTEL_VARS {
        command.env_remove(var);
    }
    command
}

/// Runs `command` to its end: the output, then stdout and stderr as text.
pub fn run(command: &mut Command) -> (Output, String, String) {
    let output = command.output().expect("the demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

/// A tracer sampling every call over a fresh registry, pricing with the demo's prices.
pub fn traced() -> (
    orchestrator_metrics::Registry,
    orchestrator_telemetry::orchestrator_tower::Tracer,
) {
    let registry = orchestrator_metrics::Registry::new();
    let metrics = orchestrator_metrics::Metrics::builder()
        .prices(orchestrator_demo::demo_prices().unwrap())
        .build(&registry);
    let tracer = orchestrator_telemetry::orchestrator_tower::Tracer::builder(metrics)
        .sampler(orchestrator_telemetry::orchestrator_tower::Sampler::always_on())
        .build()
        .unwrap();
    (registry, tracer)
}
