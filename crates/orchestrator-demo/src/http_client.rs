//! The demo's outgoing HTTP client: hyper's pooled client, a `tower::Service` the telemetry
//! layer wraps.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A pooled HTTP/1.1 client with full (non-streamed) request bodies.
pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A new client.
pub fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}
