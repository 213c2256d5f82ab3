//! The sampler: visits the local registry's watched families in place (see `local.rs`: no
//! exposition is built), or parses a remote `/metrics` from a fetch function the caller
//! gives (this crate holds no HTTP client), and keeps only the series that watched
//! expressions read.

use std::sync::Arc;
use std::time::Duration;

use orchestrator_metrics::Registry;
use orchestrator_metrics::exposition::{self, Exposition, ParseError};

use crate::eval::LOOKBACK_MS;
use crate::{Expr, SampleStore, Selector, StoreLimits};
use orchestrator_support::Millis;

/// Why a sample round failed. The store is left as it was.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SampleError {
    /// The remote target did not answer with its exposition.
    #[error("cannot fetch {url}: {reason}")]
    Fetch {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The exposition is malformed.
    #[error("malformed exposition from {source_name}: {error}")]
    Parse {
        /// Where it came from.
        source_name: String,
        /// The parse error, with its line number.
        error: ParseError,
    },
}

/// Why a remote exposition could not be fetched (any error of the caller's client).
pub type FetchError = Box<dyn std::error::Error + Send + Sync>;

/// Fetches a remote exposition: its text, or why not.
pub type Fetch = dyn Fn() -> Result<String, FetchError> + Send + Sync;

#[derive(Clone)]
enum Source {
    Local(Registry),
    Remote { url: String, fetch: Arc<Fetch> },
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Local(_) => f.write_str("Local"),
            Source::Remote { url, .. } => f.debug_tuple("Remote").field(url).finish(),
        }
    }
}

/// Samples a registry or a remote target into a bounded [`SampleStore`].
///
/// ```
/// use std::time::Duration;
/// use orchestrator_metrics::{Metrics, Registry, catalogue::REQUESTS_TOTAL};
/// use orchestrator_query::{Expr, Sampler, Selector, Window, eval};
///
/// let registry = Registry::new();
/// let metrics = Metrics::new(&registry);
/// let total = Expr::value(Selector::of(&REQUESTS_TOTAL))?.sum();
/// let mut sampler = Sampler::local(&registry);
/// sampler.watch(&total);
/// metrics.requests().record("/v1/chat", "POST", 200, Duration::from_millis(10));
/// sampler.sample(1_000)?;
/// assert_eq!(eval(&total, sampler.store(), 1_000).scalar(), Some(1.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sampler {
    source: Source,
    store: SampleStore,
    /// What is watched, by family: each selector reading it, with its retention.
    watched: Vec<crate::local::Watched>,
    /// Each registry series' store slots (emptied with the store).
    routes: crate::local::Routes,
}

impl Sampler {
    /// A sampler of a registry in this process.
    pub fn local(registry: &Registry) -> Self {
        Self::with_source(Source::Local(registry.clone()))
    }

    /// A sampler of a remote endpoint called `url` in errors, whose exposition `fetch`
    /// returns (with `orchestrator-http`'s client, for example: this crate has none).
    pub fn remote(
        url: impl Into<String>,
        fetch: impl Fn() -> Result<String, FetchError> + Send + Sync + 'static,
    ) -> Self {
        Self::with_source(Source::Remote {
            url: url.into(),
            fetch: Arc::new(fetch),
        })
    }

    fn with_source(source: Source) -> Self {
        Sampler {
            source,
            store: SampleStore::default(),
            watched: Vec::new(),
            routes: crate::local::Routes::default(),
        }
    }

    /// Replaces the store limits (the store is emptied).
    pub fn with_limits(mut self, limits: StoreLimits) -> Self {
        self.store = SampleStore::new(limits);
        self.routes.clear();
        self
    }

    /// Sizes the store's points per series from what is watched: sampled every `interval`,
    /// a series needs its longest retention (window plus lookback) divided by the interval;
    /// four times that (plus 8) leaves room for manual ticks (`Monitor::tick_now`). Never
    /// raises the current limit; empties the store. Returns the new `max_points`. A point
    /// pushed out while still inside its window is counted in [`SampleStore::dropped`].
    ///
    /// With the default rules (windows up to 1 h, 15 s interval) that is about 1,000 points
    /// per series instead of 400,000; the total stays bounded by `max_total_points`.
    pub fn fit_points_to(&mut self, interval: Duration) -> usize {
        let longest = self
            .readers()
            .map(|(_, retention)| *retention)
            .max()
            .unwrap_or(0);
        let step = i64::try_from(interval.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        let needed = usize::try_from(longest / step + 1).unwrap_or(usize::MAX);
        let needed = needed.saturating_mul(4).saturating_add(8);
        let mut limits = self.store.limits();
        limits.max_points = limits.max_points.min(needed);
        self.store = SampleStore::new(limits);
        self.routes.clear();
        limits.max_points
    }

    /// Keeps the series `expr` reads, for as long as its windows need (plus the lookback).
    pub fn watch(&mut self, expr: &Expr) {
        for (selector, window) in expr.selectors() {
            let retention = window.map_or(0, |w| w.millis()) + LOOKBACK_MS;
            let def = selector.def();
            match self.watched.iter_mut().find(|w| w.family == def.name) {
                Some(w) => w.readers.push((selector.clone(), retention)),
                None => self.watched.push(crate::local::Watched {
                    family: def.name,
                    kind: def.kind,
                    readers: vec![(selector.clone(), retention)],
                }),
            }
        }
        // A retention may have grown: the series' slots are found again.
        self.routes.clear();
    }

    /// Every watched selector with its retention.
    fn readers(&self) -> impl Iterator<Item = &(Selector, Millis)> {
        self.watched.iter().flat_map(|w| &w.readers)
    }

    /// Takes one sample at time `at` and stores what is watched: the watched families of a
    /// local registry, visited in place (no text rendered or parsed, no exposition built;
    /// each series' store slots found once), or a remote exposition fetched and parsed.
    /// Returns how many points were stored.
    pub fn sample(&mut self, at: Millis) -> Result<usize, SampleError> {
        let parsed = match &self.source {
            Source::Local(registry) => {
                return Ok(self
                    .routes
                    .sample(registry, &self.watched, &mut self.store, at));
            }
            Source::Remote { url, fetch } => {
                let text = fetch().map_err(|e| SampleError::Fetch {
                    url: url.clone(),
                    reason: e.to_string(),
                })?;
                exposition::parse(&text).map_err(|error| SampleError::Parse {
                    source_name: url.clone(),
                    error,
                })?
            }
        };
        Ok(self.store_exposition(&parsed, at))
    }

    /// Stores what is watched from an exposition text taken at time `at`.
    pub fn ingest(&mut self, text: &str, at: Millis) -> Result<usize, ParseError> {
        Ok(self.store_exposition(&exposition::parse(text)?, at))
    }

    fn store_exposition(&mut self, parsed: &Exposition, at: Millis) -> usize {
        let mut stored = 0;
        for sample in parsed.families.iter().flat_map(|f| &f.samples) {
            let label = |name: &str| sample.label(name);
            let retention = self
                .readers()
                .filter(|(selector, _)| selector.matches(&sample.name, label))
                .map(|(_, retention)| *retention)
                .max();
            if let Some(retention) = retention {
                self.store
                    .append(&sample.name, &sample.labels, at, sample.value, retention);
                stored += 1;
            }
        }
        self.store.mark_stale(at);
        stored
    }

    /// The store.
    pub fn store(&self) -> &SampleStore {
        &self.store
    }
}
