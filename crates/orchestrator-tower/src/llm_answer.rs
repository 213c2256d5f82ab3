//! An LLM answer read by hand through an adapter: the bytes of an HTTP answer as a client
//! reads them, or the values an SDK parsed from them, recorded as the layer records the
//! same answer.

use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde::Serialize;

use crate::call::LlmCallGuard;
use crate::kind::{GenAi, Reading, ResponseObserver};

impl LlmCallGuard {
    /// Hands the answer to `adapter`, for a client that reads the HTTP answer itself (a
    /// plain `reqwest::Client`, an SDK that exposes its bytes): call it when the headers
    /// arrive, then give [`LlmAnswer::chunk`] each body chunk as it is read. The call is
    /// recorded exactly as [`TelemetryLayer::llm`](crate::TelemetryLayer::llm) records it:
    /// it ends at the protocol's last event, a non-2xx status is its outcome from now on, and
    /// dropped before its end the answer is cancelled.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use orchestrator_metrics::{Metrics, Registry};
    /// use orchestrator_tower::{OpenAiCompatible, Tracer};
    ///
    /// let registry = Registry::new();
    /// let tracer = Tracer::builder(Metrics::new(&registry)).build()?;
    /// let call = tracer.llm_call("openai", "gpt-4o-mini");
    /// let mut headers = HeaderMap::new();
    /// headers.insert("content-type", "text/event-stream".parse()?);
    /// let mut answer = call.answer(&OpenAiCompatible, 200, &headers);
    /// answer.chunk(b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":5}}\n\n");
    /// answer.chunk(b"data: [DONE]\n\n"); // the call ends here
    /// assert!(registry.render().contains(r#"token_type="output"} 5"#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn answer<A: GenAi>(
        self,
        adapter: &A,
        status: u16,
        headers: &HeaderMap,
    ) -> LlmAnswer<A::Observer> {
        LlmAnswer {
            reading: Reading::start(adapter, self.pending, status, headers),
        }
    }

    /// Hands what an SDK parsed to `adapter`: for an SDK that hands out its answer as
    /// values (a stream of chunk structs, one response struct) rather than bytes. Give
    /// [`LlmAnswer::value`] each one (`streamed`: a stream's chunks; else the response),
    /// then [`LlmAnswer::completed`] when the SDK's stream or call ended without error. The
    /// adapter reads them as it reads the same JSON on the wire: the model, the usage, the
    /// time to the first chunk, an error event, the end of the answer.
    ///
    /// ```
    /// use orchestrator_metrics::{Metrics, Registry};
    /// use orchestrator_tower::{OpenAiCompatible, Tracer};
    /// use serde_json::json;
    ///
    /// let registry = Registry::new();
    /// let tracer = Tracer::builder(Metrics::new(&registry)).build()?;
    /// let mut answer = tracer.llm_call("openai", "gpt-4o-mini").sdk_answer(&OpenAiCompatible, true);
    /// // Each chunk the SDK's stream yields (any `Serialize`: its own chunk type).
    /// answer.value(&json!({"model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}));
    /// answer.value(&json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 5}}));
    /// answer.completed();
    /// assert!(registry.render().contains(r#"token_type="output"} 5"#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sdk_answer<A: GenAi>(self, adapter: &A, streamed: bool) -> LlmAnswer<A::Observer> {
        let mut headers = HeaderMap::new();
        let kind = if streamed {
            "text/event-stream"
        } else {
            "application/json"
        };
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
        self.answer(adapter, 200, &headers)
    }
}

/// An LLM answer read by hand through an adapter ([`LlmCallGuard::answer`],
/// [`LlmCallGuard::sdk_answer`]). Its methods that end the call take it by value: nothing
/// can be fed after the end. Dropped before the call ended, the call ends as the layer's
/// body would: the success it was past the answer's end, its status's failure for a
/// non-2xx answer, cancelled otherwise.
#[derive(Debug)]
pub struct LlmAnswer<O: ResponseObserver> {
    reading: Reading<O>,
}

impl<O: ResponseObserver> LlmAnswer<O> {
    /// One chunk of the body, as read. Once the call has ended, chunks are ignored.
    pub fn chunk(&mut self, chunk: &[u8]) {
        self.reading.chunk(chunk);
    }

    /// One value an SDK parsed from the answer: a stream's chunk (one event), or the whole
    /// response. Serialized back, it is read as the same JSON on the wire would be. A
    /// value without the provider's shape (see [`ResponseObserver::recognises`]), or that
    /// does not serialize, is ignored and counted once for the call in
    /// `orchestrator_telemetry_rejected_values_total{reason="unrecognised_chunk"}`.
    pub fn value<T: Serialize + ?Sized>(&mut self, value: &T) {
        let json = match serde_json::to_value(value) {
            Ok(json) if self.reading.recognises(&json) => json,
            _ => {
                self.reading.unrecognised();
                return;
            }
        };
        let Ok(bytes) = serde_json::to_vec(&json) else {
            return;
        };
        if self.reading.is_stream() {
            let mut event = Vec::with_capacity(bytes.len() + 8);
            event.extend_from_slice(b"data: ");
            event.extend_from_slice(&bytes);
            event.extend_from_slice(b"\n\n");
            self.reading.chunk(&event);
        } else {
            self.reading.chunk(&bytes);
        }
    }

    /// The body ended: the call ends with it (a stream short of its protocol's end is
    /// `incomplete_stream`).
    pub fn end(mut self) {
        self.reading.ended();
    }

    /// The SDK's stream (or call) ended without error: it read the protocol's end itself
    /// (OpenAI's `data: [DONE]` never reaches its caller), so the call ends completed with
    /// what the values reported.
    pub fn completed(mut self) {
        self.reading.completed();
    }

    /// Reading the body failed (the connection was cut): a stream is `incomplete_stream`,
    /// another body `transport`.
    pub fn fail(mut self) {
        self.reading.failed();
    }
}
