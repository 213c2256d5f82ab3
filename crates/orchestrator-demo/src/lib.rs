//! A demo LLM orchestrator instrumented with `orchestrator-telemetry`.
//!
//! An axum API with user sessions calls a simulated LLM provider over real HTTP on loopback
//! (streamed responses, a first-token delay, token usage, injected errors), an answer cache,
//! SQLite in memory, and a simulated external API. A load generator drives it. Run it with
//! `cargo run --release --example orchestrator`.
#![deny(missing_docs, unsafe_code)]

pub mod agent;
mod agent_wire;
mod anthropic_wire;
pub mod app;
mod args;
pub mod cache;
pub mod channels;
pub mod db;
pub mod external;
pub mod fleet;
pub mod http_client;
pub mod incident;
pub mod llm_client;
pub mod load;
pub mod logging;
pub mod middleware;
pub mod provider;
pub mod quality;
pub mod rng;
mod run;
mod server;
pub mod signals;
pub mod summary;

pub use run::{DemoArgs, run};
pub use server::{DemoConfig, DemoError, DemoServer, demo_prices};

/// The command line: logs to stderr (`RUST_LOG`, default `warn`), parses [`DemoArgs`] and
/// runs the demo. Shared by the `orchestrator-demo` binary and the `orchestrator` example.
pub fn cli() -> std::process::ExitCode {
    use clap::Parser as _;
    let args = DemoArgs::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
