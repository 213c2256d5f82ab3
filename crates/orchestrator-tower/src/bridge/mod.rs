//! The bridge from `tracing` to the layer's traces: a [`tracing_subscriber::Layer`] that
//! turns the orchestrator's own spans (`#[instrument]`, `info_span!`) into `INTERNAL` child
//! spans of the trace they run in, and their events into span events.
//!
//! ```
//! use orchestrator_metrics::{Metrics, Registry};
//! use orchestrator_tower::{TraceIds, Tracer};
//! use tracing_subscriber::prelude::*;
//!
//! let tracer = Tracer::builder(Metrics::new(&Registry::new())).build()?;
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracer.tracing_layer())
//!     // `trace_id=… span_id=…` on every log line inside a traced call.
//!     .with(tracing_subscriber::fmt::layer().event_format(TraceIds::text()));
//! # drop(subscriber);
//! # Ok::<(), orchestrator_tower::TracerError>(())
//! ```
//!
//! How it decides, for each new `tracing` span:
//! - Inside a traced call (the layer's server or client future being polled, a bridged span
//!   entered, or a task wrapped with [`in_current_trace`](crate::TraceFutureExt)), the span
//!   is a child of that call. When the trace is not recorded (unsampled), the bridge does
//!   nothing more: no span is built and nothing is allocated for tracing.
//! - Outside any call, a root span (a background job) starts a new trace under the
//!   tracer's sampler; [`TracingBridge::background_roots`] turns that off.
//! - While a bridged span is entered it is the current call, so the layer's client calls
//!   and nested spans made inside it become its children.
//!
//! A bridged span ends when it closes (every handle dropped), wherever that happens; it
//! waits with its trace for the local root like the layer's own client spans. A span that
//! never closes is dropped with its trace when the assembly buffer needs room, and counted.

mod fields;
mod format;
mod genai;

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Event as SpanEvent, SpanKind};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

pub use fields::SpanLimits;
pub use format::TraceIds;

use crate::context::{self, Current};
use crate::service::decide;
use crate::span::{Operation, SpanRecord};
use crate::tracer::Tracer;
use fields::Fields;
use genai::GenAiSpan;

/// A `tracing_subscriber` layer that bridges `tracing` spans into this crate's traces; see
/// the [module docs](self). Made by [`Tracer::tracing_layer`].
#[derive(Debug, Clone)]
pub struct TracingBridge {
    tracer: Tracer,
    // Tells this bridge's spans from another bridge's on the same registry.
    id: u64,
    roots: bool,
    limits: SpanLimits,
    max_level: Level,
}

/// A bridged span's state, in the registry's extensions. Only recorded spans have one.
///
/// The span is exported when this is dropped, which the registry does when it clears the
/// span's slot at close: the bridge needs no `on_close` lookup, so a span it does not
/// record costs nothing when it closes.
struct Bridged {
    owner: u64,
    tracer: Tracer,
    name: &'static str,
    current: Current,
    parent: Option<[u8; 8]>,
    parent_is_remote: bool,
    start: SystemTime,
    attributes: Vec<KeyValue>,
    events: Vec<SpanEvent>,
    dropped: u32,
    error: Option<String>,
}

