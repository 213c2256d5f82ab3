//! Sending one request: OTLP/gRPC through tonic, OTLP/HTTP through reqwest, both with rustls
//! (the system's roots, the custom CA, the client certificate) and the configured headers.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use prost::Message as _;
use tonic::metadata::MetadataMap;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use super::config::{MetricsConfigError, OtlpMetricsConfig, OtlpProtocol};

/// What the backend said of an accepted request.
#[derive(Debug, Default)]
pub(super) struct Accepted {
    /// Data points it rejected (`partial_success`).
    pub(super) rejected: i64,
    /// Its message about them.
    pub(super) message: String,
}

/// A connection to the backend.
#[derive(Debug)]
pub(super) enum Transport {
    /// gRPC, with the headers as metadata.
    Grpc {
        /// The client (its channel connects lazily).
        client: MetricsServiceClient<Channel>,
        /// The headers.
        metadata: MetadataMap,
    },
    /// HTTP/protobuf.
    Http {
        /// The client.
        client: reqwest::Client,
        /// The `/v1/metrics` URL.
        url: reqwest::Url,
        /// The headers.
        headers: http::HeaderMap,
    },
}

fn endpoint_error(config: &OtlpMetricsConfig, reason: impl ToString) -> MetricsConfigError {
    MetricsConfigError::Endpoint {
        endpoint: orchestrator_http::redact(&config.endpoint),
        reason: reason.to_string(),
    }
}

fn header_map(config: &OtlpMetricsConfig) -> Result<http::HeaderMap, MetricsConfigError> {
    let mut headers = http::HeaderMap::new();
    for (k, v) in &config.headers {
        let refused = || MetricsConfigError::Header(format!("`{k}` is not a valid HTTP header"));
        let name = http::HeaderName::from_bytes(k.as_bytes()).map_err(|_| refused())?;
        let value = http::HeaderValue::from_str(v.expose()).map_err(|_| refused())?;
        headers.insert(name, value);
    }
    Ok(headers)
}

impl Transport {
    /// Builds the transport; must run inside a Tokio runtime (tonic's lazy channel).
    pub(super) fn new(config: &OtlpMetricsConfig) -> Result<Self, MetricsConfigError> {
        let url = reqwest::Url::parse(&config.endpoint).map_err(|e| endpoint_error(config, e))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(endpoint_error(config, "the scheme must be http or https"));
        }
        let headers = header_map(config)?;
        match config.protocol {
            OtlpProtocol::Grpc => {
                let mut endpoint = Channel::from_shared(config.endpoint.clone())
                    .map_err(|e| endpoint_error(config, e))?
                    .connect_timeout(config.timeout)
                    .timeout(config.timeout);
                if url.scheme() == "https" {
                    let mut tls = ClientTlsConfig::new().with_native_roots();
                    if let Some(ca) = config.tls.ca_pem() {
                        tls = tls.ca_certificate(Certificate::from_pem(ca));
                    }
                    if let Some((cert, key)) = config.tls.identity_pem() {
                        tls = tls.identity(Identity::from_pem(cert, key));
                    }
                    endpoint = endpoint
                        .tls_config(tls)
                        .map_err(|e| MetricsConfigError::Tls(e.to_string()))?;
                }
                Ok(Transport::Grpc {
                    client: MetricsServiceClient::new(endpoint.connect_lazy()),
                    metadata: MetadataMap::from_headers(headers),
                })
            }
            OtlpProtocol::HttpProtobuf => {
                // No idle connections kept: the runtime that would drive them runs only
                // while a push is sent, so a pooled connection is never reused or closed,
                // and each push left one more behind (33 KB each, measured).
                let builder = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .pool_max_idle_per_host(0)
                    .timeout(config.timeout);
                let client = config
                    .tls
                    .configure(builder)
                    .map_err(|e| MetricsConfigError::Tls(e.to_string()))?
                    .build()
                    .map_err(|e| MetricsConfigError::Tls(e.to_string()))?;
                Ok(Transport::Http {
                    client,
                    url,
                    headers,
                })
            }
        }
    }

    /// Sends `request`, giving up after `deadline`.
    pub(super) async fn send(
        &mut self,
        request: &ExportMetricsServiceRequest,
        deadline: Duration,
    ) -> Result<Accepted, String> {
        match tokio::time::timeout(deadline, self.send_inner(request)).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {deadline:?}")),
        }
    }

    async fn send_inner(
        &mut self,
        request: &ExportMetricsServiceRequest,
    ) -> Result<Accepted, String> {
        let response = match self {
            Transport::Grpc { client, metadata } => {
                let mut call = tonic::Request::new(request.clone());
                *call.metadata_mut() = metadata.clone();
                client
                    .export(call)
                    .await
                    .map_err(|status| format!("gRPC {:?}: {}", status.code(), status.message()))?
                    .into_inner()
            }
            Transport::Http {
                client,
                url,
                headers,
            } => {
                let reply = client
                    .post(url.clone())
                    .headers(headers.clone())
                    .header("content-type", "application/x-protobuf")
                    .body(request.encode_to_vec())
                    .send()
                    .await
                    .map_err(reqwest_reason)?;
                let status = reply.status();
                let body = reply.bytes().await.map_err(|e| e.to_string())?;
                if !status.is_success() {
                    return Err(format!("HTTP {}", status.as_u16()));
                }
                ExportMetricsServiceResponse::decode(body).unwrap_or_default()
            }
        };
        Ok(match response.partial_success {
            Some(p) => Accepted {
                rejected: p.rejected_data_points,
                message: p.error_message,
            },
            None => Accepted::default(),
        })
    }
}

/// A reqwest error with its causes, without the URL (it may hold a token).
fn reqwest_reason(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
