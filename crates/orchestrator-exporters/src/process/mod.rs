//! The process collector: resident memory and the memory limit, sampled on an interval.

mod limit;

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use limit::Host;
pub use limit::{LimitSource, MemoryLimit};

/// This process's resident memory in bytes (`VmRSS`), as the collector reads it; none
/// where `/proc` is not there.
pub fn resident_memory() -> Option<u64> {
    limit::Host::new("/").resident_memory()
}
use orchestrator_metrics::{GaugeHandle, Registry, catalogue};
use orchestrator_support::StoppingThread;

/// Configures the process collector.
#[derive(Debug, Clone)]
pub struct ProcessCollectorConfig {
    interval: Duration,
    memory_limit: Option<u64>,
    root: std::path::PathBuf,
}

impl Default for ProcessCollectorConfig {
    fn default() -> Self {
        ProcessCollectorConfig {
            interval: Duration::from_secs(5),
            memory_limit: None,
            root: "/".into(),
        }
    }
}

impl ProcessCollectorConfig {
    /// How often to sample (default 5 s).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// A configured memory limit in bytes, used instead of reading the cgroup.
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.memory_limit = Some(bytes);
        self
    }
}

/// Samples `orchestrator_memory_usage_bytes` and `orchestrator_memory_limit_bytes` on a thread
/// of its own until dropped or [`ProcessCollector::stop`]ped.
///
/// When no limit can be found (no cgroup memory files, no `/proc/meminfo`, nothing
/// configured), the limit gauge is absent and a warning is logged once.
///
/// ```
/// use std::time::Duration;
/// use orchestrator_exporters::{ProcessCollector, ProcessCollectorConfig};
/// use orchestrator_metrics::Registry;
///
/// let registry = Registry::new();
/// let config = ProcessCollectorConfig::default().memory_limit(512 << 20);
/// let collector = ProcessCollector::start(&registry, config)?;
/// assert!(registry.render().contains("orchestrator_memory_limit_bytes 536870912"));
/// collector.stop();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct ProcessCollector {
    thread: StoppingThread,
}

impl ProcessCollector {
    /// Takes a first sample now, then samples on the configured interval.
    pub fn start(registry: &Registry, config: ProcessCollectorConfig) -> std::io::Result<Self> {
        let mut sampler = Sampler::new(registry.clone(), &config);
        sampler.sample();
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let stop_thread = stop.clone();
        let thread = StoppingThread::spawn(
            "orchestrator-telemetry-process",
            move || {
                let (lock, wake) = &*stop_thread;
                let mut stopped = lock.lock().unwrap_or_else(PoisonError::into_inner);
                while !*stopped {
                    let (guard, timeout) = wake
                        .wait_timeout(stopped, config.interval)
                        .unwrap_or_else(PoisonError::into_inner);
                    stopped = guard;
                    if timeout.timed_out() && !*stopped {
                        sampler.sample();
                    }
                }
            },
            move || {
                let (lock, wake) = &*stop;
                *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
                wake.notify_all();
            },
        )?;
        Ok(ProcessCollector { thread })
    }

    /// Stops sampling and waits for the thread (dropping the collector does the same).
    pub fn stop(self) {
        self.thread.stop();
    }
}

struct Sampler {
    registry: Registry,
    host: Host,
    configured: Option<u64>,
    usage: Option<GaugeHandle>,
    limit: Option<GaugeHandle>,
    last_source: Option<LimitSource>,
    warned_rss: bool,
    warned_limit: bool,
}

impl Sampler {
    fn new(registry: Registry, config: &ProcessCollectorConfig) -> Self {
        Sampler {
            registry,
            host: Host::new(config.root.clone()),
            configured: config.memory_limit,
            usage: None,
            limit: None,
            last_source: None,
            warned_rss: false,
            warned_limit: false,
        }
    }

