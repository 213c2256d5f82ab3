//! The standard `OTEL_EXPORTER_OTLP_*` variables that every OTLP signal reads the same way:
//! the signal's own variable first (`OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`), then the
//! general one; an empty or blank value is unset, as the OpenTelemetry specification says.

use std::borrow::Cow;

use crate::{TlsError, TlsFiles, TlsMaterial};

/// A variable of the OTLP exporters that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OtelEnvError {
    /// A client certificate is set without its key, or the reverse.
    #[error("{present} is set but {missing} is not: a client certificate and its key go together")]
    Unpaired {
        /// The variable that is set.
        present: String,
        /// The one that is not.
        missing: String,
    },
    /// A TLS file is missing or malformed (the error names the variable and the path).
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A `key=value` list is malformed; says how, never quoting a value (often a credential).
    #[error("{0}")]
    Pairs(&'static str),
}

/// Reads one variable (the environment, or a map in tests).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment. A value that is not Unicode is passed on lossily converted, so
/// that it fails validation with its name instead of reading as unset.
pub fn env_lookup(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) => Some(v),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(raw)) => Some(raw.to_string_lossy().into_owned()),
    }
}

/// A variable's value; empty (or blank) is unset.
pub fn var(lookup: Lookup<'_>, name: &str) -> Option<String> {
    lookup(name).filter(|v| !v.trim().is_empty())
}

/// The first of `names` that is set, with its name.
pub fn first_var<N: AsRef<str>>(lookup: Lookup<'_>, names: &[N]) -> Option<(String, String)> {
    names
        .iter()
        .find_map(|n| var(lookup, n.as_ref()).map(|v| (n.as_ref().to_owned(), v)))
}

/// `OTEL_EXPORTER_OTLP_{SIGNAL}_{setting}` then `OTEL_EXPORTER_OTLP_{setting}`.
pub fn otlp_names(signal: &str, setting: &str) -> [String; 2] {
    [
        format!("OTEL_EXPORTER_OTLP_{signal}_{setting}"),
        format!("OTEL_EXPORTER_OTLP_{setting}"),
    ]
}

/// Reads and checks the TLS files the variables of `signal` (`TRACES`, `METRICS`) name: the
/// custom CA (`…_CERTIFICATE`), the client certificate and key (`…_CLIENT_CERTIFICATE`,
/// `…_CLIENT_KEY`). A missing or malformed file, or a certificate without its key (or the
/// reverse), is an error naming the variables and the path.
pub fn tls(lookup: Lookup<'_>, signal: &str) -> Result<TlsMaterial, OtelEnvError> {
    let mut files = TlsFiles::new();
    if let Some((name, path)) = first_var(lookup, &otlp_names(signal, "CERTIFICATE")) {
        files = files.ca(Cow::Owned(name), path.trim().to_owned());
    }
    let cert_names = otlp_names(signal, "CLIENT_CERTIFICATE");
    let key_names = otlp_names(signal, "CLIENT_KEY");
    match (
        first_var(lookup, &cert_names),
        first_var(lookup, &key_names),
    ) {
        (Some((cert_name, cert)), Some((key_name, key))) => {
            files = files
                .client_cert(Cow::Owned(cert_name), cert.trim().to_owned())
                .client_key(Cow::Owned(key_name), key.trim().to_owned());
        }
        (Some((present, _)), None) => {
            let [_, missing] = key_names;
            return Err(OtelEnvError::Unpaired { present, missing });
        }
        (None, Some((present, _))) => {
            let [_, missing] = cert_names;
            return Err(OtelEnvError::Unpaired { present, missing });
        }
        (None, None) => {}
    }
    Ok(files.load()?)
}

/// Parses an `OTEL_EXPORTER_OTLP_HEADERS` value: `key=value` pairs separated by commas, each
/// part percent-decoded (W3C Baggage's format, as the specification says). A pair without
/// `=` or with an empty key is an error quoting the pair's key side (never a value: it is
/// usually a credential).
pub fn parse_headers(value: &str) -> Result<Vec<(String, String)>, OtelEnvError> {
    let mut headers = Vec::new();
    for pair in value.split(',').filter(|p| !p.trim().is_empty()) {
        let Some((key, val)) = pair.split_once('=') else {
            return Err(OtelEnvError::Pairs(
                "a pair without `=` (expected key=value pairs separated by commas)",
            ));
        };
        let key = percent_decode(key.trim());
        if key.is_empty() {
            return Err(OtelEnvError::Pairs("a pair with an empty key"));
        }
        headers.push((key, percent_decode(val.trim())));
    }
    Ok(headers)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_pairs_percent_decoded() {
        assert_eq!(
            parse_headers("api-key=a%20b%3Dc, x-team = ops ,").unwrap(),
            [
                ("api-key".to_owned(), "a b=c".to_owned()),
                ("x-team".to_owned(), "ops".to_owned())
            ]
        );
        assert!(parse_headers("secret-without-equals").is_err());
        assert!(parse_headers("=value").is_err());
        assert_eq!(parse_headers("").unwrap(), []);
    }

    #[test]
    fn the_signal_variable_wins_and_blank_is_unset() {
        let lookup = |n: &str| match n {
            "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT" => Some(" ".to_owned()),
            "OTEL_EXPORTER_OTLP_TIMEOUT" => Some("500".to_owned()),
            _ => None,
        };
        assert_eq!(
            first_var(&lookup, &otlp_names("METRICS", "TIMEOUT")),
            Some(("OTEL_EXPORTER_OTLP_TIMEOUT".to_owned(), "500".to_owned()))
        );
    }

    #[test]
    fn a_certificate_without_its_key_is_named() {
        let lookup = |n: &str| {
            (n == "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE").then(|| "/x.pem".to_owned())
        };
        let err = tls(&lookup, "METRICS").unwrap_err().to_string();
        assert!(
            err.contains("OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE"),
            "{err}"
        );
        assert!(err.contains("OTEL_EXPORTER_OTLP_CLIENT_KEY"), "{err}");
    }
}
