//! How an LLM answer ended, and the tools it asked for: the provider's finish reasons
//! (`gen_ai.response.finish_reasons`) and its tool calls (`tool_call` parts of
//! `gen_ai.output.messages`). Both are model output: bounded in number and length.

use crate::cap::capped;

use super::GenAiResponse;

/// Finish reasons kept per answer (one per choice; more is a hostile answer).
const MAX_FINISH_REASONS: usize = 16;
/// Tool calls kept per answer.
pub(crate) const MAX_TOOL_CALLS: usize = 64;
/// Bytes kept of a finish reason, a tool's name or a call id.
const MAX_FIELD_BYTES: usize = 128;

/// A tool call the model asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// The call's id (`call_…`, `toolu_…`), when the provider gives one.
    pub id: Option<String>,
    /// The tool's name, as the model wrote it (capped at 128 bytes).
    pub name: String,
}

impl GenAiResponse {
    /// Adds a finish reason as the provider wrote it, once.
    pub(crate) fn finish_reason(&mut self, reason: &str) {
        if reason.is_empty()
            || self.finish_reasons.len() >= MAX_FINISH_REASONS
            || self.finish_reasons.iter().any(|r| r == reason)
        {
            return;
        }
        self.finish_reasons.push(capped(reason, MAX_FIELD_BYTES));
    }

    /// Adds a tool call the model asked for.
    pub(crate) fn tool_call(&mut self, id: Option<&str>, name: &str) {
        if self.tool_calls.len() >= MAX_TOOL_CALLS {
            return;
        }
        self.tool_calls.push(ToolCall {
            id: id
                .filter(|i| !i.is_empty())
                .map(|i| capped(i, MAX_FIELD_BYTES)),
            name: capped(name, MAX_FIELD_BYTES),
        });
    }

    /// The finish reason of the output message in the conventions' terms (`stop`,
    /// `length`, `content_filter`, `tool_call`, `error`), from the provider's.
    pub(crate) fn message_finish_reason(&self) -> &str {
        if !self.tool_calls.is_empty() {
            return "tool_call";
        }
        match self.finish_reasons.first().map(String::as_str) {
            None => "stop",
            Some("tool_calls" | "function_call" | "tool_use") => "tool_call",
            Some("length" | "max_tokens" | "MAX_TOKENS") => "length",
            Some(
                "content_filter" | "refusal" | "SAFETY" | "RECITATION" | "BLOCKLIST"
                | "PROHIBITED_CONTENT" | "SPII",
            ) => "content_filter",
            Some(_) => "stop",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_deduplicated_and_mapped() {
        let mut r = GenAiResponse::default();
        for _ in 0..3 {
            r.finish_reason("stop");
        }
        assert_eq!(r.finish_reasons, ["stop"]);
        assert_eq!(r.message_finish_reason(), "stop");
        r.finish_reason(&"x".repeat(10_000));
        assert!(r.finish_reasons[1].len() <= MAX_FIELD_BYTES + 3);
        for i in 0..100 {
            r.tool_call(Some(&format!("call_{i}")), "get_weather");
        }
        assert_eq!(r.tool_calls.len(), MAX_TOOL_CALLS);
        assert_eq!(r.message_finish_reason(), "tool_call");
        let mut r = GenAiResponse::default();
        r.finish_reason("max_tokens");
        assert_eq!(r.message_finish_reason(), "length");
    }
}
