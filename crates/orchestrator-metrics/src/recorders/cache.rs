//! Cache operations: `orchestrator_cache_operations_total{cache, operation, result}`, and
//! their duration as a `dependency="cache"` call.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::handle_cache::HandleCache;
use super::{DependencyKind, counter, histogram};
use crate::catalogue::{
    self,
    labels::{CACHE_OPERATIONS, CACHE_RESULTS},
};
use crate::{CardinalityGuard, CounterHandle, GuardedLabel, HistogramHandle, Registry};

/// A cache operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheOp {
    /// A read.
    Get,
    /// A write.
    Set,
    /// An eviction or delete.
    Delete,
}

/// The result of a cache operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheResult {
    /// A read found the key.
    Hit,
    /// A read did not find the key.
    Miss,
    /// A write or delete succeeded.
    Ok,
    /// The operation failed.
    Error,
}

const OPS: usize = CACHE_OPERATIONS.len();
const RESULTS: usize = CACHE_RESULTS.len();

/// Whether an (operation, result) pair is an ordinary one: reads hit, miss or fail; writes
/// and deletes succeed or fail. Ordinary pairs are created (at zero) when a cache is first
/// seen, so `rate()` sees their first increment; the others only if they are ever recorded.
fn ordinary(op: usize, result: usize) -> bool {
    let read = op == CacheOp::Get as usize;
    let read_result = result == CacheResult::Hit as usize || result == CacheResult::Miss as usize;
    result == CacheResult::Error as usize || read == read_result
}

#[derive(Debug, Clone)]
struct Handles {
    name: Arc<str>,
    /// By operation then result.
    operations: Arc<[[OnceLock<CounterHandle>; RESULTS]; OPS]>,
    duration: HistogramHandle,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    guard: Arc<CardinalityGuard>,
    cache: HandleCache<Box<str>, Handles>,
}

/// Records cache operations. Cheap to clone.
///
/// ```
/// use std::time::Duration;
/// use orchestrator_metrics::{CacheOp, CacheResult, Metrics, Registry};
///
/// let registry = Registry::new();
/// let cache = Metrics::new(&registry).cache().clone();
/// cache.record("prompts", CacheOp::Get, CacheResult::Hit, Some(Duration::from_micros(40)));
/// assert!(registry.render().contains(
///     r#"orchestrator_cache_operations_total{cache="prompts",operation="get",result="hit"} 1"#
/// ));
/// ```
#[derive(Debug, Clone)]
pub struct CacheMetrics {
    inner: Arc<Inner>,
}

impl CacheMetrics {
    pub(crate) fn new(registry: &Registry, guard: Arc<CardinalityGuard>) -> Self {
        CacheMetrics {
            inner: Arc::new(Inner {
                registry: registry.clone(),
                guard,
                cache: HandleCache::new(),
            }),
        }
    }

    /// Records one operation on the cache called `cache`, with its duration when measured.
    #[inline]
    pub fn record(
        &self,
        cache: &str,
        op: CacheOp,
        result: CacheResult,
        duration: Option<Duration>,
    ) {
        let registry = &self.inner.registry;
        let handles = &self.inner.cache;
        match handles.find(handles.hash(cache, 0), |k| &**k == cache) {
            Some(h) => h.record(registry, op, result, duration),
            None => self.resolve(cache).record(registry, op, result, duration),
        }
    }

    #[cold]
    fn resolve(&self, cache: &str) -> Handles {
        let name = self.inner.guard.admit(GuardedLabel::Cache, cache);
        let name: &str = &name;
        let target = self.inner.guard.admit(GuardedLabel::Target, cache);
        let target: &str = &target;
        let cache = &self.inner.cache;
        cache.get_or_insert_with(
            cache.hash(name, 0),
            name.into(),
            |k| &**k == name,
            || {
                let r = &self.inner.registry;
                let handles = Handles {
                    name: name.into(),
                    operations: Arc::new(std::array::from_fn(|_| {
                        std::array::from_fn(|_| OnceLock::new())
                    })),
                    duration: histogram(
                        r,
                        &catalogue::DEPENDENCY_DURATION_SECONDS,
                        &[DependencyKind::Cache.as_str(), target],
                    ),
                };
                for op in 0..OPS {
                    for result in (0..RESULTS).filter(|r| ordinary(op, *r)) {
                        handles.counter(r, op, result);
                    }
                }
                handles
            },
        )
    }
}

impl Handles {
    fn counter(&self, registry: &Registry, op: usize, result: usize) -> &CounterHandle {
        self.operations[op][result].get_or_init(|| {
            let values = [&*self.name, CACHE_OPERATIONS[op], CACHE_RESULTS[result]];
            counter(registry, &catalogue::CACHE_OPERATIONS_TOTAL, &values)
        })
    }

    #[inline]
    fn record(
        &self,
        registry: &Registry,
        op: CacheOp,
        result: CacheResult,
        duration: Option<Duration>,
    ) {
        self.counter(registry, op as usize, result as usize)
            .increment(1);
        if let Some(d) = duration {
            let _ = self.duration.observe(d.as_secs_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_pairs() {
        let pairs: Vec<(&str, &str)> = (0..OPS)
            .flat_map(|o| {
                (0..RESULTS)
                    .filter(move |r| ordinary(o, *r))
                    .map(move |r| (CACHE_OPERATIONS[o], CACHE_RESULTS[r]))
            })
            .collect();
        assert_eq!(
            pairs,
            [
                ("get", "hit"),
                ("get", "miss"),
                ("get", "error"),
                ("set", "ok"),
                ("set", "error"),
                ("delete", "ok"),
                ("delete", "error")
            ]
        );
    }

    #[test]
    fn unusual_pairs_are_recorded_not_dropped() {
        let registry = Registry::new();
        let metrics = crate::Metrics::new(&registry);
        metrics
            .cache()
            .record("c", CacheOp::Get, CacheResult::Hit, None);
        assert_eq!(
            registry.series_count_of("orchestrator_cache_operations_total"),
            7
        );
        metrics
            .cache()
            .record("c", CacheOp::Set, CacheResult::Hit, None);
        assert_eq!(
            registry.series_count_of("orchestrator_cache_operations_total"),
            8
        );
        assert!(
            registry
                .render()
                .contains(r#"{cache="c",operation="set",result="hit"} 1"#)
        );
    }
}
