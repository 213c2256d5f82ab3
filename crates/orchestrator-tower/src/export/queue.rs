//! The export queue and its thread: traces in, OTLP batches out, drops counted, one
//! deadline at shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_otlp::{
    Protocol as OtlpProtocol, WithExportConfig as _, WithHttpConfig as _, WithTonicConfig as _,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanExporter as _};
use orchestrator_metrics::CounterHandle;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{BatchConfig, ExportConfigError, OtlpConfig, Protocol};
use crate::store::Trace;

enum Message {
    Trace(Arc<Trace>),
    /// A span another pipeline made (the user's `SdkTracerProvider`, through
    /// [`QueueProcessor`](crate::QueueProcessor)).
    Span(Box<SpanData>),
    Flush(std_mpsc::Sender<()>),
    /// Export what is queued until the deadline, count the rest as dropped, and stop.
    Shutdown(std_mpsc::Sender<()>, Instant),
}

/// How much longer than the worker's shutdown deadline the caller waits for its answer.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Counts spans lost to a full queue or a failed export.
#[derive(Debug, Clone)]
pub(crate) struct Drops {
    pub(crate) count: Arc<AtomicU64>,
    pub(crate) counter: CounterHandle,
}

impl Drops {
    pub(crate) fn add(&self, n: usize) {
        let n = n as u64;
        self.count.fetch_add(n, Ordering::Relaxed);
        self.counter.increment(n);
    }
}

/// The last failed export: when, and why (what the export health on the live page shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFailure {
    /// When it failed (ms since the Unix epoch).
    pub at_ms: i64,
    /// The exporter's error.
    pub error: String,
}

#[derive(Debug, Clone, Default)]
struct LastError(Arc<std::sync::Mutex<Option<ExportFailure>>>);

impl LastError {
    fn set(&self, error: String) {
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(ExportFailure { at_ms, error });
    }

    fn get(&self) -> Option<ExportFailure> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The export side: the queue's sending half and the thread.
#[derive(Debug)]
pub(crate) struct Exporter {
    tx: mpsc::UnboundedSender<Message>,
    queued: Arc<AtomicUsize>,
    exported: Arc<AtomicU64>,
    last_error: LastError,
    max_queue: usize,
    drops: Drops,
    batch: BatchConfig,
    closed: AtomicBool,
    // Set when shutdown gave up waiting: the worker then drops what it takes (already
    // counted).
    abandoned: Arc<AtomicBool>,
    // The shutdown deadline, as soon as shutdown is asked: every export from then on, the
    // one in progress's successors included, ends by it.
    shutdown_at: Arc<std::sync::Mutex<Option<Instant>>>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Exporter {
    /// Starts the export thread; fails if the exporter cannot be built.
    pub(crate) fn start(
        config: OtlpConfig,
        resource: Resource,
        drops: Drops,
    ) -> Result<Self, ExportConfigError> {
        config.batch.validate()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (built_tx, built_rx) = std_mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let exported = Arc::new(AtomicU64::new(0));
        let abandoned = Arc::new(AtomicBool::new(false));
        let shutdown_at = Arc::new(std::sync::Mutex::new(None));
        let last_error = LastError::default();
        let worker = Worker {
            last_error: last_error.clone(),
            rx,
            abandoned: abandoned.clone(),
            shutdown_at: shutdown_at.clone(),
            queued: queued.clone(),
            exported: exported.clone(),
            drops: drops.clone(),
            batch: config.batch,
            scope: InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
            failing: AtomicBool::new(false),
        };
        let batch = config.batch;
        let thread = std::thread::Builder::new()
            .name("otlp-export".into())
            .spawn(move || worker.run(config, resource, built_tx))
            .map_err(ExportConfigError::Thread)?;
        match built_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => return Err(ExportConfigError::ThreadExited),
        }
        Ok(Exporter {
            tx,
            queued,
            exported,
            last_error,
            max_queue: batch.max_queue_size,
            drops,
            batch,
            closed: AtomicBool::new(false),
            abandoned,
            shutdown_at,
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }

    /// Queues a finished trace, or drops (and counts) its spans when the queue is full.
    /// Never blocks.
    pub(crate) fn send(&self, trace: Arc<Trace>) {
        let n = trace.spans.len();
        self.queue(n, Message::Trace(trace));
    }

    /// Queues a span another pipeline finished, as [`send`](Self::send) queues a trace.
    pub(crate) fn send_span(&self, span: SpanData) {
        self.queue(1, Message::Span(Box::new(span)));
    }

    fn queue(&self, n: usize, message: Message) {
        if self.closed.load(Ordering::Acquire) {
            self.drops.add(n);
            return;
        }
        let fits = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                (q + n <= self.max_queue).then_some(q + n)
            })
            .is_ok();
        if !fits {
            self.drops.add(n);
            return;
        }
        if self.tx.send(message).is_err() {
            self.queued.fetch_sub(n, Ordering::AcqRel);
            self.drops.add(n);
        }
    }

