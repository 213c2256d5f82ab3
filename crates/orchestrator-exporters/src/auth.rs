//! Optional bearer-token authentication of everything the telemetry listener serves
//! (`/metrics`, `/dashboard`, `/api`).
//!
//! API clients and Prometheus send `Authorization: Bearer <token>` (Prometheus:
//! `authorization: { credentials: ... }` in the scrape job). A browser opens
//! `/dashboard?token=<token>` once: the answer sets an `HttpOnly`, `SameSite=Strict` cookie
//! and redirects to `/dashboard`, so the token leaves the address bar and the page's own
//! requests carry the cookie.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rand::TryRngCore as _;

/// The cookie the page's login sets.
pub const COOKIE: &str = "orchestrator_telemetry_session";

/// Why bearer-token authentication cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token is empty or blank: it would let anyone in.
    #[error("the bearer token is empty: it would let anyone in")]
    EmptyToken,
    /// The operating system gave no randomness for the session secret.
    #[error("no randomness for the login session secret: {0}")]
    Randomness(#[source] rand::rand_core::OsError),
}

/// Bearer-token authentication, shared by every router it protects (the `/metrics`
/// listener and the live page merged into the orchestrator's own router), so that one login
/// works for all of them.
///
/// The browser's cookie never holds the token: it holds a random session secret drawn when
/// this is made (so it dies with the process), because browsers do not scope cookies by
/// port and every service on the host would otherwise receive the scrape credential.
#[derive(Clone)]
pub struct BearerAuth {
    inner: Arc<Inner>,
    secure: bool,
}

struct Inner {
    token: Box<str>,
    session: Box<str>,
}

impl std::fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerAuth")
            .field("token", &"***")
            .field("secure_cookie", &self.secure)
            .finish()
    }
}

impl BearerAuth {
    /// Requires `token`; an empty (or blank) token is an error.
    pub fn new(token: &str) -> Result<Self, AuthError> {
        if token.trim().is_empty() {
            return Err(AuthError::EmptyToken);
        }
        let mut secret = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut secret)
            .map_err(AuthError::Randomness)?;
        let session: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        Ok(BearerAuth {
            inner: Arc::new(Inner {
                token: token.into(),
                session: session.into(),
            }),
            secure: false,
        })
    }

    /// Marks the login cookie `Secure`: set it when the page is served behind https (a
    /// TLS-terminating proxy), so that the browser never sends it in clear.
    pub fn secure_cookie(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Requires the token (or the login cookie) on every route of `router`.
    pub fn protect<S>(&self, router: Router<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        router.layer(middleware::from_fn_with_state(self.clone(), check))
    }
}

/// Requires `token` on every route of `router` (a [`BearerAuth`] of its own; use one
/// [`BearerAuth`] for several routers so that one login works for all).
pub fn require_bearer<S>(router: Router<S>, token: &str) -> Result<Router<S>, AuthError>
where
    S: Clone + Send + Sync + 'static,
{
    Ok(BearerAuth::new(token)?.protect(router))
}

/// Compares in time independent of where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn bearer(headers: &HeaderMap) -> Vec<&[u8]> {
    headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .map(HeaderValue::as_bytes)
        .filter(|b| b.len() > 7 && b[..7].eq_ignore_ascii_case(b"bearer "))
        .map(|b| b[7..].trim_ascii())
        .collect()
}

fn cookies(headers: &HeaderMap) -> Vec<&[u8]> {
    let mut found = Vec::new();
    for value in headers.get_all(header::COOKIE) {
        for pair in value.as_bytes().split(|&b| b == b';') {
            let pair = pair.trim_ascii();
            if let Some(v) = pair
                .strip_prefix(COOKIE.as_bytes())
                .and_then(|rest| rest.strip_prefix(b"="))
            {
                found.push(v);
            }
        }
    }
    found
}

/// The `token` query parameter, percent-decoded (`+` is a space, as forms send it).
fn query_token(request: &Request) -> Option<Vec<u8>> {
    let raw = request
        .uri()
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'%' => return None,
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

async fn check(State(auth): State<BearerAuth>, request: Request, next: Next) -> Response {
    let inner = &auth.inner;
    let headers = request.headers();
    if bearer(headers)
        .iter()
        .any(|t| same(t, inner.token.as_bytes()))
        || cookies(headers)
            .iter()
            .any(|c| same(c, inner.session.as_bytes()))
    {
        return next.run(request).await;
    }
    // The browser's login: /dashboard?token=... sets the session cookie and redirects.
    if request.uri().path() == "/dashboard"
        && query_token(&request).is_some_and(|t| same(&t, inner.token.as_bytes()))
    {
        let secure = if auth.secure { "; Secure" } else { "" };
        let cookie = format!(
            "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/{secure}",
            inner.session
        );
        if let Ok(cookie) = HeaderValue::from_str(&cookie) {
            let mut response = StatusCode::SEE_OTHER.into_response();
            let h = response.headers_mut();
            h.insert(header::SET_COOKIE, cookie);
            h.insert(header::LOCATION, HeaderValue::from_static("/dashboard"));
            // The token was in the address: keep it out of caches and of referrers.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            return response;
        }
    }
    let mut response = (StatusCode::UNAUTHORIZED, "a bearer token is required\n").into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"orchestrator-telemetry\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_read_from_the_header_and_the_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer  s3cret "),
        );
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; orchestrator_telemetry_session=other; b=2"),
        );
        assert_eq!(bearer(&headers), vec![b"s3cret".as_slice()]);
        assert_eq!(cookies(&headers), vec![b"other".as_slice()]);
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }
}
