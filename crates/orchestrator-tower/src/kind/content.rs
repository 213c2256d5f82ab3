//! Recorded prompts and completions (`record_content`): redacted by a hook before anything is
//! stored or exported, capped, and written in the GenAI semantic conventions' message shape
//! (`gen_ai.input.messages` / `gen_ai.output.messages`, v1.37: a JSON array of messages with
//! text `parts`).

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::cap::capped;
use crate::redact::{Redaction, pii_redaction};

/// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`: whether the GenAI instrumentations
/// record prompts and completions, where code did not decide.
pub const OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: &str =
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

/// The variable, parsed as the OpenTelemetry specification parses booleans
/// (configuration/sdk-environment-variables, "Boolean value"): `true` in any case is true;
/// unset or empty is unset (`None`, as every empty `OTEL_*` value is here); `false` is
/// false; anything else is false, with a warning naming the variable and the value.
pub(crate) fn consent_from_vars(lookup: crate::Lookup<'_>) -> Option<bool> {
    let value = lookup(OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT)?;
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.eq_ignore_ascii_case("true") {
        return Some(true);
    }
    if !value.eq_ignore_ascii_case("false") {
        tracing::warn!(
            variable = OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
            value,
            "not a boolean (true or false): read as false, as the OpenTelemetry specification says; prompts and completions are not recorded"
        );
    }
    Some(false)
}

/// How content is recorded: the redaction hook (none: recorded as captured) and the byte cap
/// of each attribute.
#[derive(Clone)]
pub(crate) struct ContentPolicy {
    pub(crate) redact: Option<Redaction>,
    pub(crate) limit: usize,
}

impl std::fmt::Debug for ContentPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentPolicy")
            .field("redact", &self.redact.as_ref().map(|_| "hook"))
            .field("limit", &self.limit)
            .finish()
    }
}

impl Default for ContentPolicy {
    /// The built-in redaction, 16 KiB per attribute.
    fn default() -> Self {
        ContentPolicy {
            redact: Some(pii_redaction()),
            limit: super::llm::MAX_CONTENT_BYTES,
        }
    }
}

impl ContentPolicy {
    /// The attribute's value for `text` said by `role`: redacted, then cut to the cap (with
    /// `…`), in the conventions' message shape. `None` when the hook panicked: the attribute
    /// is dropped (the caller counts it).
    pub(crate) fn messages(
        &self,
        role: &str,
        text: &str,
        finish_reason: Option<&str>,
        tool_calls: &[super::ToolCall],
    ) -> Option<String> {
        // Redacting a bounded prefix bounds the hook's work; twice the cap leaves room for
        // masks that shorten the text.
        let bounded = if text.len() > self.limit.saturating_mul(2) {
            Cow::Owned(capped(text, self.limit.saturating_mul(2)))
        } else {
            Cow::Borrowed(text)
        };
        let redacted = match &self.redact {
            Some(hook) => catch_unwind(AssertUnwindSafe(|| hook(&bounded).into_owned())).ok()?,
            None => bounded.into_owned(),
        };
        // The JSON around the text takes about 64 bytes of the cap.
        let text = capped(&redacted, self.limit.saturating_sub(64).max(16));
        let mut parts = Vec::new();
        if !text.is_empty() || tool_calls.is_empty() {
            parts.push(serde_json::json!({"type": "text", "content": text}));
        }
        // The calls' names and ids; their arguments are not assembled from the stream.
        for call in tool_calls {
            let mut part = serde_json::json!({"type": "tool_call", "name": call.name});
            if let Some(id) = &call.id {
                part["id"] = serde_json::Value::from(id.as_str());
            }
            parts.push(part);
        }
        let mut message = serde_json::json!({"role": role, "parts": parts});
        if let Some(reason) = finish_reason {
            message["finish_reason"] = serde_json::Value::from(reason);
        }
        Some(serde_json::Value::Array(vec![message]).to_string())
    }
}
