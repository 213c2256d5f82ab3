//! TLS and headers of the OTLP exporter: a custom CA and a client certificate from the
//! standard variables (or in code), applied to tonic (gRPC) and to the reqwest client of
//! OTLP/HTTP. One TLS stack: rustls with aws-lc-rs, system roots plus the custom CA.

use std::collections::HashMap;

use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use opentelemetry_otlp::tonic_types::transport::{Certificate, ClientTlsConfig, Identity};
use orchestrator_http::TlsMaterial;

use super::{ExportConfigError, OtlpConfig};
use crate::Lookup;

/// Reads and checks the TLS files the variables name (`OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`,
/// then `OTEL_EXPORTER_OTLP_CERTIFICATE`, and the client certificate's). A missing or
/// malformed file, or a client certificate without its key (or the reverse), is an error
/// naming the variables and the path.
pub(super) fn from_vars(lookup: Lookup<'_>) -> Result<TlsMaterial, ExportConfigError> {
    orchestrator_http::otel_env::tls(lookup, "TRACES")
        .map_err(|e| ExportConfigError::Tls(e.to_string()))
}

/// The gRPC exporter's TLS: the system's roots, the custom CA, the client certificate. tonic
/// uses it for `https://` endpoints only.
pub(super) fn tonic(config: &OtlpConfig) -> ClientTlsConfig {
    let mut tls = ClientTlsConfig::new().with_native_roots();
    if let Some(ca) = config.tls.ca_pem() {
        tls = tls.ca_certificate(Certificate::from_pem(ca));
    }
    if let Some((cert, key)) = config.tls.identity_pem() {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    tls
}

/// The OTLP/HTTP exporter's client: reqwest with rustls, the system's roots and the custom
/// CA, the client certificate, no redirects.
pub(super) fn http_client(config: &OtlpConfig) -> Result<reqwest::Client, ExportConfigError> {
    let builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    config
        .tls
        .configure(builder)
        .map_err(|e| ExportConfigError::Tls(e.to_string()))?
        .build()
        .map_err(|e| ExportConfigError::Build(Box::new(e)))
}

/// The headers set in code, for OTLP/HTTP (those of `OTEL_EXPORTER_OTLP_HEADERS` are added
/// by opentelemetry-otlp).
pub(super) fn http_headers(config: &OtlpConfig) -> HashMap<String, String> {
    config
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.expose().to_owned()))
        .collect()
}

/// The headers set in code, as gRPC metadata.
pub(super) fn metadata(config: &OtlpConfig) -> Result<MetadataMap, ExportConfigError> {
    let mut headers = http::HeaderMap::new();
    for (k, v) in &config.headers {
        let name = http::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| ExportConfigError::InvalidHeader { name: k.clone() })?;
        let value = http::HeaderValue::from_str(v.expose())
            .map_err(|_| ExportConfigError::InvalidHeader { name: k.clone() })?;
        headers.insert(name, value);
    }
    Ok(MetadataMap::from_headers(headers))
}
