//! The configuration of LLM calls recorded by a layer or a middleware: the adapter, content
//! capture and its consent, the usage estimator.

use std::sync::Arc;

use orchestrator_metrics::TokenUsage;

use super::{GenAi, GenAiRequest, UsageEstimator};
use crate::kind::content::ContentPolicy;

/// Client middleware around an LLM provider's HTTP client.
#[derive(Clone)]
pub struct Llm<A> {
    pub(super) adapter: A,
    /// `None`: code did not decide; the tracer's consent applies.
    pub(super) record_content: Option<bool>,
    pub(super) content: ContentPolicy,
    pub(super) estimator: Option<UsageEstimator>,
}

impl<A: std::fmt::Debug> std::fmt::Debug for Llm<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llm")
            .field("adapter", &self.adapter)
            .field("record_content", &self.record_content)
            .field("content", &self.content)
            .field("estimator", &self.estimator.is_some())
            .finish()
    }
}

impl<A: GenAi> Llm<A> {
    /// LLM calls read through `adapter`. Prompts and completions are not recorded.
    pub fn new(adapter: A) -> Self {
        Llm {
            adapter,
            record_content: None,
            content: ContentPolicy::default(),
            estimator: None,
        }
    }

    /// The adapter.
    #[cfg(feature = "reqwest")]
    pub(crate) fn adapter(&self) -> &A {
        &self.adapter
    }

    /// Whether an estimator was given (clients that hold the request body then keep it for
    /// the estimator).
    #[cfg(feature = "reqwest")]
    pub(crate) fn estimates(&self) -> bool {
        self.estimator.is_some()
    }

    /// Estimates the usage of successful calls whose provider reported none (a stream
    /// without `stream_options.include_usage`, a server that never reports usage). The
    /// estimator gets the request (its `prompt` is the request body when the client holds
    /// it) and the answer's text (at most 1 MiB), and returns the usage or `None`. Estimated
    /// usage is recorded and priced like reported usage, marked `gen_ai.usage.estimated` on
    /// the span, and counted in
    /// `orchestrator_llm_unreported_usage_total{usage="estimated"}`, never silently mixed with
    /// reported usage. Off by default; no tokenizer is a dependency of this crate.
    pub fn estimate_usage(
        mut self,
        estimator: impl Fn(&GenAiRequest, &str) -> Option<TokenUsage> + Send + Sync + 'static,
    ) -> Self {
        self.estimator = Some(Arc::new(estimator));
        self
    }

    /// Records prompts and completions on the spans of recorded calls
    /// (`gen_ai.input.messages`, `gen_ai.output.messages`, semantic conventions v1.37:
    /// JSON arrays of messages with text parts; streamed answers are assembled from their
    /// deltas). Off by default: they may hold personal data. When on, the text goes through
    /// the redaction hook (by default [`redact_pii`](crate::redact_pii)) and is capped at
    /// 16 KiB per attribute, marked `…` where cut. Unsampled calls capture nothing.
    ///
    /// Code decides first; where it did not, the tracer's consent applies
    /// ([`TracerBuilder::record_content`](crate::TracerBuilder::record_content), else
    /// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`), else off.
    pub fn record_content(mut self, record: bool) -> Self {
        self.record_content = Some(record);
        self
    }

    /// Replaces the redaction hook: it gets the captured text and returns what is recorded,
    /// before anything is stored or exported. A hook that panics costs the attribute (it is
    /// dropped and counted in `orchestrator_telemetry_dropped_total{queue="span_attributes"}`),
    /// never the request.
    pub fn redact(
        mut self,
        hook: impl Fn(&str) -> std::borrow::Cow<'_, str> + Send + Sync + 'static,
    ) -> Self {
        self.content.redact = Some(std::sync::Arc::new(hook));
        self
    }

    /// Records content as captured, without redaction (for data known to hold none).
    pub fn without_redaction(mut self) -> Self {
        self.content.redact = None;
        self
    }

    /// The byte cap of each recorded attribute (default [`MAX_CONTENT_BYTES`](super::MAX_CONTENT_BYTES), 16 KiB).
    pub fn content_limit(mut self, bytes: usize) -> Self {
        self.content.limit = bytes;
        self
    }
}
