//! The body of an LLM answer as the caller reads it, and where its call ends.
//!
//! A call ends when its protocol says so, not when the caller stops reading: at the
//! protocol's last event ([`Progress::Done`]: `data: [DONE]`, `message_stop`,
//! `response.completed`...), at the end of the body, or when the body is dropped. Dropped
//! after the answer ended ([`Progress::Answered`]) or after a non-2xx status, the call is
//! what it was then; dropped before, it is cancelled.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Buf;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project::pin_project;

use super::{GenAi, LlmCallState, Progress, ResponseObserver};
use crate::classify::{ErrorKind, Outcome};
use crate::pending::Pending;

/// The `error.type` of an error a provider reported without naming a kind we know. It does
/// not replace the status of a non-2xx answer, which says more.
pub(crate) const PROVIDER_ERROR: ErrorKind = ErrorKind::Named("provider_error");

/// The failure a non-2xx status means, known as soon as the headers arrive: 429
/// `rate_limited`, 408 and 504 `timeout`, other 4xx `client_error`, other 5xx the status.
pub(crate) fn status_failure(status: u16) -> Option<ErrorKind> {
    match status {
        429 => Some(ErrorKind::RateLimited),
        408 | 504 => Some(ErrorKind::Timeout),
        400..=499 => Some(ErrorKind::ClientError),
        500.. => Some(ErrorKind::Status(status)),
        _ => None,
    }
}

/// How a call whose answer has status `status` ended: the status's failure (refined by a
/// kind the body named), or the stream's own failure (`failure`: cut, incomplete), or the
/// failure the body reported, or a success.
pub(crate) fn outcome_of(
    status: u16,
    failure: Option<ErrorKind>,
    reported: Option<ErrorKind>,
) -> Outcome {
    match status_failure(status) {
        Some(kind) => Outcome::Failed(reported.filter(|k| *k != PROVIDER_ERROR).unwrap_or(kind)),
        None => match failure.or(reported) {
            Some(kind) => Outcome::Failed(kind),
            None => Outcome::Completed(Some(status)),
        },
    }
}

/// An answer being read: its observer and, until it ends, its call.
#[derive(Debug)]
pub(crate) struct Reading<O: ResponseObserver> {
    observer: O,
    pending: Option<Pending<LlmCallState>>,
    /// A 2xx event stream: it must reach its protocol's end, or it is incomplete.
    stream: bool,
}

impl<O: ResponseObserver> Reading<O> {
    /// The answer of `pending` with `status` and `headers`, read by `adapter`'s observer.
    pub(crate) fn start<A: GenAi<Observer = O>>(
        adapter: &A,
        mut pending: Pending<LlmCallState>,
        status: u16,
        headers: &HeaderMap,
    ) -> Self {
        let streamed = headers
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        let at = pending.elapsed();
        let call = pending.call_mut();
        call.answered(status, at);
        call.streamed = streamed;
        let mut observer = adapter.observer(status, headers);
        let capture = call.content.as_ref().map(|c| c.limit.saturating_mul(2));
        // The estimator reads the answer's text, up to what a non-streamed body may hold.
        let estimate = call
            .estimator
            .is_some()
            .then_some(crate::kind::MAX_BUFFERED);
        if let Some(limit) = capture.max(estimate) {
            observer.capture_output(limit);
        }
        Reading {
            observer,
            pending: Some(pending),
            stream: streamed && status_failure(status).is_none(),
        }
    }

    /// Ends the call now with what the observer saw; `failure` is how the body failed.
    fn end(&mut self, failure: Option<ErrorKind>) {
        let Some(mut pending) = self.pending.take() else {
            return;
        };
        let response = self.observer.finish();
        let call = pending.call_mut();
        let status = call.status.unwrap_or(200);
        let outcome = outcome_of(status, failure, response.error);
        call.response = response;
        pending.finish(outcome);
    }

    /// One chunk of the body. Once the call has ended, what follows is not read.
    pub(crate) fn chunk(&mut self, data: &[u8]) {
        let Some(pending) = self.pending.as_mut() else {
            return;
        };
        if data.is_empty() {
            return;
        }
        // Only the first chunk reads the clock.
        if pending.call_mut().time_to_first_token.is_none() {
            let elapsed = pending.elapsed();
            pending.call_mut().time_to_first_token = Some(elapsed);
        }
        self.observer.on_chunk(data);
        match self.observer.progress() {
            Progress::Done => self.end(None),
            Progress::Answered => {
                let at = pending.elapsed();
                let call = pending.call_mut();
                if call.settled.is_none() {
                    let status = call.status.unwrap_or(200);
                    call.settled = Some((Outcome::Completed(Some(status)), at));
                }
            }
            Progress::Open | Progress::Unknown => {}
        }
    }

    /// The body failed (a connection cut): a stream is incomplete, other bodies fail as
    /// `transport`.
    pub(crate) fn failed(&mut self) {
        let failure = if self.stream {
            ErrorKind::IncompleteStream
        } else {
            ErrorKind::Named("transport")
        };
        self.end(Some(failure));
    }

    /// Whether the answer is a 2xx event stream (a value handed to it is one event).
    pub(crate) fn is_stream(&self) -> bool {
        self.stream
    }

    /// Whether `value` has the provider's shape, as the observer knows it.
    pub(crate) fn recognises(&self, value: &serde_json::Value) -> bool {
        self.observer.recognises(value)
    }

    /// The answer ended where its protocol ends, as its reader (an SDK) says.
    pub(crate) fn completed(&mut self) {
        self.end(None);
    }

    /// A value handed to the answer did not have the provider's shape: counted once for
    /// the call when it is recorded.
    pub(crate) fn unrecognised(&mut self) {
        if let Some(pending) = self.pending.as_mut() {
            pending.call_mut().unrecognised = true;
        }
    }

    /// The body ended. A stream that ends before its protocol's end was cut: what it
    /// reported so far is kept, and the call failed.
    pub(crate) fn ended(&mut self) {
        let cut = self.stream && self.observer.progress() == Progress::Open;
        self.end(cut.then_some(ErrorKind::IncompleteStream));
    }
}

impl<O: ResponseObserver> Drop for Reading<O> {
    fn drop(&mut self) {
        if let Some(mut pending) = self.pending.take() {
            // Dropped before the end: the call keeps what its provider reported so far (the
            // model, a usage), and ends as it had settled (past the answer's end, or a
            // non-2xx status), else as cancelled.
            let mut response = self.observer.finish();
            response.error = None;
            pending.call_mut().response = response;
        }
    }
}

/// A response body that ends its LLM call where its protocol ends it (see the module).
#[pin_project]
#[derive(Debug)]
pub struct LlmBody<B, O: ResponseObserver> {
    #[pin]
    pub(super) inner: B,
    pub(super) reading: Reading<O>,
}

impl<B: Body, O: ResponseObserver> Body for LlmBody<B, O> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref().filter(|d| d.has_remaining()) {
                    this.reading.chunk(data.chunk());
                }
            }
            Some(Err(_)) => this.reading.failed(),
            None => this.reading.ended(),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
