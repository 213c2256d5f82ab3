//! A demo LLM orchestrator instrumented with `orchestrator-telemetry`.
//!
//! An axum API with user sessions calls a simulated LLM provider over real HTTP on loopback
//! (streamed responses, a first-token delay, token usage, injected errors), an answer cache,
//! SQLite in memory, and a simulated external API. A load generator drives it. Run it with
//! `cargo run --release --example orchestrator`.
#![deny(missing_docs, unsafe_code)]

pub mod app;
pub mod cache;
pub mod db;
pub mod external;
pub mod http_client;
pub mod llm_client;
pub mod load;
pub mod middleware;
pub mod provider;
pub mod rng;
mod run;
pub mod summary;

pub use run::{DemoArgs, DemoConfig, DemoError, DemoServer, demo_prices, run};
