//! `orchestrator_errors_total{component, kind}`.

use std::sync::Arc;

use super::counter;
use super::handle_cache::{HandleCache, Key2, Key2Ref};
use crate::catalogue;
use crate::{CardinalityGuard, CounterHandle, GuardedLabel, Registry};

#[derive(Debug)]
struct Inner {
    registry: Registry,
    guard: Arc<CardinalityGuard>,
    cache: HandleCache<Key2, CounterHandle>,
}

/// Records errors by the component they happened in and their kind. Both labels are guarded.
///
/// ```
/// use orchestrator_metrics::{Metrics, Registry};
///
/// let registry = Registry::new();
/// let metrics = Metrics::new(&registry);
/// metrics.errors().record("database", "constraint_violation");
/// assert!(registry.render().contains(
///     r#"orchestrator_errors_total{component="database",kind="constraint_violation"} 1"#
/// ));
/// ```
#[derive(Debug, Clone)]
pub struct ErrorMetrics {
    inner: Arc<Inner>,
}

impl ErrorMetrics {
    pub(crate) fn new(registry: &Registry, guard: Arc<CardinalityGuard>) -> Self {
        ErrorMetrics {
            inner: Arc::new(Inner {
                registry: registry.clone(),
                guard,
                cache: HandleCache::new(),
            }),
        }
    }

    /// Counts one error.
    #[inline]
    pub fn record(&self, component: &str, kind: &str) {
        let key = Key2Ref {
            a: component,
            b: kind,
        };
        if self.inner.cache.with(&key, |c| c.increment(1)).is_none() {
            self.handle(component, kind).increment(1);
        }
    }

    /// The counter of one (component, kind), resolved once, for a caller that records it
    /// often.
    pub fn handle(&self, component: &str, kind: &str) -> CounterHandle {
        let key = Key2Ref {
            a: component,
            b: kind,
        };
        if let Some(handle) = self.inner.cache.with(&key, CounterHandle::clone) {
            return handle;
        }
        let component = self.inner.guard.admit(GuardedLabel::Component, component);
        let kind = self.inner.guard.admit(GuardedLabel::Kind, kind);
        self.inner
            .cache
            .get_or_insert_with(Key2::new(component, kind), || {
                counter(
                    &self.inner.registry,
                    &catalogue::ERRORS_TOTAL,
                    &[component, kind],
                )
            })
    }
}
