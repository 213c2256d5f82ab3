//! Calls to databases, caches and external APIs:
//! `orchestrator_dependency_duration_seconds{dependency, target}`.

use std::sync::Arc;
use std::time::Duration;

use super::handle_cache::HandleCache;
use super::{ErrorMetrics, histogram};
use crate::catalogue::{self, labels::DEPENDENCY_KINDS};
use crate::{CardinalityGuard, GuardedLabel, HistogramHandle, Registry};

/// The kind of dependency a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DependencyKind {
    /// A database.
    Database,
    /// A cache.
    Cache,
    /// An external HTTP API.
    External,
}

impl DependencyKind {
    /// The `dependency` label value, also the error `component` of failed calls.
    pub const fn as_str(self) -> &'static str {
        DEPENDENCY_KINDS[self as usize]
    }
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    guard: Arc<CardinalityGuard>,
    errors: ErrorMetrics,
    cache: HandleCache<(Box<str>, u8), HistogramHandle>,
}

/// Records calls to dependencies. Cheap to clone.
///
/// ```
/// use std::time::Duration;
/// use orchestrator_metrics::{DependencyKind, Metrics, Registry};
///
/// let registry = Registry::new();
/// let deps = Metrics::new(&registry).dependencies().clone();
/// deps.record(DependencyKind::Database, "sqlite", Duration::from_micros(800), None);
/// deps.record(DependencyKind::External, "moderation-api", Duration::from_millis(90), Some("timeout"));
/// assert!(registry.render().contains(r#"orchestrator_errors_total{component="external",kind="timeout"} 1"#));
/// ```
#[derive(Debug, Clone)]
pub struct DependencyMetrics {
    inner: Arc<Inner>,
}

impl DependencyMetrics {
    pub(crate) fn new(
        registry: &Registry,
        guard: Arc<CardinalityGuard>,
        errors: ErrorMetrics,
    ) -> Self {
        DependencyMetrics {
            inner: Arc::new(Inner {
                registry: registry.clone(),
                guard,
                errors,
                cache: HandleCache::new(),
            }),
        }
    }

    /// Records one call to `target` and, when `error` names a failure kind, counts it in
    /// `orchestrator_errors_total{component=<kind>, kind=<error>}`.
    #[inline]
    pub fn record(
        &self,
        kind: DependencyKind,
        target: &str,
        duration: Duration,
        error: Option<&str>,
    ) {
        let seconds = duration.as_secs_f64();
        let cache = &self.inner.cache;
        // A Duration is finite and non-negative: the observation cannot be refused.
        let _ = match cache.find(cache.hash(target, kind as u64), eq(kind, target)) {
            Some(histogram) => histogram.observe(seconds),
            None => self.handle(kind, target).observe(seconds),
        };
        if let Some(error) = error {
            self.inner.errors.record(kind.as_str(), error);
        }
    }

    /// The duration histogram of one target, resolved once.
    pub fn handle(&self, kind: DependencyKind, target: &str) -> HistogramHandle {
        let cache = &self.inner.cache;
        if let Some(h) = cache.find(cache.hash(target, kind as u64), eq(kind, target)) {
            return h.clone();
        }
        let target = self.inner.guard.admit(GuardedLabel::Target, target);
        let target: &str = &target;
        let hash = cache.hash(target, kind as u64);
        cache.get_or_insert_with(hash, (target.into(), kind as u8), eq(kind, target), || {
            histogram(
                &self.inner.registry,
                &catalogue::DEPENDENCY_DURATION_SECONDS,
                &[kind.as_str(), target],
            )
        })
    }
}

fn eq(kind: DependencyKind, target: &str) -> impl Fn(&(Box<str>, u8)) -> bool + '_ {
    move |k| k.1 == kind as u8 && &*k.0 == target
}