    fn sample(&mut self) {
        match self.host.resident_memory() {
            Some(bytes) => set(
                &self.registry,
                &mut self.usage,
                &catalogue::MEMORY_USAGE_BYTES,
                bytes,
            ),
            None if !self.warned_rss => {
                self.warned_rss = true;
                tracing::warn!(
                    "cannot read the process's resident memory (/proc/self/status); orchestrator_memory_usage_bytes is absent"
                );
            }
            None => {}
        }
        let limit = match self.configured {
            Some(bytes) => Some(MemoryLimit {
                bytes,
                source: LimitSource::Configured,
            }),
            None => self.host.memory_limit(),
        };
        match limit {
            Some(limit) => {
                if self.last_source != Some(limit.source) {
                    self.last_source = Some(limit.source);
                    tracing::info!(bytes = limit.bytes, source = %limit.source, "memory limit");
                }
                set(
                    &self.registry,
                    &mut self.limit,
                    &catalogue::MEMORY_LIMIT_BYTES,
                    limit.bytes,
                );
            }
            None if !self.warned_limit => {
                self.warned_limit = true;
                tracing::warn!(
                    "no memory limit found (no cgroup memory files, no /proc/meminfo); \
                     orchestrator_memory_limit_bytes is absent: configure one to compute memory usage against it"
                );
            }
            None => {}
        }
    }
}

fn set(
    registry: &Registry,
    handle: &mut Option<GaugeHandle>,
    def: &catalogue::MetricDef,
    bytes: u64,
) {
    if handle.is_none() {
        *handle = registry.gauge(def, &[]).ok();
    }
    if let Some(handle) = handle {
        let _ = handle.set(bytes as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Held by the tests that reach the warning callsites. A callsite registered on another
    /// thread while `a_missing_limit_is_warned_about_once` rebuilds the interest cache can
    /// keep the "never" interest it computed before the test's subscriber existed (it is
    /// pushed to the callsite list after its interest is computed); CI failed once that way.
    static WARNING_CALLSITES: Mutex<()> = Mutex::new(());

    #[test]
    fn missing_files_leave_both_gauges_absent() {
        let _serial = WARNING_CALLSITES.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::new();
        let config = ProcessCollectorConfig {
            root: dir.path().into(),
            ..Default::default()
        };
        let collector = ProcessCollector::start(&registry, config).unwrap();
        let text = registry.render();
        assert!(!text.contains("orchestrator_memory_limit_bytes"));
        assert!(!text.contains("orchestrator_memory_usage_bytes"));
        collector.stop();
    }

    #[test]
    fn a_missing_limit_is_warned_about_once() {
        let _serial = WARNING_CALLSITES.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let config = ProcessCollectorConfig {
            root: dir.path().into(),
            ..Default::default()
        };
        let mut sampler = Sampler::new(Registry::new(), &config);
        let ((), logs) = orchestrator_testkit::logs::LogBuffer::capture(|| {
            // Another test thread of this binary may have hit the callsite first, with no
            // subscriber, and cached "never interested"; the test failed once that way.
            tracing::callsite::rebuild_interest_cache();
            for _ in 0..3 {
                sampler.sample();
            }
        });
        let text = logs.text();
        assert_eq!(
            text.matches("orchestrator_memory_limit_bytes is absent")
                .count(),
            1,
            "{text}"
        );
        assert_eq!(
            text.matches("orchestrator_memory_usage_bytes is absent")
                .count(),
            1,
            "{text}"
        );
        assert!(text.contains("WARN"), "{text}");
    }

    #[test]
    fn samples_on_the_interval() {
        let registry = Registry::new();
        let config = ProcessCollectorConfig::default()
            .interval(Duration::from_millis(10))
            .memory_limit(1 << 30);
        let collector = ProcessCollector::start(&registry, config).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let text = registry.render();
        assert!(
            text.contains("orchestrator_memory_limit_bytes 1073741824"),
            "{text}"
        );
        if cfg!(target_os = "linux") {
            assert!(text.contains("orchestrator_memory_usage_bytes "), "{text}");
        }
        drop(collector);
    }
}