thread_local! {
    // The contexts that entering bridged spans replaced, to restore on exit.
    static SAVED: RefCell<Vec<(u64, Option<Current>)>> = const { RefCell::new(Vec::new()) };
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl TracingBridge {
    pub(crate) fn new(tracer: Tracer) -> Self {
        TracingBridge {
            tracer,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            roots: true,
            limits: SpanLimits::default(),
            max_level: Level::INFO,
        }
    }

    /// The most verbose level bridged (default `INFO`, the level of `#[instrument]`): spans
    /// and events below it (the `DEBUG` and `TRACE` spans of libraries such as hyper, h2 or
    /// tonic) are not made part of traces, whatever the log output shows.
    pub fn max_level(mut self, level: Level) -> Self {
        self.max_level = level;
        self
    }

    /// Whether a `tracing` root span opened outside any traced call (a background job)
    /// starts a new trace, sampled by the tracer's sampler. On by default.
    pub fn background_roots(mut self, on: bool) -> Self {
        self.roots = on;
        self
    }

    /// The caps on attributes, events and value sizes (see [`SpanLimits`]).
    pub fn limits(mut self, limits: SpanLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The call a new GenAI span runs in, recorded or not (its metrics are for every run):
    /// `None` for a root.
    fn genai_parent<S>(&self, attrs: &Attributes<'_>, ctx: &Context<'_, S>) -> Option<Current>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if !attrs.is_contextual()
            && let Some(span) = attrs.parent().and_then(|id| ctx.span(id))
        {
            let extensions = span.extensions();
            if let Some(g) = extensions.get::<GenAiSpan>().filter(|g| g.owner == self.id) {
                return g.current().cloned();
            }
            if let Some(b) = extensions.get::<Bridged>().filter(|b| b.owner == self.id) {
                return Some(b.current.clone());
            }
        }
        context::current_full()
    }

    /// The context a new span runs under: `None` when the bridge does nothing for it.
    fn parent<S>(&self, attrs: &Attributes<'_>, ctx: &Context<'_, S>) -> Option<Parent>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if attrs.is_contextual() {
            // The innermost traced call on this thread, checked without cloning first: an
            // unsampled request costs one thread-local read here.
            return match context::current_recording() {
                Some(false) => None,
                Some(true) => context::current_full().map(Parent::Call),
                None => self.roots.then_some(Parent::Root),
            };
        }
        let explicit = attrs.parent().and_then(|id| ctx.span(id));
        match explicit {
            None => self.roots.then_some(Parent::Root),
            Some(span) => {
                let extensions = span.extensions();
                match extensions.get::<Bridged>() {
                    Some(b) => Some(Parent::Call(b.current.clone())),
                    // A parent the bridge did not record: its own parent decides.
                    None => match context::current_full() {
                        Some(c) if c.recording => Some(Parent::Call(c)),
                        Some(_) => None,
                        None => self.roots.then_some(Parent::Root),
                    },
                }
            }
        }
    }

    fn start(&self, parent: Parent, name: &'static str) -> Option<Bridged> {
        // The same decision as the layer's calls: a child follows its call, a root is
        // sampled (or kept for the keep-errors policy) like a new request.
        let child = match parent {
            Parent::Call(call) => decide(&self.tracer, None, Some(&call)),
            Parent::Root if context::suppressed() => return None,
            Parent::Root => {
                // A span outside any request: what every handler's span is when the server
                // layer is missing (the hint counts them beside client calls).
                self.tracer.root_span_opened();
                decide(&self.tracer, None, None)
            }
        };
        if !child.current.recording {
            return None;
        }
        Some(Bridged {
            owner: self.id,
            tracer: self.tracer.clone(),
            name,
            current: child.current,
            parent: child.parent,
            parent_is_remote: child.parent_is_remote,
            start: SystemTime::now(),
            attributes: Vec::new(),
            events: Vec::new(),
            dropped: 0,
            error: None,
        })
    }

    fn fields<'a>(&self, attributes: &'a mut Vec<KeyValue>) -> Fields<'a> {
        Fields::new(
            attributes,
            self.limits.max_attributes,
            self.limits.max_value_bytes,
        )
    }

    /// Records fields onto the span's attributes, counting what the caps leave out.
    fn record_fields(&self, bridged: &mut Bridged, record: impl FnOnce(&mut Fields<'_>)) {
        let mut fields = self.fields(&mut bridged.attributes);
        record(&mut fields);
        let dropped = fields.dropped;
        bridged.dropped += dropped;
        self.count_dropped(dropped);
    }

    fn count_dropped(&self, n: u32) {
        if n > 0 {
            self.tracer.count_dropped_attributes(u64::from(n));
        }
    }
}

enum Parent {
    Call(Current),
    Root,
}

