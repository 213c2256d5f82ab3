//! The client: one reqwest client, driven to completion from a plain thread, with an overall
//! deadline and a capped body.

use std::cell::RefCell;
use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Method, Url, redirect};

use crate::error::HttpError;
use crate::tls::TlsMaterial;

/// The default cap on a reply's body: 1 MiB. A sink reads a few bytes of answer; anything
/// larger is a misbehaving server.
pub const SINK_BODY_LIMIT: usize = 1 << 20;

const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);

/// How a [`HttpClient`] behaves.
#[derive(Debug, Clone)]
#[must_use]
pub struct HttpClientBuilder {
    deadline: Duration,
    body_limit: usize,
    redirects: usize,
    tls: TlsMaterial,
    user_agent: String,
}

impl Default for HttpClientBuilder {
    fn default() -> Self {
        HttpClientBuilder {
            deadline: DEFAULT_DEADLINE,
            body_limit: SINK_BODY_LIMIT,
            redirects: 0,
            tls: TlsMaterial::default(),
            user_agent: concat!("orchestrator-telemetry/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl HttpClientBuilder {
    /// The longest one call may take, from connecting to the body's last byte (default
    /// 10 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The largest reply body read (default [`SINK_BODY_LIMIT`], 1 MiB); a larger one is
    /// [`HttpError::BodyTooLarge`].
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Follows up to `n` redirects (default 0: a `3xx` is returned as it is, and the sinks
    /// treat it as a failure). More than `n` is [`HttpError::Redirects`].
    pub fn redirects(mut self, n: usize) -> Self {
        self.redirects = n;
        self
    }

    /// A custom CA and a client certificate, beside the system's roots.
    pub fn tls(mut self, tls: TlsMaterial) -> Self {
        self.tls = tls;
        self
    }

    /// The `User-Agent` header (default `orchestrator-telemetry/VERSION`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// Builds the client. Fails if reqwest refuses the TLS material.
    pub fn build(self) -> Result<HttpClient, HttpError> {
        let redirect = if self.redirects == 0 {
            redirect::Policy::none()
        } else {
            redirect::Policy::limited(self.redirects)
        };
        let builder = reqwest::Client::builder()
            .redirect(redirect)
            // The overall deadline is enforced around the whole call (see `send`).
            .connect_timeout(self.deadline)
            .user_agent(self.user_agent)
            // Each calling thread drives its own runtime, and a pooled connection belongs
            // to the runtime that opened it: no pool, so no connection outlives its call.
            .pool_max_idle_per_host(0);
        let client = self
            .tls
            .configure(builder)
            .map_err(|e| HttpError::Build(e.to_string()))?
            .build()
            .map_err(|e| HttpError::Build(e.to_string()))?;
        Ok(HttpClient {
            client,
            deadline: self.deadline,
            body_limit: self.body_limit,
            redirects: self.redirects,
        })
    }
}

/// A blocking HTTP client with an overall deadline and a body cap (see the crate docs).
/// Cheap to clone; usable from any thread, inside a Tokio runtime or not.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    deadline: Duration,
    body_limit: usize,
    redirects: usize,
}

/// An answer, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// `Content-Encoding`, lower case, if any (the body is never decompressed).
    pub content_encoding: Option<String>,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body as sent, at most the client's cap.
    pub body: Vec<u8>,
    /// From sending the request to the body's last byte.
    pub elapsed: Duration,
}

impl Reply {
    /// Whether the status is `2xx`.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl HttpClient {
    /// A client with the defaults (10 s, 1 MiB, no redirects, system roots).
    pub fn new() -> Result<Self, HttpError> {
        Self::builder().build()
    }

    /// Settings for a client.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder::default()
    }

    /// Whether `url` is one this client can call (`http` or `https`, with a host): the
    /// check sinks make when they are built.
    pub fn check_url(url: &str) -> Result<(), HttpError> {
        parse(url).map(|_| ())
    }

    /// The overall deadline of a call.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// `GET url` with extra `headers`; any status is a [`Reply`].
    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Reply, HttpError> {
        self.send(Method::GET, url, headers, None)
    }

    /// `POST url` with a JSON body; a status other than `2xx` is [`HttpError::Status`].
    pub fn post_json(
        &self,
        url: &str,
        json: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<Reply, HttpError> {
        let reply = self.send(Method::POST, url, headers, Some(json.to_vec()))?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(HttpError::Status {
                endpoint: crate::redact(url),
                status: reply.status,
                body: snippet(&reply.body),
            })
        }
    }

    /// `GET url` answering `2xx` with a JSON body, parsed.
    pub fn get_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<serde_json::Value, HttpError> {
        let reply = self.get(url, headers)?;
        if !reply.is_success() {
            return Err(HttpError::Status {
                endpoint: crate::redact(url),
                status: reply.status,
                body: snippet(&reply.body),
            });
        }
        serde_json::from_slice(&reply.body).map_err(|e| HttpError::NotJson {
            endpoint: crate::redact(url),
            reason: e.to_string(),
        })
    }

    /// Sends one request and reads the reply within the deadline and the cap.
    pub fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        json: Option<Vec<u8>>,
    ) -> Result<Reply, HttpError> {
        let parsed = parse(url)?;
        let endpoint = crate::endpoint(&parsed);
        let mut request = self.client.request(method, parsed);
        for (name, value) in headers {
            let name =
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| HttpError::InvalidUrl {
                    endpoint: endpoint.clone(),
                    reason: format!("invalid header name {name:?}"),
                })?;
            // The value may be a secret: never echoed.
            let value = HeaderValue::from_str(value).map_err(|_| HttpError::InvalidUrl {
                endpoint: endpoint.clone(),
                reason: format!("invalid value for header {name}"),
            })?;
            request = request.header(name, value);
        }
        if let Some(body) = json {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let (deadline, limit, redirects) = (self.deadline, self.body_limit, self.redirects);
        let call = async move {
            let started = Instant::now();
            let mut response = request
                .send()
                .await
                .map_err(|e| HttpError::from_reqwest(&endpoint, &e, redirects, deadline))?;
            if response.content_length().is_some_and(|n| n > limit as u64) {
                return Err(HttpError::BodyTooLarge { endpoint, limit });
            }
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v: &HeaderValue| v.to_str().ok())
                    .map(str::to_ascii_lowercase)
            };
            let (content_encoding, content_type) = (header(CONTENT_ENCODING), header(CONTENT_TYPE));
            let status = response.status().as_u16();
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| HttpError::from_reqwest(&endpoint, &e, redirects, deadline))?
            {
                if body.len() + chunk.len() > limit {
                    return Err(HttpError::BodyTooLarge { endpoint, limit });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Reply {
                status,
                content_encoding,
                content_type,
                body,
                elapsed: started.elapsed(),
            })
        };
        let endpoint = crate::redact(url);
        block_on(async move {
            match tokio::time::timeout(deadline, call).await {
                Ok(result) => result,
                Err(_) => Err(HttpError::Deadline { endpoint, deadline }),
            }
        })?
    }
}

