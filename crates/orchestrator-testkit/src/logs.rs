//! A log buffer: a `std::io::Write` that keeps what is written, to hand to a
//! `tracing_subscriber::fmt()` subscriber as its writer (`.with_writer(move || logs.clone())`)
//! and read back what a test logged; [`LogBuffer::capture`] does both around a closure.

use std::sync::{Arc, Mutex, PoisonError};

/// What was logged, shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// Runs `f` under a plain-text `tracing_subscriber::fmt()` subscriber (its default
    /// levels, no colours) writing to a new buffer: `f`'s result and what it logged.
    pub fn capture<R>(f: impl FnOnce() -> R) -> (R, LogBuffer) {
        let logs = LogBuffer::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (tracing::subscriber::with_default(subscriber, f), logs)
    }

    /// The text written so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The lines written so far that contain `needle` (`"WARN"`, say).
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        self.text()
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
