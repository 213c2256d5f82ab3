//! The orchestrator's answer cache: prompt → reply, bounded, with a time to live. Every
//! operation is recorded through `CacheMetrics`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use orchestrator_telemetry::{CacheOp, CacheResult, Metrics};

/// The cache name in the `cache` label.
pub const NAME: &str = "answers";

/// A bounded TTL cache of answers.
#[derive(Debug, Clone)]
pub struct AnswerCache {
    entries: Arc<Mutex<HashMap<String, (String, Instant)>>>,
    ttl: Duration,
    capacity: usize,
    metrics: Metrics,
}

impl AnswerCache {
    /// A cache of `capacity` entries living `ttl` each.
    pub fn new(metrics: Metrics, capacity: usize, ttl: Duration) -> Self {
        AnswerCache {
            entries: Arc::default(),
            ttl,
            capacity,
            metrics,
        }
    }

    /// The cached answer to `key`, if fresh.
    pub fn get(&self, key: &str) -> Option<String> {
        let start = Instant::now();
        let found = {
            let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            entries
                .get(key)
                .filter(|(_, at)| at.elapsed() < self.ttl)
                .map(|(v, _)| v.clone())
        };
        let result = if found.is_some() {
            CacheResult::Hit
        } else {
            CacheResult::Miss
        };
        self.metrics
            .cache()
            .record(NAME, CacheOp::Get, result, Some(start.elapsed()));
        found
    }

    /// Stores an answer, evicting expired entries (or the oldest) when full.
    pub fn set(&self, key: String, value: String) {
        let start = Instant::now();
        {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if entries.len() >= self.capacity {
                entries.retain(|_, (_, at)| at.elapsed() < self.ttl);
            }
            if entries.len() >= self.capacity {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    entries.remove(&oldest);
                }
            }
            entries.insert(key, (value, Instant::now()));
        }
        self.metrics
            .cache()
            .record(NAME, CacheOp::Set, CacheResult::Ok, Some(start.elapsed()));
    }
}