fn parse(url: &str) -> Result<Url, HttpError> {
    let parsed = Url::parse(url).map_err(|e| HttpError::InvalidUrl {
        endpoint: crate::redact(url),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(HttpError::InvalidUrl {
            endpoint: crate::endpoint(&parsed),
            reason: "only http:// and https:// URLs with a host are supported".to_owned(),
        });
    }
    Ok(parsed)
}

/// The start of a body, for an error message.
pub(crate) fn snippet(body: &[u8]) -> String {
    let end = body.len().min(512);
    String::from_utf8_lossy(&body[..end]).trim().to_owned()
}

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// Runs `future` to completion on this thread's current-thread runtime (made on first use).
/// Inside a Tokio runtime, where blocking on another one would panic, it runs on a scoped
/// thread of its own instead.
fn block_on<F>(future: F) -> Result<F::Output, HttpError>
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        return std::thread::scope(|s| {
            s.spawn(|| block_on(future))
                .join()
                .unwrap_or_else(|_| Err(HttpError::Build("the HTTP thread panicked".into())))
        });
    }
    RUNTIME
        .with(|cell| {
            let mut runtime = cell.borrow_mut();
            if runtime.is_none() {
                *runtime = Some(
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| HttpError::Build(format!("no runtime: {e}")))?,
                );
            }
            Ok(runtime.as_ref().map(|rt| rt.block_on(future)))
        })
        .and_then(|out| out.ok_or_else(|| HttpError::Build("no runtime".into())))
}
