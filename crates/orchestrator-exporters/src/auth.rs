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

/// The cookie the page's login sets.
pub const COOKIE: &str = "orchestrator_telemetry_token";

/// Requires `token` on every route of `router`.
pub fn require_bearer<S>(router: Router<S>, token: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let token: Arc<str> = Arc::from(token);
    router.layer(middleware::from_fn_with_state(token, check))
}

/// Compares in time independent of where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn presented(headers: &HeaderMap) -> Vec<&[u8]> {
    let mut found = Vec::new();
    for value in headers.get_all(header::AUTHORIZATION) {
        let bytes = value.as_bytes();
        if bytes.len() > 7 && bytes[..7].eq_ignore_ascii_case(b"bearer ") {
            found.push(bytes[7..].trim_ascii());
        }
    }
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

fn query_token(request: &Request) -> Option<&str> {
    request
        .uri()
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
}

async fn check(State(token): State<Arc<str>>, request: Request, next: Next) -> Response {
    let expected = token.as_bytes();
    if presented(request.headers())
        .iter()
        .any(|t| same(t, expected))
    {
        return next.run(request).await;
    }
    // The browser's login: /dashboard?token=... sets the cookie and redirects.
    if request.uri().path() == "/dashboard"
        && query_token(&request).is_some_and(|t| same(t.as_bytes(), expected))
    {
        let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
        if let Ok(cookie) = HeaderValue::from_str(&cookie) {
            let mut response = StatusCode::SEE_OTHER.into_response();
            let h = response.headers_mut();
            h.insert(header::SET_COOKIE, cookie);
            h.insert(header::LOCATION, HeaderValue::from_static("/dashboard"));
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
            HeaderValue::from_static("a=1; orchestrator_telemetry_token=other; b=2"),
        );
        let found = presented(&headers);
        assert_eq!(found, vec![b"s3cret".as_slice(), b"other".as_slice()]);
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }
}
