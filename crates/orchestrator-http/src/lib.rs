//! The one outgoing HTTP client of orchestrator-telemetry, for every call that is not OTLP:
//! the alert sinks (webhook, Slack, PagerDuty, Alertmanager), `orchestrator-obs validate`,
//! and fetches from Prometheus and Alertmanager.
//!
//! It is [`reqwest`] with rustls (the aws-lc-rs provider, the one TLS stack of the project),
//! driven from plain threads: each call runs on a current-thread Tokio runtime owned by the
//! calling thread, so sink threads and command-line tools need no runtime of their own. Every
//! call has
//!
//! - an **overall deadline** (connect, TLS, headers and body together; 10 s by default), so
//!   a server that drips one byte every few seconds cannot hold a thread;
//! - a **cap on the reply body** ([`SINK_BODY_LIMIT`], 1 MiB, by default), so an endless
//!   reply costs at most the cap;
//! - **no redirects** unless [`HttpClientBuilder::redirects`] asks for them;
//! - `https` with the system's roots (through `rustls-platform-verifier`), plus a custom CA
//!   and a client certificate from [`TlsFiles`]; IPv6 literals (`http://[::1]:9093`).
//!
//! Errors are typed ([`HttpError`]) and never print a URL's path, query or credentials (a
//! Slack webhook's path is its secret): only `scheme://host:port`. Secrets read from a file
//! or the environment are held in [`Secret`], whose `Debug` shows `***`.
//!
//! ```no_run
//! use std::time::Duration;
//! use orchestrator_http::HttpClient;
//!
//! let client = HttpClient::builder().deadline(Duration::from_secs(5)).build()?;
//! let reply = client.post_json("https://hooks.example.com/T000/B000/XXX", br#"{"text":"hi"}"#, &[])?;
//! assert!(reply.is_success());
//! # Ok::<(), orchestrator_http::HttpError>(())
//! ```

mod client;
mod error;
pub mod otel_env;
mod secret;
mod tls;

pub use client::{HttpClient, HttpClientBuilder, Reply, SINK_BODY_LIMIT};
pub use error::{HttpError, is_tls_error};
pub use reqwest::Url;
pub use secret::{Secret, SecretError};
pub use tls::{TlsError, TlsFiles, TlsMaterial};

/// The part of a URL that may be logged: `scheme://host:port`, without user, password,
/// path or query (which may hold a token). An unparsable URL gives `"<invalid URL>"`.
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => endpoint(&u),
        Err(_) => "<invalid URL>".to_owned(),
    }
}

pub(crate) fn endpoint(url: &reqwest::Url) -> String {
    // `host_str` keeps the brackets of an IPv6 literal.
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}
