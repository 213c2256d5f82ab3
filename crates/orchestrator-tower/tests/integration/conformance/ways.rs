//! The ways an LLM call comes in (the layer, the reqwest middleware, the manual guard fed
//! by hand) and the ways a client reads its answer, as people write them.

use std::borrow::Cow;

use futures_util::StreamExt as _;
use orchestrator_metrics::Registry;
use orchestrator_tower::{
    AnthropicMessages, Gemini, GenAi, GenAiRequest, LlmAnswer, OpenAiCompatible, ReqwestService,
    ResponseObserver, TelemetryLayer, TelemetryMiddleware, Tracer,
};
use tower::{Layer as _, ServiceExt as _};

use super::fixtures::{Api, Fixture};

/// Where the call is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// `TelemetryLayer::llm` around a `reqwest::Client` as a tower service.
    Layer,
    /// `TelemetryMiddleware::llm` in a `reqwest_middleware` client.
    Middleware,
    /// `Tracer::llm_call` and `LlmCallGuard::answer`, fed each chunk by the caller.
    Guard,
}

/// How the caller reads the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// `response.text()` (as `.json()` and `.bytes()`: the whole body).
    Whole,
    /// `bytes_stream()` until it ends.
    ToEnd,
    /// A hand-written SSE loop that stops at the protocol's last event and drops the
    /// response; the server keeps the body open after it.
    UntilLast,
    /// `.error_for_status()?` before reading: a non-2xx body is dropped unread.
    ErrorForStatus,
    /// The first chunk, then the response is dropped (a real cancel).
    DropAfterFirst,
    /// `bytes_stream()` while the server cuts the connection mid-stream.
    Cut,
}

impl Read {
    fn mode(self) -> &'static str {
        match self {
            Read::UntilLast => "hold",
            Read::DropAfterFirst => "slow",
            Read::Cut => "cut",
            _ => "",
        }
    }
}

/// What the caller does with the body besides reading it: nothing (the layer and the
/// middleware see it go by), or hand it to the guard's answer.
pub trait Feed: Sized {
    fn chunk(&mut self, _chunk: &[u8]) {}
    fn end(self) {}
    fn fail(self) {}
}

impl Feed for () {}

impl<O: ResponseObserver> Feed for LlmAnswer<O> {
    fn chunk(&mut self, chunk: &[u8]) {
        LlmAnswer::chunk(self, chunk);
    }
    fn end(self) {
        LlmAnswer::end(self);
    }
    fn fail(self) {
        LlmAnswer::fail(self);
    }
}

/// The number of LLM calls recorded so far.
pub fn calls(registry: &Registry) -> f64 {
    super::support::sum(registry, "orchestrator_llm_requests_total", |_| true)
}

/// Reads `response` as `how` says. For [`Read::UntilLast`], whether the call was recorded
/// when the last event was read, before the response was dropped.
async fn read<F: Feed>(
    how: Read,
    response: reqwest::Response,
    mut feed: F,
    f: &Fixture,
    registry: &Registry,
) -> Option<bool> {
    match how {
        Read::Whole => {
            let text = response.text().await.expect("a whole body");
            feed.chunk(text.as_bytes());
            feed.end();
        }
        Read::ErrorForStatus => match response.error_for_status() {
            Ok(response) => {
                let bytes = response.bytes().await.expect("a whole body");
                feed.chunk(&bytes);
                feed.end();
            }
            Err(_) => drop(feed),
        },
        Read::ToEnd | Read::Cut => {
            let mut body = response.bytes_stream();
            while let Some(chunk) = body.next().await {
                match chunk {
                    Ok(bytes) => feed.chunk(&bytes),
                    Err(_) => {
                        feed.fail();
                        return None;
                    }
                }
            }
            feed.end();
        }
        Read::DropAfterFirst => {
            let mut body = response.bytes_stream();
            if let Some(Ok(bytes)) = body.next().await {
                feed.chunk(&bytes);
            }
        }
        Read::UntilLast => {
            // The loop of every SSE tutorial: split lines, stop at the last event.
            let mut body = response.bytes_stream();
            let mut buffer = String::new();
            while let Some(Ok(bytes)) = body.next().await {
                feed.chunk(&bytes);
                buffer.push_str(&String::from_utf8_lossy(&bytes));
                while let Some(end) = buffer.find('\n') {
                    let line: String = buffer.drain(..=end).collect();
                    if line.starts_with("data:") && line.contains(f.last_event) {
                        return Some(calls(registry) == 1.0);
                    }
                }
            }
            panic!("{}: the stream ended before its last event", f.name);
        }
    }
    None
}

/// The request body a client sends: a streamed chat asks for a stream.
fn request_body(f: &Fixture) -> String {
    match f.api {
        Api::Gemini => r#"{"contents":[{"parts":[{"text":"Bonjour?"}]}]}"#.to_owned(),
        _ => format!(
            r#"{{"model":"{}","stream":{},"messages":[{{"role":"user","content":"Bonjour?"}}]}}"#,
            f.model,
            f.streamed()
        ),
    }
}

/// Calls the provider at `base` for `f`, recorded `way`, read `how`.
pub async fn call(
    tracer: &Tracer,
    registry: &Registry,
    base: &str,
    f: &Fixture,
    way: Way,
    how: Read,
    query: &str,
) -> Option<bool> {
    match f.api {
        Api::OpenAi => {
            call_with(OpenAiCompatible, tracer, registry, base, f, way, how, query).await
        }
        Api::Anthropic => {
            call_with(
                AnthropicMessages,
                tracer,
                registry,
                base,
                f,
                way,
                how,
                query,
            )
            .await
        }
        Api::Gemini => call_with(Gemini, tracer, registry, base, f, way, how, query).await,
    }
}

#[allow(clippy::too_many_arguments)]
async fn call_with<A>(
    adapter: A,
    tracer: &Tracer,
    registry: &Registry,
    base: &str,
    f: &Fixture,
    way: Way,
    how: Read,
    query: &str,
) -> Option<bool>
where
    A: GenAi,
    A::Observer: Sync,
{
    let url = format!(
        "{base}{}?fixture={}&mode={}{query}",
        f.path,
        f.name,
        how.mode()
    );
    let body = request_body(f);
    let client = reqwest::Client::new();
    match way {
        Way::Layer => {
            let service = TelemetryLayer::llm(tracer, adapter).layer(ReqwestService::new(client));
            let mut request = http::Request::post(url)
                .header("content-type", "application/json")
                .body(reqwest::Body::from(body))
                .unwrap();
            request.extensions_mut().insert(GenAiRequest {
                operation: f.operation(),
                provider: Cow::Borrowed(f.provider),
                model: Cow::Borrowed(f.model),
                prompt: None,
            });
            let response = service.oneshot(request).await.expect("an answer");
            let response = reqwest::Response::from(response.map(reqwest::Body::wrap));
            read(how, response, (), f, registry).await
        }
        Way::Middleware => {
            let client = reqwest_middleware::ClientBuilder::new(client)
                .with(TelemetryMiddleware::llm(tracer, f.provider, adapter))
                .build();
            let response = client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("an answer");
            read(how, response, (), f, registry).await
        }
        Way::Guard => {
            let mut call = tracer.llm_call(f.provider, f.model);
            call.operation(f.operation());
            let response = client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("an answer");
            let answer = call.answer(&adapter, response.status().as_u16(), response.headers());
            read(how, response, answer, f, registry).await
        }
    }
}
