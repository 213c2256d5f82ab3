//! OTLP export: a bounded queue of finished traces, drained by an export thread that owns a
//! current-thread Tokio runtime, feeding `opentelemetry-otlp`'s span exporter (gRPC through
//! tonic, or HTTP/protobuf).
//!
//! Why not the SDK's `BatchSpanProcessor`: its drops are not observable (they must be counted
//! in `orchestrator_telemetry_dropped_total{queue="spans"}`), and its thread-based variant runs
//! exporters outside a Tokio runtime, where the tonic exporter cannot work (the
//! "no reactor running" trap). This queue has the same `OTEL_BSP_*` settings, owns its
//! runtime, and so works whether the caller runs Tokio or not.

mod processor;
mod queue;
mod tls;

use std::time::Duration;

use orchestrator_http::{Secret, TlsFiles, TlsMaterial};

use crate::Lookup;

pub use processor::QueueProcessor;
pub use queue::ExportFailure;
pub(crate) use queue::{Drops, Exporter};

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP over gRPC (port 4317 by convention).
    Grpc,
    /// OTLP over HTTP with protobuf bodies (port 4318 by convention).
    HttpProtobuf,
}

/// A configuration the exporter cannot use.
#[derive(Debug, thiserror::Error)]
pub enum ExportConfigError {
    /// A variable holds a value outside its allowed set or range.
    #[error("{name}={value:?} is invalid: {expected}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
    /// The exporter could not be built (a malformed endpoint, for example).
    #[error("the OTLP exporter could not be built: {0}")]
    Build(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The TLS files are missing, malformed or incomplete (names the variables and the
    /// path).
    #[error("OTLP TLS: {0}")]
    Tls(String),
    /// The export thread, or its runtime, could not be started.
    #[error("the export thread could not be started: {0}")]
    Thread(#[source] std::io::Error),
    /// A header set in code is not a valid HTTP header name or value (the value is never
    /// printed: it is usually a credential).
    #[error("the OTLP header `{name}` is not a valid HTTP header name or value")]
    InvalidHeader {
        /// The header's name, as given.
        name: String,
    },
    /// The export thread ended before saying whether the exporter was built.
    #[error("the export thread exited before the exporter was built")]
    ThreadExited,
}

/// Where and how spans are exported.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpConfig {
    /// The collector's base URL (`http://collector:4317`). `None` lets `opentelemetry-otlp`
    /// read `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT`. For HTTP,
    /// `/v1/traces` is appended to a base URL given here, as to the generic variable.
    pub endpoint: Option<String>,
    /// The transport.
    pub protocol: Protocol,
    /// The timeout of one export request; `None` reads `OTEL_EXPORTER_OTLP_TIMEOUT`
    /// (default 10 s).
    pub timeout: Option<Duration>,
    /// The batch queue.
    pub batch: BatchConfig,
    /// A custom CA and a client certificate (mutual TLS) for `https://` endpoints, beside
    /// the system's roots; see [`OtlpConfig::with_tls`].
    pub tls: TlsMaterial,
    /// Headers sent with every export (an API key, say), besides those of
    /// `OTEL_EXPORTER_OTLP_HEADERS`. Values are secrets: `***` in `Debug`.
    pub headers: Vec<(String, Secret)>,
}

impl OtlpConfig {
    /// Export to `endpoint` over `protocol`, with the default batch settings.
    pub fn new(endpoint: impl Into<String>, protocol: Protocol) -> Self {
        OtlpConfig {
            endpoint: Some(endpoint.into()),
            protocol,
            timeout: None,
            batch: BatchConfig::default(),
            tls: TlsMaterial::default(),
            headers: Vec::new(),
        }
    }

    /// Reads and checks TLS files (a custom CA, a client certificate and key): a missing or
    /// malformed file is an error naming it.
    pub fn with_tls(mut self, files: &TlsFiles) -> Result<Self, ExportConfigError> {
        self.tls = files
            .load()
            .map_err(|e| ExportConfigError::Tls(e.to_string()))?;
        Ok(self)
    }

    /// Adds a header sent with every export (`x-api-key`, `authorization`).
    pub fn header(mut self, name: impl Into<String>, value: Secret) -> Self {
        self.headers.push((name.into(), value));
        self
    }

    /// The export configuration of the standard variables, or `None` when no endpoint is
    /// set (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT`) or
    /// `OTEL_TRACES_EXPORTER=none`. Reads the protocol (`grpc` or `http/protobuf`), the
    /// timeout, the TLS files (`OTEL_EXPORTER_OTLP_CERTIFICATE`,
    /// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`, `OTEL_EXPORTER_OTLP_CLIENT_KEY`, and their
    /// `_TRACES_` forms) and the `OTEL_BSP_*` batch settings; a malformed value or an
    /// unreadable file is an error. `OTEL_EXPORTER_OTLP_HEADERS` is read by
    /// opentelemetry-otlp when the exporter is built.
    pub fn from_env() -> Result<Option<Self>, ExportConfigError> {
        Self::from_vars(&crate::env_lookup)
    }

    /// As [`OtlpConfig::from_env`], reading variables through `lookup`.
    pub fn from_vars(lookup: Lookup<'_>) -> Result<Option<Self>, ExportConfigError> {
        match var(lookup, "OTEL_TRACES_EXPORTER")?
            .as_deref()
            .map(str::trim)
        {
            None | Some("otlp") | Some("") => {}
            Some("none") => return Ok(None),
            Some(other) => {
                return Err(ExportConfigError::Invalid {
                    name: "OTEL_TRACES_EXPORTER",
                    value: other.to_owned(),
                    expected: "otlp or none",
                });
            }
        }
        let endpoint_set = var(lookup, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")?
            .or(var(lookup, "OTEL_EXPORTER_OTLP_ENDPOINT")?)
            .is_some_and(|e| !e.trim().is_empty());
        if !endpoint_set {
            return Ok(None);
        }
        let protocol = match first_var(
            lookup,
            &[
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                "OTEL_EXPORTER_OTLP_PROTOCOL",
            ],
        )? {
            None => Protocol::HttpProtobuf, // the specification's default
            Some((_, v)) if v.trim() == "grpc" => Protocol::Grpc,
            Some((_, v)) if v.trim() == "http/protobuf" => Protocol::HttpProtobuf,
            Some((name, value)) => {
                return Err(ExportConfigError::Invalid {
                    name,
                    value,
                    expected: "grpc or http/protobuf",
                });
            }
        };
        let timeout = match first_var(
            lookup,
            &[
                "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
                "OTEL_EXPORTER_OTLP_TIMEOUT",
            ],
        )? {
            None => None,
            Some((name, value)) => Some(Duration::from_millis(millis(name, &value)?)),
        };
        Ok(Some(OtlpConfig {
            endpoint: None,
            protocol,
            timeout,
            batch: BatchConfig::from_vars(lookup)?,
            tls: tls::from_vars(lookup)?,
            headers: Vec::new(),
        }))
    }
}

/// The batch queue's settings, as `OTEL_BSP_*` name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// Spans the queue holds at most; beyond, new spans are dropped and counted
    /// (`OTEL_BSP_MAX_QUEUE_SIZE`, default 2048).
    pub max_queue_size: usize,
    /// The longest a span waits before its batch is sent (`OTEL_BSP_SCHEDULE_DELAY`,
    /// default 5 s).
    pub scheduled_delay: Duration,
    /// Spans per export request at most (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, default 512).
    pub max_export_batch_size: usize,
    /// The longest one export may take (`OTEL_BSP_EXPORT_TIMEOUT`, default 30 s).
    pub export_timeout: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_queue_size: 2048,
            scheduled_delay: Duration::from_secs(5),
            max_export_batch_size: 512,
            export_timeout: Duration::from_secs(30),
        }
    }
}

