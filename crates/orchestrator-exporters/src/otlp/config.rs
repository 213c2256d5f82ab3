//! Where and how metrics are pushed over OTLP: the standard variables, or the same settings
//! in code (which win).

use std::time::Duration;

use orchestrator_http::otel_env::{self, Lookup, first_var, otlp_names, var};
use orchestrator_http::{Secret, TlsFiles, TlsMaterial};

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP over gRPC (port 4317 by convention).
    Grpc,
    /// OTLP over HTTP with protobuf bodies (port 4318 by convention; the specification's
    /// default).
    HttpProtobuf,
}

/// How counters and histograms are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Temporality {
    /// Totals since the series started (the default; what Prometheus-backed stores want).
    #[default]
    Cumulative,
    /// What happened since the previous successful push (Datadog, Dynatrace, ...). Gauges
    /// stay gauges.
    Delta,
    /// The specification's `lowmemory`: delta for synchronous counters and histograms,
    /// which every counter and histogram of the registry is, so the same as `Delta` here.
    LowMemory,
}

impl Temporality {
    /// Whether counters and histograms are reported as deltas.
    pub fn is_delta(self) -> bool {
        self != Temporality::Cumulative
    }
}

/// A setting the push cannot use.
#[derive(Debug, thiserror::Error)]
pub enum MetricsConfigError {
    /// A variable (or the same setting in code) holds a value outside its allowed set.
    #[error("{name}={value:?} is invalid: {expected}")]
    Invalid {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
    /// The TLS files are missing, malformed or incomplete (names the variables and path).
    #[error("OTLP metrics TLS: {0}")]
    Tls(String),
    /// A header (from a variable or code) is not a valid HTTP header; its value is never
    /// printed.
    #[error("OTLP metrics header: {0}")]
    Header(String),
    /// The endpoint is not a URL the transport can use.
    #[error("OTLP metrics endpoint {endpoint:?}: {reason}")]
    Endpoint {
        /// The endpoint as given (credentials removed).
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The push thread could not start.
    #[error("the OTLP metrics push thread could not start: {0}")]
    Thread(#[source] std::io::Error),
}

/// Which metric exporters run, from `OTEL_METRICS_EXPORTER`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsExporters {
    /// Whether `/metrics` serves the registry (`prometheus` in the list).
    pub prometheus: bool,
    /// The OTLP push (`otlp` in the list).
    pub otlp: Option<OtlpMetricsConfig>,
}

impl MetricsExporters {
    /// The settings of the standard variables. `OTEL_METRICS_EXPORTER` is a comma-separated
    /// list of `prometheus`, `otlp` and `none`; unset or empty it is `prometheus` (this
    /// library serves `/metrics`; pushing is opt-in, unlike the SDKs' default of `otlp`).
    pub fn from_env() -> Result<Self, MetricsConfigError> {
        Self::from_vars(&otel_env::env_lookup)
    }

    /// As [`from_env`](Self::from_env), reading variables through `lookup`.
    pub fn from_vars(lookup: Lookup<'_>) -> Result<Self, MetricsConfigError> {
        let name = "OTEL_METRICS_EXPORTER";
        let list = var(lookup, name).unwrap_or_else(|| "prometheus".to_owned());
        let (mut prometheus, mut otlp, mut none) = (false, false, false);
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            match item {
                "prometheus" => prometheus = true,
                "otlp" => otlp = true,
                "none" => none = true,
                _ => {
                    return Err(invalid(
                        name,
                        &list,
                        "a comma-separated list of prometheus, otlp, none",
                    ));
                }
            }
        }
        if none && (prometheus || otlp) {
            return Err(invalid(
                name,
                &list,
                "none alone, or prometheus and/or otlp",
            ));
        }
        Ok(MetricsExporters {
            prometheus,
            otlp: if otlp {
                Some(OtlpMetricsConfig::from_vars(lookup)?)
            } else {
                None
            },
        })
    }
}

/// Where, how and how often metrics are pushed.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpMetricsConfig {
    /// The full URL: for HTTP, the `/v1/metrics` URL; for gRPC, the collector's base URL.
    pub endpoint: String,
    /// The transport.
    pub protocol: OtlpProtocol,
    /// Headers sent with every push (an API key). Values are secrets: `***` in `Debug`.
    pub headers: Vec<(String, Secret)>,
    /// A custom CA and a client certificate (mutual TLS) for `https://` endpoints, beside
    /// the system's roots.
    pub tls: TlsMaterial,
    /// The timeout of one push request (`OTEL_EXPORTER_OTLP_METRICS_TIMEOUT`, default 10 s).
    pub timeout: Duration,
    /// Between two pushes (`OTEL_METRIC_EXPORT_INTERVAL`, default 60 s).
    pub interval: Duration,
    /// The longest one push may take, building included (`OTEL_METRIC_EXPORT_TIMEOUT`,
    /// default 30 s). A push gives up at the smaller of this and `timeout`.
    pub export_timeout: Duration,
    /// Cumulative or delta (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).
    pub temporality: Temporality,
    /// Leaves out the seed LLM series the GenAI conventions' metrics stand for
    /// (`orchestrator_llm_latency_seconds`, `…_time_to_first_token_seconds`, the `input` and
    /// `output` series of `orchestrator_llm_tokens`): for a backend that reads only the
    /// conventions. Off by default, so the bundle's dashboards and rules, which read the
    /// seed names, work on pushed metrics too.
    pub conventions_only: bool,
}

/// The specification's default endpoints.
const DEFAULT_HTTP: &str = "http://localhost:4318/v1/metrics";
const DEFAULT_GRPC: &str = "http://localhost:4317";

