//! What can go wrong with one call.

use std::time::Duration;

/// Why a call failed. `endpoint` is `scheme://host:port` only: never a path, query or
/// credentials (see [`crate::redact`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The URL cannot be used (not `http` or `https`, no host, malformed).
    #[error("invalid URL {endpoint}: {reason}")]
    InvalidUrl {
        /// What can be shown of the URL.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// No connection could be made (refused, unreachable, name not resolved).
    #[error("cannot connect to {endpoint}: {reason}")]
    Connect {
        /// Where.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The TLS handshake failed (an untrusted or expired certificate, a refused client
    /// certificate, a wrong name).
    #[error("TLS with {endpoint} failed: {reason}")]
    Tls {
        /// Where.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The whole call (connect, TLS, headers and body) did not end within its deadline.
    #[error("{endpoint} did not answer in full within {deadline:?}")]
    Deadline {
        /// Where.
        endpoint: String,
        /// The deadline.
        deadline: Duration,
    },
    /// The reply's body is larger than the cap; reading stopped there.
    #[error("the reply of {endpoint} is larger than {limit} bytes")]
    BodyTooLarge {
        /// Where.
        endpoint: String,
        /// The cap.
        limit: usize,
    },
    /// Redirects were followed past their limit (or in a loop).
    #[error("too many redirects from {endpoint} (at most {limit})")]
    Redirects {
        /// Where.
        endpoint: String,
        /// The limit.
        limit: usize,
    },
    /// The server answered with a status that is not a success.
    #[error("{endpoint} answered HTTP {status}: {body}")]
    Status {
        /// Where.
        endpoint: String,
        /// The status code.
        status: u16,
        /// The start of the body (512 bytes at most, lossy UTF-8).
        body: String,
    },
    /// The connection broke while sending or receiving.
    #[error("talking to {endpoint} failed: {reason}")]
    Io {
        /// Where.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The body is not the JSON that was asked for.
    #[error("{endpoint} did not answer JSON: {reason}")]
    NotJson {
        /// Where.
        endpoint: String,
        /// The parse error.
        reason: String,
    },
    /// The client could not be built (a TLS setting reqwest refused, no runtime).
    #[error("the HTTP client cannot be built: {0}")]
    Build(String),
}

impl HttpError {
    /// Whether trying again later may succeed: connection failures, deadlines, broken
    /// connections, `408`, `429` and `5xx`. TLS failures, redirects, oversized bodies and
    /// other statuses will fail the same way again.
    pub fn is_retryable(&self) -> bool {
        match self {
            HttpError::Connect { .. } | HttpError::Deadline { .. } | HttpError::Io { .. } => true,
            HttpError::Status { status, .. } => {
                *status == 408 || *status == 429 || (500..600).contains(status)
            }
            _ => false,
        }
    }

    /// The status code, when the server answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Classifies a reqwest error (its URL is never shown).
    pub(crate) fn from_reqwest(
        endpoint: &str,
        err: &reqwest::Error,
        redirects: usize,
        deadline: Duration,
    ) -> Self {
        let endpoint = endpoint.to_owned();
        let reason = chain(err);
        if err.is_timeout() {
            HttpError::Deadline { endpoint, deadline }
        } else if err.is_redirect() {
            HttpError::Redirects {
                endpoint,
                limit: redirects,
            }
        } else if is_tls(err) {
            HttpError::Tls { endpoint, reason }
        } else if err.is_connect() {
            HttpError::Connect { endpoint, reason }
        } else if err.is_builder() {
            HttpError::InvalidUrl { endpoint, reason }
        } else {
            HttpError::Io { endpoint, reason }
        }
    }
}

/// The error's sources, joined, without the URL reqwest puts in its own message.
fn chain(err: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(
            if err.is_body() {
                "body error"
            } else {
                "request error"
            }
            .to_owned(),
        );
    }
    parts.join(": ")
}

fn is_tls(err: &reqwest::Error) -> bool {
    is_tls_error(err)
}

/// Whether a rustls error is somewhere in `err`'s chain of sources (also through the
/// `io::Error`s tokio-rustls wraps them in): a TLS failure (an untrusted certificate, a
/// refused client certificate) that retrying will not fix. For errors of other crates built
/// on rustls, such as lettre's.
pub fn is_tls_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(s) = source {
        if s.is::<rustls::Error>() {
            return true;
        }
        // tokio-rustls wraps rustls errors in `io::Error`s, sometimes twice, and
        // `io::Error::source` skips the wrapped error itself: unwrap them by hand.
        let mut io = s.downcast_ref::<std::io::Error>();
        while let Some(inner) = io.and_then(std::io::Error::get_ref) {
            if inner.is::<rustls::Error>() {
                return true;
            }
            io = inner.downcast_ref::<std::io::Error>();
        }
        source = s.source();
    }
    false
}
