//! The orchestrator's answer cache: prompt → reply, bounded, with a time to live, as a
//! `tower::Service` wrapped by the telemetry layer: every operation is recorded (hits and
//! misses, a `get answers` span when sampled).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use orchestrator_telemetry::CacheOp;
use orchestrator_telemetry::orchestrator_tower::{
    Cache, CacheRequest, CacheResponse, TelemetryLayer, TelemetryService, Tracer,
};
use tower::{Layer as _, Service, ServiceExt as _};

/// The cache name in the `cache` label.
pub const NAME: &str = "answers";

/// An operation on the cache.
#[derive(Debug, Clone)]
pub enum Command {
    /// Read a key.
    Get(String),
    /// Store a value.
    Set(String, String),
}

impl CacheRequest for Command {
    fn operation(&self) -> CacheOp {
        match self {
            Command::Get(_) => CacheOp::Get,
            Command::Set(..) => CacheOp::Set,
        }
    }
}

/// What the cache answered.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A fresh value was found.
    Found(String),
    /// Nothing fresh under the key.
    Missing,
    /// The value was stored.
    Stored,
}

impl CacheResponse for Reply {
    fn hit(&self) -> Option<bool> {
        match self {
            Reply::Found(_) => Some(true),
            Reply::Missing => Some(false),
            Reply::Stored => None,
        }
    }
}

/// The in-memory store behind the service.
#[derive(Debug, Clone)]
pub struct Store {
    entries: Arc<Mutex<HashMap<String, (String, Instant)>>>,
    ttl: Duration,
    capacity: usize,
}

impl Store {
    fn apply(&self, command: Command) -> Reply {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match command {
            Command::Get(key) => entries
                .get(&key)
                .filter(|(_, at)| at.elapsed() < self.ttl)
                .map_or(Reply::Missing, |(v, _)| Reply::Found(v.clone())),
            Command::Set(key, value) => {
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
                Reply::Stored
            }
        }
    }
}

impl Service<Command> for Store {
    type Response = Reply;
    type Error = Infallible;
    type Future = Ready<Result<Reply, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, command: Command) -> Self::Future {
        ready(Ok(self.apply(command)))
    }
}

/// A bounded TTL cache of answers.
#[derive(Debug, Clone)]
pub struct AnswerCache {
    service: TelemetryService<Store, Cache>,
}

impl AnswerCache {
    /// A cache of `capacity` entries living `ttl` each, recorded through `tracer`.
    pub fn new(tracer: &Tracer, capacity: usize, ttl: Duration) -> Self {
        let store = Store {
            entries: Arc::default(),
            ttl,
            capacity,
        };
        AnswerCache {
            service: TelemetryLayer::cache(tracer, NAME).layer(store),
        }
    }

    async fn call(&self, command: Command) -> Reply {
        match self.service.clone().oneshot(command).await {
            Ok(reply) => reply,
            Err(never) => match never {},
        }
    }

    /// The cached answer to `key`, if fresh.
    pub async fn get(&self, key: &str) -> Option<String> {
        match self.call(Command::Get(key.to_owned())).await {
            Reply::Found(value) => Some(value),
            Reply::Missing | Reply::Stored => None,
        }
    }

    /// Stores an answer, evicting expired entries (or the oldest) when full.
    pub async fn set(&self, key: String, value: String) {
        self.call(Command::Set(key, value)).await;
    }
}