    /// Spans successfully exported so far.
    pub(crate) fn exported(&self) -> u64 {
        self.exported.load(Ordering::Relaxed)
    }

    /// The last export that failed, if any did.
    pub(crate) fn last_error(&self) -> Option<ExportFailure> {
        self.last_error.get()
    }

    /// Exports everything queued; waits at most one export timeout.
    pub(crate) fn flush(&self) -> bool {
        let (ack, done) = std_mpsc::channel();
        self.tx.send(Message::Flush(ack)).is_ok()
            && done
                .recv_timeout(self.batch.export_timeout + Duration::from_secs(2))
                .is_ok()
    }

    /// Exports everything queued, shuts the exporter down and joins the thread. Idempotent.
    ///
    /// One deadline for the whole of it: an export in progress ends within the export
    /// timeout, then what is queued is exported until one second later; what is left is
    /// counted as dropped. The call returns within the export timeout plus two seconds,
    /// whatever the collector does.
    pub(crate) fn shutdown(&self) -> bool {
        if self.closed.swap(true, Ordering::AcqRel) {
            return true;
        }
        let deadline = Instant::now() + self.batch.export_timeout + SHUTDOWN_GRACE;
        if let Ok(mut at) = self.shutdown_at.lock() {
            *at = Some(deadline);
        }
        let (ack, done) = std_mpsc::channel();
        let acked = self.tx.send(Message::Shutdown(ack, deadline)).is_ok()
            && done
                .recv_timeout(self.batch.export_timeout + 2 * SHUTDOWN_GRACE)
                .is_ok();
        if acked {
            let thread = self.thread.lock().map(|mut t| t.take()).unwrap_or(None);
            if let Some(thread) = thread {
                let _ = thread.join();
            }
        } else {
            // The worker is stuck past its deadline: what it has not taken is lost; count it.
            self.abandoned.store(true, Ordering::Release);
            let left = self.queued.swap(0, Ordering::AcqRel);
            self.drops.add(left);
        }
        acked
    }
}

struct Worker {
    rx: mpsc::UnboundedReceiver<Message>,
    abandoned: Arc<AtomicBool>,
    shutdown_at: Arc<std::sync::Mutex<Option<Instant>>>,
    queued: Arc<AtomicUsize>,
    exported: Arc<AtomicU64>,
    last_error: LastError,
    drops: Drops,
    batch: BatchConfig,
    scope: InstrumentationScope,
    /// The last export failed: further failures are logged at `debug` only, so a collector
    /// that is down (or an untrusted certificate) is logged once, not once per batch.
    failing: AtomicBool,
}

fn build(config: &OtlpConfig) -> Result<opentelemetry_otlp::SpanExporter, ExportConfigError> {
    let built = match config.protocol {
        Protocol::Grpc => {
            let mut b = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_protocol(OtlpProtocol::Grpc)
                .with_tls_config(super::tls::tonic(config))
                .with_metadata(super::tls::metadata(config)?);
            if let Some(endpoint) = &config.endpoint {
                b = b.with_endpoint(endpoint.clone());
            }
            if let Some(timeout) = config.timeout {
                b = b.with_timeout(timeout);
            }
            b.build()
        }
        Protocol::HttpProtobuf => {
            let mut b = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(OtlpProtocol::HttpBinary)
                .with_http_client(super::tls::http_client(config)?)
                .with_headers(super::tls::http_headers(config));
            if let Some(endpoint) = &config.endpoint {
                let base = endpoint.trim_end_matches('/');
                b = b.with_endpoint(format!("{base}/v1/traces"));
            }
            if let Some(timeout) = config.timeout {
                b = b.with_timeout(timeout);
            }
            b.build()
        }
    };
    built.map_err(|e| ExportConfigError::Build(Box::new(e)))
}

impl Worker {
    fn run(
        mut self,
        config: OtlpConfig,
        resource: Resource,
        built: std_mpsc::Sender<Result<(), ExportConfigError>>,
    ) {
        // The exporter's own `tracing` spans (tonic, hyper, h2) must not become traces
        // that are exported in turn.
        crate::context::suppress_on_this_thread();
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                let _ = built.send(Err(ExportConfigError::Thread(e)));
                return;
            }
        };
        runtime.block_on(async move {
            // Built inside the runtime: the tonic channel needs a reactor.
            let mut exporter = match build(&config) {
                Ok(exporter) => exporter,
                Err(e) => {
                    let _ = built.send(Err(e));
                    return;
                }
            };
            exporter.set_resource(&resource);
            let _ = built.send(Ok(()));
            self.serve(exporter).await;
        });
    }

    async fn serve(&mut self, exporter: opentelemetry_otlp::SpanExporter) {
        let mut batch: Vec<SpanData> = Vec::new();
        let mut deadline = Instant::now() + self.batch.scheduled_delay;
        loop {
            let message = tokio::time::timeout_at(deadline, self.rx.recv()).await;
            match message {
                Ok(Some(Message::Trace(trace))) => {
                    self.take(&trace, &mut batch, &exporter, None).await;
                }
                Ok(Some(Message::Span(span))) => {
                    self.take_span(*span, &mut batch, &exporter, None).await;
                }
                Ok(Some(Message::Flush(ack))) => {
                    let deadline = Instant::now() + self.batch.export_timeout;
                    self.drain(&mut batch, &exporter, deadline).await;
                    let _ = ack.send(());
                }
                Ok(Some(Message::Shutdown(ack, deadline))) => {
                    self.drain(&mut batch, &exporter, deadline).await;
                    let _ = exporter.shutdown();
                    let _ = ack.send(());
                    return;
                }
                Ok(None) => {
                    self.export(&mut batch, &exporter, None).await;
                    let _ = exporter.shutdown();
                    return;
                }
                Err(_) => {
                    self.export(&mut batch, &exporter, None).await;
                    deadline = Instant::now() + self.batch.scheduled_delay;
                }
            }
        }
    }

    async fn take(
        &self,
        trace: &Trace,
        batch: &mut Vec<SpanData>,
        exporter: &opentelemetry_otlp::SpanExporter,
        deadline: Option<Instant>,
    ) {
        let n = trace.spans.len();
        let _ = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                Some(q.saturating_sub(n))
            });
        if self.abandoned.load(Ordering::Acquire) {
            return; // counted when shutdown gave up
        }
        for span in &trace.spans {
            batch.push(span.to_span_data(&self.scope));
            if batch.len() >= self.batch.max_export_batch_size {
                self.export(batch, exporter, deadline).await;
            }
        }
    }

    async fn take_span(
        &self,
        span: SpanData,
        batch: &mut Vec<SpanData>,
        exporter: &opentelemetry_otlp::SpanExporter,
        deadline: Option<Instant>,
    ) {
        let _ = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                Some(q.saturating_sub(1))
            });
        if self.abandoned.load(Ordering::Acquire) {
            return; // counted when shutdown gave up
        }
        batch.push(span);
        if batch.len() >= self.batch.max_export_batch_size {
            self.export(batch, exporter, deadline).await;
        }
    }

    /// Exports everything queued now (flush and shutdown), within `deadline`: what cannot
    /// be sent by then is dropped and counted, so a dead collector cannot hold shutdown.
    async fn drain(
        &mut self,
        batch: &mut Vec<SpanData>,
        exporter: &opentelemetry_otlp::SpanExporter,
        deadline: Instant,
    ) {
        while let Ok(message) = self.rx.try_recv() {
            match message {
                Message::Trace(trace) => self.take(&trace, batch, exporter, Some(deadline)).await,
                Message::Span(span) => {
                    self.take_span(*span, batch, exporter, Some(deadline)).await;
                }
                Message::Flush(ack) | Message::Shutdown(ack, _) => {
                    let _ = ack.send(());
                }
            }
        }
        self.export(batch, exporter, Some(deadline)).await;
    }

    async fn export(
        &self,
        batch: &mut Vec<SpanData>,
        exporter: &opentelemetry_otlp::SpanExporter,
        deadline: Option<Instant>,
    ) {
        if batch.is_empty() {
            return;
        }
        let spans = std::mem::take(batch);
        let n = spans.len();
        let now = Instant::now();
        // Once shutdown is asked, nothing exports past its deadline.
        let shutdown_at = self.shutdown_at.lock().ok().and_then(|at| *at);
        let deadline = match (deadline, shutdown_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let limit = match deadline {
            Some(d) if d <= now => {
                self.drops.add(n);
                return;
            }
            Some(d) => (d - now).min(self.batch.export_timeout),
            None => self.batch.export_timeout,
        };
        match tokio::time::timeout(limit, exporter.export(spans)).await {
            Ok(Ok(())) => {
                self.exported.fetch_add(n as u64, Ordering::Relaxed);
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("OTLP export recovered");
                }
            }
            Ok(Err(e)) => {
                self.drops.add(n);
                self.last_error.set(e.to_string());
                if self.failing.swap(true, Ordering::Relaxed) {
                    tracing::debug!(spans = n, error = %e, "OTLP export failed; spans dropped");
                } else {
                    tracing::warn!(spans = n, error = %e, "OTLP export failed; spans dropped (logged once until an export succeeds; drops are counted in orchestrator_telemetry_dropped_total)");
                }
            }
            Err(_) => {
                self.drops.add(n);
                self.last_error
                    .set(format!("the export timed out after {limit:?}"));
                if self.failing.swap(true, Ordering::Relaxed) {
                    tracing::debug!(spans = n, timeout = ?limit, "OTLP export timed out; spans dropped");
                } else {
                    tracing::warn!(spans = n, timeout = ?limit, "OTLP export timed out; spans dropped (logged once until an export succeeds)");
                }
            }
        }
    }
}
