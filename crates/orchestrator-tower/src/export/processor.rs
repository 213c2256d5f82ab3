//! A span processor for the user's own `SdkTracerProvider`: the spans that
//! `tracing-opentelemetry` or the OpenTelemetry API finish go into this crate's bounded
//! export queue, so they are exported over the same OTLP/TLS settings, and counted and
//! dropped like the layer's own; and into the embedded trace store, beside their trace.

use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use crate::Tracer;

/// Feeds the sampled spans of an OpenTelemetry SDK provider into a [`Tracer`]'s export
/// queue and trace store (see [`Tracer::span_processor`]). Spans are exported under the
/// tracer's resource (its `service.name`), each with its own instrumentation scope; a full
/// queue drops and counts them in `orchestrator_telemetry_dropped_total{queue="spans"}`, as
/// it does the layer's. The store shows them in their trace when that trace is stored (its
/// root is one of the tracer's spans), at most 16 per stored trace. Added to two providers,
/// each provider's spans go through it once. Shutting the provider down flushes the queue;
/// the tracer's own shutdown ends it.
#[derive(Debug, Clone)]
pub struct QueueProcessor {
    tracer: Tracer,
}

impl QueueProcessor {
    pub(crate) fn new(tracer: Tracer) -> Self {
        QueueProcessor { tracer }
    }
}

impl SpanProcessor for QueueProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        // Unsampled spans are not exported, as the SDK's own processors do.
        if span.span_context.is_sampled() {
            self.tracer.export_span(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.tracer
            .force_flush()
            .map_err(|e| OTelSdkError::InternalFailure(e.to_string()))
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.force_flush()
    }
}
