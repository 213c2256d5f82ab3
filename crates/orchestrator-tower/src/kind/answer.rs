//! The body of an LLM answer as the GenAI adapters see it: server-sent events handed out
//! one `data:` payload at a time, in one pass over each chunk (linear however many lines a
//! chunk holds), until the protocol's last event; or a JSON body kept whole up to
//! [`MAX_BUFFERED`] (the error body of a non-2xx answer too, which may name the error).
//! Each adapter only says what a payload or a body means ([`AnswerReader`]).

use http::HeaderMap;

use super::llm::Progress;
use orchestrator_metrics::RejectReason;
use serde_json::Value;

/// The largest non-streamed body, or single pending stream line, the observer buffers.
pub const MAX_BUFFERED: usize = 1 << 20;

/// A token count from a provider's usage object: absent or `null` is `None`; anything but a
/// non-negative integer is refused with the reason it would be counted under.
pub(crate) fn token_count(value: Option<&Value>) -> Result<Option<u64>, RejectReason> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    if let Some(n) = value.as_u64() {
        return Ok(Some(n));
    }
    Err(if value.as_f64().is_some_and(|f| f < 0.0) {
        RejectReason::Negative
    } else if value
        .as_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("nan"))
    {
        RejectReason::Nan
    } else {
        RejectReason::OutOfRange
    })
}

/// What an adapter reads from an answer.
pub(crate) trait AnswerReader {
    /// One event's `data:` payload, trimmed, never empty.
    fn data(&mut self, data: &[u8]);
    /// A whole non-streamed body (for a non-2xx answer, its error body).
    fn json(&mut self, body: &[u8]);
    /// How far the answer has got; once [`Progress::Done`], no more is read.
    fn progress(&self) -> Progress;
}

/// The buffer between the body's chunks and an [`AnswerReader`].
#[derive(Debug)]
pub(crate) struct Answer {
    streamed: bool,
    buffer: Vec<u8>,
    overflow: bool,
}

impl Answer {
    /// The answer of a response with `status` and `headers`: streamed when its content type
    /// is `text/event-stream` and its status 2xx; a non-2xx body is read whole, as an error.
    pub(crate) fn new(status: u16, headers: &HeaderMap) -> Self {
        Answer {
            streamed: (200..300).contains(&status)
                && headers
                    .get(http::header::CONTENT_TYPE)
                    .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream")),
            buffer: Vec::new(),
            overflow: false,
        }
    }

    /// The answer's progress, given its reader's: a stream is open until its reader knows
    /// more; a JSON body ends with the body ([`Progress::Unknown`]).
    pub(crate) fn progress(&self, read: Progress) -> Progress {
        match (self.streamed, read) {
            (true, Progress::Unknown) => Progress::Open,
            (true, known) => known,
            (false, _) => Progress::Unknown,
        }
    }

    /// One body chunk: every complete line of a stream goes to `reader`, up to its
    /// protocol's last event.
    pub(crate) fn push(&mut self, chunk: &[u8], reader: &mut impl AnswerReader) {
        if reader.progress() == Progress::Done {
            return;
        }
        if self.buffer.len() + chunk.len() > MAX_BUFFERED {
            self.overflow = true;
            self.buffer.clear();
        }
        if self.overflow && !self.streamed {
            return;
        }
        self.buffer.extend_from_slice(chunk);
        if self.streamed {
            // One pass over the buffer, one shift of what is left at the end: draining line by
            // line moved the rest of the buffer once per line, O(n²) for a chunk of many
            // short lines.
            let mut start = 0;
            while let Some(end) = self.buffer[start..].iter().position(|&b| b == b'\n') {
                line(&self.buffer[start..start + end + 1], reader);
                start += end + 1;
                if reader.progress() == Progress::Done {
                    // Whatever follows the last event is not the answer's.
                    self.buffer.clear();
                    return;
                }
            }
            self.buffer.drain(..start);
        }
    }

    /// The body ended: a complete JSON body, or a stream's last unterminated line, goes to
    /// `reader`.
    pub(crate) fn finish(&mut self, reader: &mut impl AnswerReader) {
        let rest = std::mem::take(&mut self.buffer);
        if !self.streamed && !self.overflow {
            reader.json(&rest);
        } else if self.streamed && !rest.is_empty() && reader.progress() != Progress::Done {
            line(&rest, reader);
        }
    }
}

fn line(line: &[u8], reader: &mut impl AnswerReader) {
    if let Some(data) = line.strip_prefix(b"data:") {
        let data = data.trim_ascii();
        if !data.is_empty() {
            reader.data(data);
        }
    }
}

/// Whether `data` contains `needle` (to skip parsing events that carry nothing read).
pub(crate) fn contains(data: &[u8], needle: &[u8]) -> bool {
    data.windows(needle.len()).any(|w| w == needle)
}

/// Appends `text` to the captured completion, up to `limit` bytes (cut at a character
/// boundary; the attribute's cap marks the cut later).
pub(crate) fn append_bounded(completion: &mut Option<String>, text: &str, limit: usize) {
    let out = completion.get_or_insert_with(String::new);
    let room = limit.saturating_sub(out.len());
    if room == 0 {
        return;
    }
    let mut end = text.len().min(room);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out.push_str(&text[..end]);
}
