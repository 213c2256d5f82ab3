//! A background thread that is told to stop and joined when its owner goes away.

use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;

type StopSignal = Box<dyn FnOnce() + Send>;

/// A named background thread with its stop signal: [`stop`](Self::stop) (or dropping it)
/// sends the signal, then waits for the thread to end. The signal is whatever the thread
/// watches (a channel, a flag with a condition variable, an atomic), given as a closure.
///
/// Shareable (`Sync`), so an `Arc` of it can stop the thread when the last clone goes.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use orchestrator_support::StoppingThread;
///
/// let stopped = Arc::new(AtomicBool::new(false));
/// let seen = stopped.clone();
/// let thread = StoppingThread::spawn(
///     "worker",
///     move || while !seen.load(Ordering::Relaxed) { std::thread::yield_now() },
///     move || stopped.store(true, Ordering::Relaxed),
/// )?;
/// drop(thread); // signals, then joins
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct StoppingThread {
    stop: Mutex<Option<StopSignal>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for StoppingThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|t| t.thread().name().map(str::to_owned));
        f.debug_struct("StoppingThread")
            .field("thread", &name)
            .finish_non_exhaustive()
    }
}

impl StoppingThread {
    /// Spawns `body` on a thread called `name`; `stop` is what tells it to end.
    pub fn spawn(
        name: &str,
        body: impl FnOnce() + Send + 'static,
        stop: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<Self> {
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(body)?;
        Ok(Self::new(thread, stop))
    }

    /// Owns an already spawned `thread`, stopped by `stop`.
    pub fn new(thread: JoinHandle<()>, stop: impl FnOnce() + Send + 'static) -> Self {
        StoppingThread {
            stop: Mutex::new(Some(Box::new(stop))),
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Signals the thread and waits for it to end. A second call, or a call from the thread
    /// itself (which cannot wait for itself), only signals.
    pub fn stop(&self) {
        let signal = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(signal) = signal {
            signal();
        }
        let mut slot = self.thread.lock().unwrap_or_else(PoisonError::into_inner);
        let own = slot
            .as_ref()
            .is_some_and(|t| t.thread().id() == std::thread::current().id());
        if own {
            return;
        }
        if let Some(thread) = slot.take() {
            // A panic on the thread has already been reported by the panic hook.
            let _ = thread.join();
        }
    }
}

impl Drop for StoppingThread {
    fn drop(&mut self) {
        self.stop();
    }
}
