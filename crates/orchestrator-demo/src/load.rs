//! The load generator: virtual users open a session, send a few messages, leave feedback
//! and close the session, until the deadline.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::incident::{Incident, IncidentSwitch};
use crate::provider::MODELS;
use crate::rng::SharedRng;

/// How much load to generate.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// How long to run.
    pub duration: Duration,
    /// Concurrent virtual users.
    pub concurrency: usize,
    /// The first user id drawn (`user-N`): replicas given overlapping ranges share users.
    pub users_from: u64,
    /// Distinct user ids to draw from, starting at `users_from`.
    pub users: u64,
    /// Tenants the users belong to (`tenant-0`...), sent as `x-tenant-id`; 0 sends none.
    pub tenants: u64,
    /// Seed of the random source.
    pub seed: u64,
    /// Show a progress bar on the terminal.
    pub progress: bool,
    /// Set to stop early (SIGTERM): each virtual user sends no new message, closes its
    /// session, and returns; requests in flight finish.
    pub stop: Arc<AtomicBool>,
    /// During an `unhappy` incident, users rate their sessions around 3 / 10.
    pub incident: IncidentSwitch,
    /// How many of the virtual users are active, and how long they rest between sessions:
    /// changed during a run to vary the traffic.
    pub traffic: Traffic,
}

/// The traffic dial of a running load: how many of the `concurrency` virtual users start new
/// sessions, and the pause each takes between two sessions. All of them, without pause, by
/// default.
#[derive(Debug, Clone)]
pub struct Traffic {
    active: Arc<AtomicUsize>,
    pause_ms: Arc<AtomicU64>,
}

impl Default for Traffic {
    fn default() -> Self {
        Traffic {
            active: Arc::new(AtomicUsize::new(usize::MAX)),
            pause_ms: Arc::default(),
        }
    }
}

impl Traffic {
    /// Lets the first `users` virtual users start sessions (0: no traffic at all); the others
    /// finish the session they are in, then wait.
    pub fn set_active(&self, users: usize) {
        self.active.store(users, Ordering::Relaxed);
    }

    /// The pause each active user takes after a session.
    pub fn set_pause(&self, pause: Duration) {
        let ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX);
        self.pause_ms.store(ms, Ordering::Relaxed);
    }

    fn allows(&self, user: usize) -> bool {
        user < self.active.load(Ordering::Relaxed)
    }

    fn pause(&self) -> Duration {
        Duration::from_millis(self.pause_ms.load(Ordering::Relaxed))
    }
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            duration: Duration::from_secs(30),
            concurrency: 16,
            users_from: 0,
            users: 2_000,
            tenants: 5,
            seed: 42,
            progress: false,
            stop: Arc::default(),
            incident: IncidentSwitch::default(),
            traffic: Traffic::default(),
        }
    }
}

/// What the load generator sent, counted on the client side.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Requests sent, by HTTP status (0 for transport failures).
    pub by_status: BTreeMap<u16, u64>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// The distinct user ids whose session the API opened (`user-N` for each `N`).
    pub users: BTreeSet<u64>,
}

impl LoadReport {
    /// Requests that got an HTTP answer.
    pub fn answered(&self) -> u64 {
        self.by_status
            .iter()
            .filter(|(s, _)| **s != 0)
            .map(|(_, n)| n)
            .sum()
    }
}

const PROMPTS: &[&str] = &[
    "Summarise my last invoice",
    "What is the refund policy?",
    "Translate 'good morning' into French",
    "Write a haiku about observability",
    "How do I reset my password?",
    "Explain histograms versus summaries",
    "Draft a polite reminder email",
    "What are your opening hours?",
    "Suggest three names for a cat",
    "Give me a recipe with lentils",
    "Compare plan A and plan B",
    "What does error 429 mean?",
];

struct Counts {
    by_status: Mutex<BTreeMap<u16, u64>>,
    total: AtomicU64,
    users: Mutex<BTreeSet<u64>>,
}

impl Counts {
    fn add(&self, status: u16) {
        *self
            .by_status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(status)
            .or_default() += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
    }
}

