//! OpenTelemetry's current context and the layer's calls, in process: a call started under
//! a valid foreign span context continues its trace; an invalid one is ignored, as an
//! invalid `traceparent` is.

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use orchestrator_metrics::LlmOutcome;
use orchestrator_tower::{Sampler, Tracer};

use crate::support::metrics;

fn tracer() -> Tracer {
    let (_, metrics) = metrics();
    Tracer::builder(metrics)
        .sampler(Sampler::parent_based_ratio(0.0).unwrap())
        .build()
        .unwrap()
}

fn under(context: SpanContext, tracer: &Tracer) -> orchestrator_tower::TraceContext {
    let _attached = opentelemetry::Context::current()
        .with_remote_span_context(context)
        .attach();
    let call = tracer.llm_call("openai", "m");
    let ids = call.context().clone();
    call.finish(LlmOutcome::Success, None);
    ids
}

#[test]
fn a_valid_foreign_span_context_is_the_parent_and_its_sampling_decides() {
    let tracer = tracer();
    for flags in [TraceFlags::SAMPLED, TraceFlags::default()] {
        let foreign = SpanContext::new(
            TraceId::from_bytes([7; 16]),
            SpanId::from_bytes([3; 8]),
            flags,
            false,
            TraceState::default(),
        );
        let call = under(foreign, &tracer);
        assert_eq!(call.trace_id, TraceId::from_bytes([7; 16]));
        assert_eq!(
            call.sampled,
            flags.is_sampled(),
            "the foreign decision, not the 0 % ratio"
        );
    }
}

#[test]
fn an_invalid_foreign_span_context_is_ignored() {
    let tracer = tracer();
    let call = under(SpanContext::empty_context(), &tracer);
    assert_ne!(call.trace_id, TraceId::INVALID);
    assert!(!call.sampled, "a root under the 0 % ratio");
}
