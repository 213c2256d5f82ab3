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
use http_body::{Body, Frame, SizeHint};
use pin_project::{pin_project, pinned_drop};

use super::{LlmCallState, Progress, ResponseObserver};
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

/// A response body that ends its LLM call where its protocol ends it (see the module).
#[pin_project(PinnedDrop)]
#[derive(Debug)]
pub struct LlmBody<B, O: ResponseObserver> {
    #[pin]
    pub(super) inner: B,
    pub(super) observer: O,
    pub(super) pending: Option<Pending<LlmCallState>>,
    /// A 2xx event stream: it must reach its protocol's end, or it is incomplete.
    pub(super) stream: bool,
}

/// Ends the call now with what the observer saw; `failure` is how the body itself failed.
pub(super) fn end<O: ResponseObserver>(
    pending: &mut Option<Pending<LlmCallState>>,
    observer: &mut O,
    failure: Option<ErrorKind>,
) {
    let Some(mut pending) = pending.take() else {
        return;
    };
    let response = observer.finish();
    let call = pending.call_mut();
    let status = call.status.unwrap_or(200);
    let outcome = outcome_of(status, failure, response.error);
    call.response = response;
    pending.finish(outcome);
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
        // Once the call has ended, what follows is passed on unread and unbuffered.
        let Some(pending) = this.pending.as_mut() else {
            return Poll::Ready(frame);
        };
        match &frame {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref().filter(|d| d.has_remaining()) {
                    // Only the first chunk reads the clock.
                    if pending.call_mut().time_to_first_token.is_none() {
                        let elapsed = pending.elapsed();
                        pending.call_mut().time_to_first_token = Some(elapsed);
                    }
                    this.observer.on_chunk(data.chunk());
                    match this.observer.progress() {
                        Progress::Done => end(this.pending, this.observer, None),
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
            }
            Some(Err(_)) => {
                let failure = if *this.stream {
                    ErrorKind::IncompleteStream
                } else {
                    ErrorKind::Named("transport")
                };
                end(this.pending, this.observer, Some(failure));
            }
            None => {
                // A stream that ends before its protocol's end was cut: what it reported
                // so far is kept, and the call failed.
                let cut = *this.stream && this.observer.progress() == Progress::Open;
                end(
                    this.pending,
                    this.observer,
                    cut.then_some(ErrorKind::IncompleteStream),
                );
            }
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

#[pinned_drop]
impl<B, O: ResponseObserver> PinnedDrop for LlmBody<B, O> {
    fn drop(self: Pin<&mut Self>) {
        let this = self.project();
        if let Some(mut pending) = this.pending.take() {
            // Dropped before the end: the call keeps what its provider reported so far (the
            // model, a usage), and ends as it had settled (past the answer's end, or a
            // non-2xx status), else as cancelled.
            let mut response = this.observer.finish();
            response.error = None;
            pending.call_mut().response = response;
        }
    }
}