impl<S> tracing_subscriber::Layer<S> for TracingBridge
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, _: &tracing::Dispatch) {
        // A global filter below `max_level` would hide the spans to bridge: checked, and said
        // once, at the first call (when the subscriber is surely the default).
        self.tracer.bridge_registered(self.max_level);
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if *attrs.metadata().level() > self.max_level {
            return;
        }
        // Most spans have no such field: one scan of the static field names, no visit.
        if attrs
            .metadata()
            .fields()
            .field("gen_ai.operation.name")
            .is_some()
            && !context::suppressed()
            && let Some(span) = ctx.span(id)
        {
            // A second bridge on the same registry: the first one records the call (checked
            // before starting it, or both would count it).
            if span.extensions().get::<GenAiSpan>().is_some() {
                return;
            }
            let parent = self.genai_parent(attrs, &ctx);
            if let Some(genai) = genai::start(&self.tracer, self.id, attrs, parent) {
                span.extensions_mut().insert(genai);
                return;
            }
        }
        let Some(parent) = self.parent(attrs, &ctx) else {
            return;
        };
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if extensions.get_mut::<Bridged>().is_some() {
            return; // a second bridge on the same registry: the first one records it
        }
        let Some(mut bridged) = self.start(parent, attrs.metadata().name()) else {
            return;
        };
        self.record_fields(&mut bridged, |fields| attrs.record(fields));
        extensions.insert(bridged);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(genai) = extensions
            .get_mut::<GenAiSpan>()
            .filter(|g| g.owner == self.id)
        {
            genai.record(values);
            return;
        }
        if let Some(bridged) = extensions
            .get_mut::<Bridged>()
            .filter(|b| b.owner == self.id)
        {
            self.record_fields(bridged, |fields| values.record(fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let level = *event.metadata().level();
        // Inside an unsampled call no span can take the event (explicit parents aside), but
        // an error fails the GenAI span it is in.
        if level > self.max_level
            || (event.is_contextual()
                && context::current_recording() == Some(false)
                && !(level == Level::ERROR && genai::any_open()))
        {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(genai) = extensions
            .get_mut::<GenAiSpan>()
            .filter(|g| g.owner == self.id)
        {
            if level == Level::ERROR {
                genai.failed();
            }
            return;
        }
        let Some(bridged) = extensions
            .get_mut::<Bridged>()
            .filter(|b| b.owner == self.id)
        else {
            return;
        };
        if bridged.events.len() >= self.limits.max_events {
            bridged.dropped += 1;
            self.count_dropped(1);
            if level == Level::ERROR && bridged.error.is_none() {
                bridged.error = Some(String::new());
            }
            return;
        }
        let mut attributes = Vec::new();
        let mut fields = self.fields(&mut attributes);
        fields.take_message = true;
        event.record(&mut fields);
        let (message, error, dropped) =
            (fields.message.take(), fields.error.take(), fields.dropped);
        if attributes.len() < self.limits.max_attributes {
            attributes.push(KeyValue::new("level", level.as_str()));
        }
        if level == Level::ERROR && bridged.error.is_none() {
            // What `#[instrument(err)]` records: the span failed, with this message.
            bridged.error = Some(error.or_else(|| message.clone()).unwrap_or_default());
        }
        bridged.events.push(SpanEvent::new(
            message.unwrap_or_else(|| event.metadata().name().to_owned()),
            SystemTime::now(),
            attributes,
            dropped,
        ));
        bridged.dropped += dropped;
        self.count_dropped(dropped);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        // Inside an unsampled call, skip the span lookup: a bridged span is only entered
        // there when a future of another, recorded trace is polled from inside the
        // unsampled one (a `join!` across traces); its children then stay unrecorded.
        // A GenAI span is entered whether its trace records or not: the LLM calls inside
        // are its agent's steps.
        let unrecorded = context::current_recording() == Some(false);
        if unrecorded && !genai::any_open() {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let extensions = span.extensions();
        let mine = match extensions.get::<GenAiSpan>().filter(|g| g.owner == self.id) {
            Some(genai) => genai.current().cloned(),
            None if unrecorded => return,
            None => {
                let Some(bridged) = extensions.get::<Bridged>().filter(|b| b.owner == self.id)
                else {
                    return;
                };
                Some(bridged.current.clone())
            }
        };
        let Some(mine) = mine else { return };
        if mine.recording {
            self.tracer.look_for_other_pipelines(mine.context.trace_id);
        }
        let mine = Some(mine);
        let _ = context::swap(mine).map(|previous| {
            SAVED.with(|saved| saved.borrow_mut().push((id.into_u64(), previous)));
        });
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        let _ = SAVED.try_with(|saved| {
            let mut saved = saved.borrow_mut();
            if saved.last().is_some_and(|(top, _)| *top == id.into_u64())
                && let Some((_, previous)) = saved.pop()
            {
                if let Some((trace, _)) = context::current_ids() {
                    self.tracer.look_for_other_pipelines(trace);
                }
                let _ = context::swap(previous);
            }
        });
    }
}

impl Drop for Bridged {
    fn drop(&mut self) {
        let context = &self.current.context;
        let error = self.error.take();
        // A bridged local root (a background job) that made LLM calls carries their spend.
        if (self.parent.is_none() || self.parent_is_remote)
            && let Some(spend) = self.current.lineage.spend.as_ref().filter(|s| s.spent())
        {
            spend.attributes(&mut self.attributes);
        }
        let record = SpanRecord {
            trace_id: context.trace_id.to_bytes(),
            span_id: context.span_id.to_bytes(),
            parent_span_id: self.parent,
            parent_is_remote: self.parent_is_remote,
            sampled: context.sampled,
            kind: SpanKind::Internal,
            operation: Operation::Internal,
            name: self.name.into(),
            start: self.start,
            end: SystemTime::now(),
            attributes: std::mem::take(&mut self.attributes),
            failed: error.is_some(),
            error_type: error.as_ref().map(|_| "error"),
            status_message: error.filter(|m| !m.is_empty()),
            events: std::mem::take(&mut self.events),
            dropped_attributes: self.dropped,
        };
        self.tracer.end_span(record);
    }
}
