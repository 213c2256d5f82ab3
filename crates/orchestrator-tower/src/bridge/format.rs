//! Log correlation: `trace_id` and `span_id` on every log line written inside a traced
//! call, in `tracing_subscriber::fmt`'s text and JSON forms.

use std::cell::RefCell;
use std::fmt;

use opentelemetry::trace::{SpanId, TraceId};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{self, Format, Full, Json, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use super::Bridged;
use crate::context;

/// An event formatter that adds the ids of the current trace to each line its inner
/// formatter writes: `trace_id` (32 hex digits) and `span_id` (16) of the innermost traced
/// call or bridged span, sampled or not (an unsampled request has ids too, so its log lines
/// still lead to the request). Lines outside any traced call are written unchanged.
///
/// - [`TraceIds::text`]: `fmt`'s default text line, ending in ` trace_id=… span_id=…`.
/// - [`TraceIds::json`]: `fmt`'s JSON object, with `"trace_id"` and `"span_id"` as its
///   first keys. Use it with `fmt::layer().json()`, which also sets the JSON field
///   formatter.
///
/// ```
/// use orchestrator_tower::TraceIds;
/// use tracing_subscriber::{Registry, fmt};
///
/// let text = fmt::layer::<Registry>().event_format(TraceIds::text());
/// let json = fmt::layer::<Registry>().json().event_format(TraceIds::json());
/// # drop((text, json));
/// ```
///
/// The inner formatter writes into a per-thread buffer that is then copied out, so the
/// writer's ANSI setting does not reach it: for colours, give an inner format with
/// `Format::with_ansi(true)` through [`TraceIds::new`].
#[derive(Debug, Clone)]
pub struct TraceIds<F> {
    inner: F,
    json: bool,
}

impl TraceIds<Format<Full>> {
    /// `fmt`'s default text format with the ids at the end of each line.
    pub fn text() -> Self {
        TraceIds::new(format::format().with_ansi(false))
    }
}

impl TraceIds<Format<Json>> {
    /// `fmt`'s JSON format with the ids as the first keys of each object.
    pub fn json() -> Self {
        TraceIds {
            inner: format::format().json(),
            json: true,
        }
    }
}

impl<F> TraceIds<F> {
    /// Wraps any text event formatter: the ids are appended to its line.
    pub fn new(inner: F) -> Self {
        TraceIds { inner, json: false }
    }

    /// Wraps an event formatter that writes one JSON object per line: the ids become its
    /// first keys.
    pub fn new_json(inner: F) -> Self {
        TraceIds { inner, json: true }
    }
}

thread_local! {
    static BUFFER: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The ids an event is logged under: the innermost traced call on this thread, else the
/// nearest bridged span of the event's own scope (an event with an explicit parent).
fn ids<S>(
    ctx: &FmtContext<'_, S, impl for<'a> FormatFields<'a> + 'static>,
    event: &Event<'_>,
) -> Option<(TraceId, SpanId)>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if event.is_contextual()
        && let Some(ids) = context::current_ids()
    {
        return Some(ids);
    }
    ctx.event_scope()?.find_map(|span| {
        let extensions = span.extensions();
        extensions
            .get::<Bridged>()
            .map(|b| (b.current.context.trace_id, b.current.context.span_id))
    })
}

impl<S, N, F> FormatEvent<S, N> for TraceIds<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some((trace_id, span_id)) = ids(ctx, event) else {
            return self.inner.format_event(ctx, writer, event);
        };
        // A nested log call while formatting (a `Debug` impl that logs) finds the buffer
        // taken and formats into a fresh one.
        let mut buffer = BUFFER
            .try_with(|b| b.try_borrow_mut().map(|mut b| std::mem::take(&mut *b)).ok())
            .ok()
            .flatten()
            .unwrap_or_default();
        buffer.clear();
        let result = self
            .inner
            .format_event(ctx, Writer::new(&mut buffer), event)
            .and_then(|()| {
                if self.json {
                    match buffer.strip_prefix('{') {
                        Some(rest) => {
                            let comma = if rest.trim_start().starts_with('}') { "" } else { "," };
                            write!(
                                writer,
                                "{{\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\"{comma}{rest}"
                            )
                        }
                        None => writer.write_str(&buffer),
                    }
                } else {
                    let line = buffer.trim_end_matches('\n');
                    writeln!(writer, "{line} trace_id={trace_id} span_id={span_id}")
                }
            });
        let _ = BUFFER.try_with(|b| {
            if let Ok(mut b) = b.try_borrow_mut() {
                *b = buffer;
            }
        });
        result
    }
}
