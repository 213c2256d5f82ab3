//! The response future: ends the call when the inner service answers, fails, or is dropped.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project::pin_project;

use crate::classify::{ErrorKind, Outcome};
use crate::context::{self, Current};
use crate::kind::{CallState as _, Kind, OnResponse};
use crate::pending::Pending;

/// The future of a [`TelemetryService`](crate::TelemetryService) call. Dropped before it
/// completes, the call is recorded as cancelled.
#[pin_project]
#[derive(Debug)]
pub struct ResponseFuture<F, K: Kind> {
    #[pin]
    inner: F,
    // The call's context, made current around each poll of `inner`.
    current: Option<Current>,
    kind: K,
    pending: Option<Pending<K::Call>>,
}

impl<F, K: Kind> ResponseFuture<F, K> {
    pub(crate) fn new(
        inner: F,
        current: Option<Current>,
        kind: K,
        pending: Pending<K::Call>,
    ) -> Self {
        ResponseFuture {
            inner,
            current,
            kind,
            pending: Some(pending),
        }
    }
}

impl<F, K, Res, E> Future for ResponseFuture<F, K>
where
    F: Future<Output = Result<Res, E>>,
    K: OnResponse<Res>,
{
    type Output = Result<K::Output, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let result = ready!(context::enter(this.current, || inner.poll(cx)));
        let mut pending = this
            .pending
            .take()
            .expect("ResponseFuture polled after completion");
        if let Some(tenant) = this.current.as_ref().and_then(|c| c.tenant.as_ref()) {
            pending.call_mut().learn_tenant(tenant);
        }
        Poll::Ready(match result {
            Ok(response) => Ok(this.kind.on_response(response, pending)),
            Err(error) => {
                pending.finish(Outcome::Failed(ErrorKind::Other));
                Err(error)
            }
        })
    }
}
