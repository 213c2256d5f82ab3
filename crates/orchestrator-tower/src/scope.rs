//! Carrying the trace context into spawned tasks, blocking closures, and code that runs
//! under a context from elsewhere (an OpenTelemetry [`SpanContext`](opentelemetry::trace::SpanContext)).
//!
//! The context of the call in progress lives in a thread-local that the layer's futures and
//! the bridged `tracing` spans set around each poll. A task started with `tokio::spawn` runs
//! on whichever worker picks it up, outside that scope, so calls it makes start a new
//! trace. Wrapping it with [`TraceFutureExt::in_current_trace`] captures the context where
//! the task is created and makes it current around every poll of the task:
//!
//! ```
//! use orchestrator_tower::TraceFutureExt as _;
//!
//! # async fn demo() {
//! let summary = tokio::spawn(async {
//!     // Client calls here are children of the request's span.
//! }.in_current_trace());
//! # let _ = summary.await;
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project::pin_project;

use crate::context::{self, Current, TraceContext};

/// Runs futures inside a trace context.
pub trait TraceFutureExt: Future + Sized {
    /// Captures the current trace context (if any) now and makes it current around every
    /// poll of this future, wherever it runs: `tokio::spawn(fut.in_current_trace())`.
    /// Outside any traced call it is a no-op wrapper.
    fn in_current_trace(self) -> InTrace<Self> {
        InTrace {
            inner: self,
            current: context::current_full(),
        }
    }

    /// Runs this future with `context` as its parent: calls it makes become children of
    /// that span, and are recorded when the context is sampled.
    fn in_trace(self, context: TraceContext) -> InTrace<Self> {
        InTrace {
            inner: self,
            current: Some(Current::of(context)),
        }
    }
}

impl<F: Future> TraceFutureExt for F {}

/// Runs `fut` inside the call whose children run under `current`.
pub(crate) fn in_call<F: Future>(fut: F, current: Current) -> InTrace<F> {
    InTrace {
        inner: fut,
        current: Some(current),
    }
}

/// A future that runs inside a captured trace context; see [`TraceFutureExt`].
#[pin_project]
#[derive(Debug)]
pub struct InTrace<F> {
    #[pin]
    inner: F,
    current: Option<Current>,
}

impl<F: Future> Future for InTrace<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if this.current.is_none() {
            return this.inner.poll(cx);
        }
        let inner = this.inner;
        context::enter(this.current, || inner.poll(cx))
    }
}

/// Wraps a closure so that it runs inside the trace context current where it is wrapped:
/// `tokio::task::spawn_blocking(in_current_trace(|| ...))`, `std::thread::spawn`, a rayon
/// pool. Outside any traced call the closure runs as it is.
pub fn in_current_trace<R>(f: impl FnOnce() -> R) -> impl FnOnce() -> R {
    let mut current = context::current_full();
    move || {
        if current.is_none() {
            return f();
        }
        context::enter(&mut current, f)
    }
}

impl TraceContext {
    /// Runs `f` with this context current: calls made inside are its children.
    pub fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut current = Some(Current::of(self.clone()));
        context::enter(&mut current, f)
    }
}
