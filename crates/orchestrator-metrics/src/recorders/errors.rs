//! `orchestrator_errors_total{component, kind}`.

use std::sync::Arc;

use super::counter;
use super::handle_cache::HandleCache;
use crate::catalogue;
use crate::{CardinalityGuard, CounterHandle, GuardedLabel, Registry};

#[derive(Debug)]
struct Inner {
    registry: Registry,
    guard: Arc<CardinalityGuard>,
    cache: HandleCache<(Box<str>, Box<str>), CounterHandle>,
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
        let cache = &self.inner.cache;
        match cache.find(cache.hash2(component, kind), eq(component, kind)) {
            Some(counter) => counter.increment(1),
            None => self.handle(component, kind).increment(1),
        }
    }

    /// The counter of one (component, kind), resolved once, for a caller that records it
    /// often.
    pub fn handle(&self, component: &str, kind: &str) -> CounterHandle {
        let cache = &self.inner.cache;
        if let Some(handle) = cache.find(cache.hash2(component, kind), eq(component, kind)) {
            return handle.clone();
        }
        let component = self.inner.guard.admit(GuardedLabel::Component, component);
        let component: &str = &component;
        let kind = self.inner.guard.admit(GuardedLabel::Kind, kind);
        let kind: &str = &kind;
        let key = (component.into(), kind.into());
        cache.get_or_insert_with(
            cache.hash2(component, kind),
            key,
            eq(component, kind),
            || {
                counter(
                    &self.inner.registry,
                    &catalogue::ERRORS_TOTAL,
                    &[component, kind],
                )
            },
        )
    }
}

fn eq<'a>(a: &'a str, b: &'a str) -> impl Fn(&(Box<str>, Box<str>)) -> bool + 'a {
    move |k| &*k.0 == a && &*k.1 == b
}