/// Drives the API at `base_url` until the deadline and reports what was sent.
pub async fn run(base_url: &str, config: &LoadConfig) -> LoadReport {
    let counts = Arc::new(Counts {
        by_status: Mutex::default(),
        total: AtomicU64::new(0),
        users: Mutex::default(),
    });
    let start = Instant::now();
    let deadline = start + config.duration;
    let bar = progress_bar(config);
    let ticker = {
        let (bar, counts) = (bar.clone(), counts.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                bar.set_position(
                    start
                        .elapsed()
                        .as_secs()
                        .min(bar.length().unwrap_or(u64::MAX)),
                );
                bar.set_message(format!("{} requests", counts.total.load(Ordering::Relaxed)));
            }
        })
    };
    let client = reqwest::Client::new();
    let workers: Vec<_> = (0..config.concurrency)
        .map(|i| {
            let user = VirtualUser {
                index: i,
                traffic: config.traffic.clone(),
                client: client.clone(),
                base: base_url.trim_end_matches('/').to_owned(),
                rng: SharedRng::new(config.seed.wrapping_add(i as u64 * 7919)),
                users_from: config.users_from,
                users: config.users,
                tenants: config.tenants,
                counts: counts.clone(),
                stop: config.stop.clone(),
                incident: config.incident.clone(),
            };
            tokio::spawn(async move { user.run_until(deadline).await })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    ticker.abort();
    bar.finish_and_clear();
    let by_status = counts
        .by_status
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let users = std::mem::take(&mut *counts.users.lock().unwrap_or_else(PoisonError::into_inner));
    LoadReport {
        by_status,
        elapsed: start.elapsed(),
        users,
    }
}

fn progress_bar(config: &LoadConfig) -> ProgressBar {
    if !config.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(config.duration.as_secs());
    if let Ok(style) = ProgressStyle::with_template("  load {bar:40} {pos}/{len}s {msg}") {
        bar.set_style(style);
    }
    bar
}

struct VirtualUser {
    index: usize,
    traffic: Traffic,
    client: reqwest::Client,
    base: String,
    rng: SharedRng,
    users_from: u64,
    users: u64,
    tenants: u64,
    counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
    incident: IncidentSwitch,
}

impl VirtualUser {
    fn over(&self, deadline: Instant) -> bool {
        Instant::now() >= deadline || self.stop.load(Ordering::Relaxed)
    }

    async fn run_until(&self, deadline: Instant) {
        while !self.over(deadline) {
            if !self.traffic.allows(self.index) {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            self.one_session(deadline).await;
            // In slices, so a lowered pause or a stop takes effect soon.
            let resume = Instant::now() + self.traffic.pause();
            while Instant::now() < resume && !self.over(deadline) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Option<Value> {
        match request.send().await {
            Ok(response) => {
                self.counts.add(response.status().as_u16());
                response.json::<Value>().await.ok()
            }
            Err(_) => {
                self.counts.add(0);
                None
            }
        }
    }

    /// A user's pause between actions (log-normal, median 60 ms: ten times shorter than a
    /// person's, like the provider's timings).
    async fn think(&self) {
        let pause = self.rng.log_normal(0.06, 0.7).min(1.0);
        tokio::time::sleep(Duration::from_secs_f64(pause)).await;
    }

    async fn one_session(&self, deadline: Instant) {
        // A skewed draw: a few users come back often, most rarely.
        let user = self.users_from
            + ((self.rng.unit().powi(3) * self.users as f64) as u64)
                .min(self.users.saturating_sub(1));
        // Each user belongs to one tenant: the API bills the session's calls to it.
        let tenant = (self.tenants > 0).then(|| format!("tenant-{}", user % self.tenants));
        let with_tenant = |request: reqwest::RequestBuilder| match &tenant {
            Some(t) => request.header("x-tenant-id", t),
            None => request,
        };
        let created = self
            .send(
                with_tenant(self.client.post(format!("{}/v1/sessions", self.base)))
                    .json(&serde_json::json!({"user_id": format!("user-{user}")})),
            )
            .await;
        let Some(id) = created.and_then(|v| v.get("session_id").and_then(Value::as_i64)) else {
            return;
        };
        // The API recorded the user's activity with the session.
        self.counts
            .users
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(user);
        let messages = self.rng.range(1, 5);
        for _ in 0..messages {
            if self.over(deadline) {
                break;
            }
            self.think().await;
            // A prompt and one of 40 contexts: popular questions repeat, so the answer
            // cache hits, but far from always.
            let prompt = format!(
                "{} (context {})",
                PROMPTS[self.rng.range(0, PROMPTS.len() as u64) as usize],
                self.rng.range(0, 40)
            );
            // One message in twenty is a question for the research agent: a run takes a
            // few LLM steps and tools, so few enough of them to stay out of the API's p95.
            if self.rng.chance(0.05) {
                let body = serde_json::json!({"question": prompt});
                self.send(
                    with_tenant(
                        self.client
                            .post(format!("{}/v1/sessions/{id}/research", self.base)),
                    )
                    .json(&body),
                )
                .await;
                continue;
            }
            let roll = self.rng.unit();
            let model = if roll < 0.7 {
                MODELS[0]
            } else if roll < 0.9 {
                MODELS[1]
            } else {
                MODELS[2]
            };
            let body = serde_json::json!({"prompt": prompt, "model": model.model});
            self.send(
                with_tenant(
                    self.client
                        .post(format!("{}/v1/sessions/{id}/messages", self.base)),
                )
                .json(&body),
            )
            .await;
        }
        self.think().await;
        let typical = if self.incident.is(Incident::Unhappy) {
            3.0
        } else {
            8.3
        };
        let satisfaction = (typical + self.rng.log_normal(1.0, 0.5).ln() * 1.5).clamp(0.0, 10.0);
        let quality = (78.0 + self.rng.log_normal(1.0, 0.4).ln() * 25.0).clamp(0.0, 100.0);
        let converted = self.rng.chance(0.18);
        let mut body = serde_json::json!({"satisfaction": satisfaction, "quality": quality, "converted": converted});
        if converted {
            body["purchase_usd"] =
                serde_json::json!([9.99, 19.99, 49.0][self.rng.range(0, 3) as usize]);
        }
        self.send(
            with_tenant(
                self.client
                    .post(format!("{}/v1/sessions/{id}/feedback", self.base)),
            )
            .json(&body),
        )
        .await;
        self.send(with_tenant(
            self.client
                .delete(format!("{}/v1/sessions/{id}", self.base)),
        ))
        .await;
    }
}
