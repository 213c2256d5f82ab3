//! SIGTERM (Kubernetes' stop signal) and Ctrl-C: the demo stops its load, lets requests in
//! flight finish, prints its summary, drains the API, flushes the telemetry and exits 0.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

/// Whether a stop signal has arrived, as a flag (for the load generator) and as a future.
#[derive(Debug, Clone)]
pub struct StopSignal {
    flag: Arc<AtomicBool>,
    received: watch::Receiver<bool>,
}

impl StopSignal {
    /// Starts listening for SIGTERM and Ctrl-C (SIGINT) on the current runtime.
    pub fn listen() -> Self {
        let flag = Arc::new(AtomicBool::new(false));
        let (tx, received) = watch::channel(false);
        let set = flag.clone();
        tokio::spawn(async move {
            let name = wait_for_signal().await;
            eprintln!("{name} received: stopping the load, then draining and flushing");
            set.store(true, Ordering::Relaxed);
            let _ = tx.send(true);
        });
        StopSignal { flag, received }
    }

    /// The flag the load generator watches.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }

    /// Whether a signal has arrived.
    pub fn received(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// Waits for a signal.
    pub async fn wait(&self) {
        let mut received = self.received.clone();
        let _ = received.wait_for(|r| *r).await;
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "Ctrl-C",
        },
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}