impl OtlpMetricsConfig {
    /// Pushes to `endpoint` over `protocol` (for HTTP, a base URL gets `/v1/metrics`), with
    /// the defaults for everything else.
    pub fn new(endpoint: impl Into<String>, protocol: OtlpProtocol) -> Self {
        OtlpMetricsConfig {
            endpoint: signal_url(&endpoint.into(), protocol),
            protocol,
            headers: Vec::new(),
            tls: TlsMaterial::default(),
            timeout: Duration::from_secs(10),
            interval: Duration::from_secs(60),
            export_timeout: Duration::from_secs(30),
            temporality: Temporality::Cumulative,
            conventions_only: false,
        }
    }

    /// Adds a header sent with every push.
    pub fn header(mut self, name: impl Into<String>, value: Secret) -> Self {
        self.headers.push((name.into(), value));
        self
    }

    /// Reads and checks TLS files (a custom CA, a client certificate and key).
    pub fn with_tls(mut self, files: &TlsFiles) -> Result<Self, MetricsConfigError> {
        self.tls = files
            .load()
            .map_err(|e| MetricsConfigError::Tls(e.to_string()))?;
        Ok(self)
    }

    /// The OTLP settings of the standard variables: the `OTEL_EXPORTER_OTLP_METRICS_*` ones,
    /// falling back to the general `OTEL_EXPORTER_OTLP_*` ones, `OTEL_METRIC_EXPORT_INTERVAL`
    /// and `OTEL_METRIC_EXPORT_TIMEOUT`. No endpoint set is the protocol's default endpoint
    /// (`http://localhost:4318/v1/metrics`, or `http://localhost:4317` for gRPC). A
    /// malformed value is an error naming the variable; an empty one is unset.
    pub fn from_vars(lookup: Lookup<'_>) -> Result<Self, MetricsConfigError> {
        let protocol = match first_var(lookup, &otlp_names("METRICS", "PROTOCOL")) {
            None => OtlpProtocol::HttpProtobuf,
            Some((_, v)) if v.trim() == "grpc" => OtlpProtocol::Grpc,
            Some((_, v)) if v.trim() == "http/protobuf" => OtlpProtocol::HttpProtobuf,
            Some((name, value)) => {
                return Err(invalid(&name, &value, "grpc or http/protobuf"));
            }
        };
        let endpoint = match (
            var(lookup, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
            var(lookup, "OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            // The signal's own variable is used as given.
            (Some(own), _) => own.trim().to_owned(),
            (None, Some(base)) => signal_url(base.trim(), protocol),
            (None, None) => match protocol {
                OtlpProtocol::Grpc => DEFAULT_GRPC.to_owned(),
                OtlpProtocol::HttpProtobuf => DEFAULT_HTTP.to_owned(),
            },
        };
        let mut config = OtlpMetricsConfig::new("", protocol);
        config.endpoint = endpoint;
        if let Some((name, value)) = first_var(lookup, &otlp_names("METRICS", "TIMEOUT")) {
            config.timeout = millis(&name, &value, false)?;
        }
        if let Some(value) = var(lookup, "OTEL_METRIC_EXPORT_INTERVAL") {
            config.interval = millis("OTEL_METRIC_EXPORT_INTERVAL", &value, true)?;
        }
        if let Some(value) = var(lookup, "OTEL_METRIC_EXPORT_TIMEOUT") {
            config.export_timeout = millis("OTEL_METRIC_EXPORT_TIMEOUT", &value, true)?;
        }
        let name = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
        if let Some(value) = var(lookup, name) {
            config.temporality = match value.trim().to_ascii_lowercase().as_str() {
                "cumulative" => Temporality::Cumulative,
                "delta" => Temporality::Delta,
                "lowmemory" => Temporality::LowMemory,
                _ => return Err(invalid(name, &value, "cumulative, delta or lowmemory")),
            };
        }
        if let Some((name, value)) = first_var(lookup, &otlp_names("METRICS", "HEADERS")) {
            let headers = otel_env::parse_headers(&value)
                .map_err(|reason| MetricsConfigError::Header(format!("{name}: {reason}")))?;
            config.headers = headers
                .into_iter()
                .map(|(k, v)| (k, Secret::new(v)))
                .collect();
        }
        config.tls =
            otel_env::tls(lookup, "METRICS").map_err(|e| MetricsConfigError::Tls(e.to_string()))?;
        Ok(config)
    }
}

/// A base URL made the metrics URL of its protocol: `/v1/metrics` appended for HTTP.
fn signal_url(base: &str, protocol: OtlpProtocol) -> String {
    match protocol {
        OtlpProtocol::Grpc => base.to_owned(),
        OtlpProtocol::HttpProtobuf if base.is_empty() => DEFAULT_HTTP.to_owned(),
        OtlpProtocol::HttpProtobuf => format!("{}/v1/metrics", base.trim_end_matches('/')),
    }
}

fn invalid(name: &str, value: &str, expected: &'static str) -> MetricsConfigError {
    MetricsConfigError::Invalid {
        name: name.to_owned(),
        value: value.to_owned(),
        expected,
    }
}

/// A whole number of milliseconds; `positive` refuses zero.
fn millis(name: &str, value: &str, positive: bool) -> Result<Duration, MetricsConfigError> {
    match value.trim().parse::<u64>() {
        Ok(0) if positive => Err(invalid(
            name,
            value,
            "a positive whole number of milliseconds",
        )),
        Ok(ms) => Ok(Duration::from_millis(ms)),
        Err(_) => Err(invalid(
            name,
            value,
            if positive {
                "a positive whole number of milliseconds"
            } else {
                "a whole number of milliseconds"
            },
        )),
    }
}

#[cfg(test)]
mod tests;
