//! The demo LLM orchestrator: `cargo run --release --example orchestrator -- --help`.
//!
//! It installs orchestrator-telemetry, serves `/metrics`, starts an axum API backed by a
//! simulated LLM provider, SQLite, a cache and an external API, each wrapped by the tower
//! telemetry layer, drives it with a load generator, and prints what was recorded and the
//! analysis of the sampled traces. With `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are also
//! exported over OTLP.

fn main() -> std::process::ExitCode {
    orchestrator_demo::cli()
}
