//! The demo LLM orchestrator: `cargo run --release --example orchestrator -- --help`.
//!
//! It installs orchestrator-telemetry, serves `/metrics`, starts an axum API backed by a
//! simulated LLM provider, SQLite, a cache and an external API, drives it with a load
//! generator, and prints what was recorded.

use std::process::ExitCode;

use clap::Parser as _;
use orchestrator_demo::{DemoArgs, run};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(DemoArgs::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
