//! `tracing` fields as OpenTelemetry attributes, within the span limits.

use std::fmt::{self, Write as _};

use opentelemetry::{Key, KeyValue, Value};
use tracing::field::{Field, Visit};

use crate::cap::{cap, capped};

/// The caps a bridged span's attributes and events are held to. Past them, attributes and
/// events are left out, long values are truncated (ending in `…`), and both are counted in
/// `orchestrator_telemetry_dropped_total{queue="span_attributes"}`.
///
/// Worst case per span: `max_attributes × max_value_bytes` for its fields plus
/// `max_events × max_attributes × max_value_bytes` for its events (defaults: 64 KiB +
/// 32 × 64 × 1 KiB ≈ 2 MiB, reached only by a span that logs megabytes; a typical span is
/// a few hundred bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanLimits {
    /// Attributes per span, and per event.
    pub max_attributes: usize,
    /// Events per span.
    pub max_events: usize,
    /// Bytes of one string value; longer ones are cut at a character boundary.
    pub max_value_bytes: usize,
}

impl Default for SpanLimits {
    /// 64 attributes per span and per event, 32 events per span, 1 KiB per value.
    fn default() -> Self {
        SpanLimits {
            max_attributes: 64,
            max_events: 32,
            max_value_bytes: 1024,
        }
    }
}

/// Collects fields into `attributes`, counting what the caps leave out.
pub(crate) struct Fields<'a> {
    pub(crate) attributes: &'a mut Vec<KeyValue>,
    pub(crate) max_attributes: usize,
    pub(crate) max_value_bytes: usize,
    pub(crate) dropped: u32,
    /// The `message` field, taken out for an event's name.
    pub(crate) message: Option<String>,
    /// Whether to take `message` out instead of keeping it as an attribute.
    pub(crate) take_message: bool,
    /// The `error` field's text (what `#[instrument(err)]` records), for the span status.
    pub(crate) error: Option<String>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(attributes: &'a mut Vec<KeyValue>, max: usize, bytes: usize) -> Self {
        Fields {
            attributes,
            max_attributes: max,
            max_value_bytes: bytes,
            dropped: 0,
            message: None,
            take_message: false,
            error: None,
        }
    }

    fn push(&mut self, field: &Field, value: Value) {
        let key = field.name();
        // A field recorded again replaces its earlier value, as `Span::record` means.
        if let Some(kv) = self.attributes.iter_mut().find(|kv| kv.key.as_str() == key) {
            kv.value = value;
            return;
        }
        if self.attributes.len() >= self.max_attributes {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        self.attributes
            .push(KeyValue::new(Key::from_static_str(key), value));
    }

    /// Whether a value for `field` would be left out by the count cap (counted here).
    fn left_out(&mut self, field: &Field) -> bool {
        let key = field.name();
        let full = self.attributes.len() >= self.max_attributes
            && !(self.take_message && key == "message")
            && !self.attributes.iter().any(|kv| kv.key.as_str() == key);
        if full {
            self.dropped = self.dropped.saturating_add(1);
        }
        full
    }

    fn text(&mut self, mut text: String) -> String {
        if cap(&mut text, self.max_value_bytes) {
            self.dropped = self.dropped.saturating_add(1);
        }
        text
    }

    fn string(&mut self, field: &Field, text: String) {
        let text = self.text(text);
        match field.name() {
            "message" if self.take_message => self.message = Some(text),
            name => {
                if name == "error" {
                    self.error = Some(text.clone());
                }
                self.push(field, Value::from(text));
            }
        }
    }
}

/// Formats a `Debug` value, stopping once the cap is passed: a 1 MiB value never builds a
/// 1 MiB string.
struct Capped {
    out: String,
    limit: usize,
}

impl fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.out.len() > self.limit {
            return Err(fmt::Error);
        }
        self.out.push_str(s);
        Ok(())
    }
}

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, Value::F64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match i64::try_from(value) {
            Ok(v) => self.push(field, Value::I64(v)),
            Err(_) => self.string(field, value.to_string()),
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if self.left_out(field) {
            return;
        }
        // Copy no more than the cap: a 1 MiB value is cut before it is copied.
        if value.len() > self.max_value_bytes {
            self.dropped = self.dropped.saturating_add(1);
        }
        self.string(field, capped(value, self.max_value_bytes));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.left_out(field) {
            return;
        }
        let mut out = Capped {
            out: String::new(),
            limit: self.max_value_bytes,
        };
        let _ = write!(out, "{value}");
        self.string(field, out.out);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.left_out(field) {
            return;
        }
        let mut out = Capped {
            out: String::new(),
            limit: self.max_value_bytes,
        };
        let _ = write!(out, "{value:?}");
        self.string(field, out.out);
    }
}
