//! Spans as this crate records them, and their conversion to the SDK's `SpanData` for OTLP.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Event, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

/// The category of an operation, for the trace analysis (the seed's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// An API request served by the orchestrator (the server root span).
    ApiRequest,
    /// A call to an LLM provider.
    LlmRequest,
    /// A database query.
    DatabaseQuery,
    /// A cache lookup or write.
    CacheLookup,
    /// A call to an external API.
    ExternalApi,
    /// An agent run (`invoke_agent`, span kind internal).
    AgentRun,
    /// A tool call (`execute_tool`, span kind internal).
    ToolCall,
    /// A span of the orchestrator's own code, bridged from `tracing` (span kind internal).
    /// Shown in the analysis, never counted as the root of a request.
    Internal,
}

impl Operation {
    /// Every category, in display order.
    pub const ALL: [Operation; 8] = [
        Operation::ApiRequest,
        Operation::AgentRun,
        Operation::LlmRequest,
        Operation::ToolCall,
        Operation::DatabaseQuery,
        Operation::CacheLookup,
        Operation::ExternalApi,
        Operation::Internal,
    ];

    /// The display name: `API Request`, `LLM Request`...
    pub const fn name(self) -> &'static str {
        match self {
            Operation::ApiRequest => "API Request",
            Operation::LlmRequest => "LLM Request",
            Operation::DatabaseQuery => "Database Query",
            Operation::CacheLookup => "Cache Lookup",
            Operation::ExternalApi => "External API",
            Operation::AgentRun => "Agent Run",
            Operation::ToolCall => "Tool Call",
            Operation::Internal => "Internal",
        }
    }
}

/// One finished span.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRecord {
    /// The trace id.
    pub trace_id: [u8; 16],
    /// The span id.
    pub span_id: [u8; 8],
    /// The parent span id, if any.
    pub parent_span_id: Option<[u8; 8]>,
    /// Whether the parent is in another process.
    pub parent_is_remote: bool,
    /// Whether the trace is sampled by the head sampler (as propagated).
    pub sampled: bool,
    /// The span kind.
    pub kind: SpanKind,
    /// The category, for the analysis.
    pub operation: Operation,
    /// The span name.
    pub name: Cow<'static, str>,
    /// Start.
    pub start: SystemTime,
    /// End.
    pub end: SystemTime,
    /// Attributes.
    pub attributes: Vec<KeyValue>,
    /// Whether the call failed.
    pub failed: bool,
    /// `error.type`, if the call failed or was cancelled.
    pub error_type: Option<&'static str>,
    /// The status description of a failed span, when it says more than `error_type` (a
    /// bridged span's error message).
    pub status_message: Option<String>,
    /// Span events (a bridged span's `tracing` events), oldest first.
    pub events: Vec<Event>,
    /// Attributes and events left out by the caps.
    pub dropped_attributes: u32,
}

impl SpanRecord {
    /// Whether this span is the first of its trace in this process (no parent, or a
    /// remote one).
    pub fn is_local_root(&self) -> bool {
        self.parent_span_id.is_none() || self.parent_is_remote
    }

    /// Its duration.
    pub fn duration(&self) -> Duration {
        self.end.duration_since(self.start).unwrap_or_default()
    }

    /// The value of attribute `key`, if set.
    pub fn attribute(&self, key: &str) -> Option<&opentelemetry::Value> {
        self.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    /// The value of attribute `key` when it is a floating-point number (a cost).
    pub fn f64_attribute(&self, key: &str) -> Option<f64> {
        match self.attribute(key)? {
            opentelemetry::Value::F64(v) => Some(*v),
            _ => None,
        }
    }

    /// The LLM spend the span carries, in US dollars: an LLM call's own
    /// (`gen_ai.usage.cost.amount`), or what was spent inside an agent run or a trace's
    /// local root ([`LLM_COST_ATTRIBUTE`](crate::LLM_COST_ATTRIBUTE)).
    pub fn cost_usd(&self) -> Option<f64> {
        self.f64_attribute("gen_ai.usage.cost.amount")
            .or_else(|| self.f64_attribute(crate::LLM_COST_ATTRIBUTE))
    }

    /// A span another OpenTelemetry pipeline finished (the user's provider, through
    /// [`QueueProcessor`](crate::QueueProcessor)), as the store keeps it: of the `Internal`
    /// category, its status's description as the failure's message.
    pub(crate) fn from_span_data(span: &SpanData) -> Self {
        let (failed, status_message) = match &span.status {
            Status::Error { description } => (
                true,
                Some(description.to_string()).filter(|d| !d.is_empty()),
            ),
            _ => (false, None),
        };
        SpanRecord {
            trace_id: span.span_context.trace_id().to_bytes(),
            span_id: span.span_context.span_id().to_bytes(),
            parent_span_id: (span.parent_span_id != SpanId::INVALID)
                .then(|| span.parent_span_id.to_bytes()),
            parent_is_remote: span.parent_span_is_remote,
            sampled: span.span_context.is_sampled(),
            kind: span.span_kind.clone(),
            operation: Operation::Internal,
            name: span.name.clone(),
            start: span.start_time,
            end: span.end_time,
            attributes: span.attributes.clone(),
            failed,
            error_type: None,
            status_message,
            events: span.events.events.clone(),
            dropped_attributes: span.dropped_attributes_count,
        }
    }

    /// The span as the OpenTelemetry SDK's exporters take it.
    pub fn to_span_data(&self, scope: &InstrumentationScope) -> SpanData {
        let flags = if self.sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        SpanData {
            span_context: SpanContext::new(
                TraceId::from_bytes(self.trace_id),
                SpanId::from_bytes(self.span_id),
                flags,
                false,
                TraceState::default(),
            ),
            parent_span_id: self
                .parent_span_id
                .map_or(SpanId::INVALID, SpanId::from_bytes),
            parent_span_is_remote: self.parent_is_remote,
            span_kind: self.kind.clone(),
            name: self.name.clone(),
            start_time: self.start,
            end_time: self.end,
            attributes: self.attributes.clone(),
            dropped_attributes_count: self.dropped_attributes,
            events: {
                let mut events = SpanEvents::default();
                events.events.clone_from(&self.events);
                events
            },
            links: SpanLinks::default(),
            status: match (self.failed, &self.status_message, self.error_type) {
                (true, Some(message), _) => Status::error(message.clone()),
                (true, None, Some(kind)) => Status::error(kind),
                (true, None, None) => Status::error(""),
                (false, _, _) => Status::Unset,
            },
            instrumentation_scope: scope.clone(),
        }
    }
}