impl BatchConfig {
    /// The defaults, overridden by the `OTEL_BSP_*` variables that are set.
    pub fn from_env() -> Result<Self, ExportConfigError> {
        Self::from_vars(&crate::env_lookup)
    }

    /// As [`BatchConfig::from_env`], reading variables through `lookup`.
    pub fn from_vars(lookup: Lookup<'_>) -> Result<Self, ExportConfigError> {
        let mut config = BatchConfig::default();
        if let Some(v) = var(lookup, "OTEL_BSP_MAX_QUEUE_SIZE")? {
            config.max_queue_size = positive("OTEL_BSP_MAX_QUEUE_SIZE", &v)?;
        }
        if let Some(v) = var(lookup, "OTEL_BSP_SCHEDULE_DELAY")? {
            config.scheduled_delay = Duration::from_millis(millis("OTEL_BSP_SCHEDULE_DELAY", &v)?);
        }
        if let Some(v) = var(lookup, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE")? {
            config.max_export_batch_size = positive("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", &v)?;
        }
        if let Some(v) = var(lookup, "OTEL_BSP_EXPORT_TIMEOUT")? {
            config.export_timeout = Duration::from_millis(millis("OTEL_BSP_EXPORT_TIMEOUT", &v)?);
        }
        config.validate()?;
        Ok(config)
    }

    pub(crate) fn validate(&self) -> Result<(), ExportConfigError> {
        if self.max_export_batch_size > self.max_queue_size || self.max_queue_size == 0 {
            return Err(ExportConfigError::Invalid {
                name: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                value: self.max_export_batch_size.to_string(),
                expected: "a positive number no larger than OTEL_BSP_MAX_QUEUE_SIZE",
            });
        }
        Ok(())
    }
}

/// A variable's value; empty (or blank) is unset, as the OpenTelemetry specification says, so
/// a `_TRACES_` variable left empty falls back to the general one.
fn var(lookup: Lookup<'_>, name: &'static str) -> Result<Option<String>, ExportConfigError> {
    Ok(lookup(name).filter(|v| !v.trim().is_empty()))
}

fn first_var(
    lookup: Lookup<'_>,
    names: &[&'static str],
) -> Result<Option<(&'static str, String)>, ExportConfigError> {
    for &name in names {
        if let Some(v) = var(lookup, name)? {
            return Ok(Some((name, v)));
        }
    }
    Ok(None)
}

fn millis(name: &'static str, value: &str) -> Result<u64, ExportConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| ExportConfigError::Invalid {
            name,
            value: value.to_owned(),
            expected: "a whole number of milliseconds",
        })
}

fn positive(name: &'static str, value: &str) -> Result<usize, ExportConfigError> {
    match value.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ExportConfigError::Invalid {
            name,
            value: value.to_owned(),
            expected: "a positive whole number",
        }),
    }
}
