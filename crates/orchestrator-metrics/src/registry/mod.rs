//! A Prometheus registry that knows the catalogue.
//!
//! Every catalogue metric is registered up front with its type, help text and buckets, so a
//! histogram is never a summary and a typo in a name cannot create a second family. Other
//! metrics arrive through the `metrics` facade (see [`Registry`]'s `metrics::Recorder`
//! implementation) or through [`Registry::register`] with a [`MetricDef`] of your own.

mod bounds;
mod cells;
mod exemplar;
mod facade;
mod family;
mod openmetrics;
mod render;
mod snapshot;
mod stripes;
mod visit;
pub use exemplar::Exemplar;
pub use openmetrics::{OPENMETRICS_CONTENT_TYPE, OpenMetricsOptions};
pub use render::CONTENT_TYPE;
pub use snapshot::{BucketExemplar, SeriesRef};
pub use visit::FamilyRef;
pub(crate) mod text;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

pub(crate) use cells::Rejections;
pub use cells::{CounterHandle, GaugeHandle, HistogramHandle};
use family::{Cell, Family};
pub(crate) use stripes::Stripe;

use crate::RejectReason;
use crate::catalogue::{self, LabelDef, MetricDef, MetricKind};

/// The buckets given to a histogram that arrives through the `metrics` facade without a
/// definition: Prometheus's default layout, in seconds.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// An error registering a metric or a series.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegistryError {
    /// The name is already registered with another instrument type.
    #[error("metric `{name}` is already registered as a {existing}, not a {requested}")]
    KindConflict {
        /// The metric name.
        name: String,
        /// The type it was registered with first.
        existing: MetricKind,
        /// The type asked for now.
        requested: MetricKind,
    },
    /// The label values do not match the metric's label names.
    #[error("metric `{name}` takes labels {expected:?}, got {got} value(s)")]
    LabelMismatch {
        /// The metric name.
        name: String,
        /// Its label names.
        expected: Vec<String>,
        /// How many values were given.
        got: usize,
    },
    /// A histogram definition has buckets that are empty, not finite or not increasing.
    #[error(
        "histogram `{name}` has invalid buckets {buckets:?}: they must be finite and strictly increasing"
    )]
    InvalidBuckets {
        /// The metric name.
        name: String,
        /// The buckets given.
        buckets: Vec<f64>,
    },
    /// A histogram is already registered with other buckets.
    #[error("histogram `{name}` is already registered with buckets {existing:?}")]
    BucketConflict {
        /// The metric name.
        name: String,
        /// The buckets it was registered with first.
        existing: Vec<f64>,
    },
    /// The metric name is not a valid Prometheus name.
    #[error("`{name}` is not a valid metric name: use [a-zA-Z_:][a-zA-Z0-9_:]*")]
    InvalidName {
        /// The name given.
        name: String,
    },
}

#[derive(Debug, Default)]
struct Families {
    by_name: HashMap<Box<str>, Arc<Family>>,
    order: Vec<Arc<Family>>,
}

struct Inner {
    families: RwLock<Families>,
    rejections: Arc<Rejections>,
    /// Run before each render: gauges whose value moves with time alone (a rolling
    /// budget's spend) are brought up to date there.
    before_render: RwLock<Vec<RenderHook>>,
    /// Whether the text expositions show the GenAI conventions families.
    expose_semconv: std::sync::atomic::AtomicBool,
    /// Whether the LLM recorder records the GenAI conventions families: only once something
    /// reads them (an OTLP push, or `/metrics` exposing them).
    record_semconv: std::sync::atomic::AtomicBool,
}

/// A function run before each render.
pub(crate) type RenderHook = Arc<dyn Fn() + Send + Sync>;

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("families", &self.families)
            .field("rejections", &self.rejections)
            .finish_non_exhaustive()
    }
}

/// The registry every recorder writes to and `/metrics` renders. Cheap to clone: clones share
/// the same storage.
///
/// Tests build their own with [`Registry::new`]; nothing here is global. To make the
/// `metrics` macros write into it, install it with `metrics::set_global_recorder` (the facade
/// crate's `Telemetry::install` does) or `metrics::with_local_recorder`.
///
/// ```
/// use orchestrator_metrics::{Registry, catalogue};
///
/// let registry = Registry::new();
/// let requests = registry.counter(&catalogue::REQUESTS_TOTAL, &["/v1/chat", "POST", "200"])?;
/// requests.increment(1);
/// let text = registry.render();
/// assert!(text.contains(r#"orchestrator_requests_total{route="/v1/chat",method="POST",status="200"} 1"#));
/// # Ok::<(), orchestrator_metrics::RegistryError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// A registry with every catalogue metric registered. Series without labels, and the
    /// self-monitoring counters, start at zero so that `rate()` sees their first increment.
    pub fn new() -> Self {
        let registry = Registry {
            inner: Arc::new(Inner {
                families: RwLock::default(),
                rejections: Arc::new(Rejections::new()),
                before_render: RwLock::default(),
                expose_semconv: std::sync::atomic::AtomicBool::new(false),
                record_semconv: std::sync::atomic::AtomicBool::new(false),
            }),
        };
        for def in catalogue::ALL {
            // The catalogue is tested to be valid, so registering it cannot fail; if it ever
            // did, the family would simply be created on first use.
            let _ = registry.register(def);
        }
        registry.init_series();
        registry
    }

    fn init_series(&self) {
        for def in catalogue::ALL {
            if def.labels.is_empty() && def.kind != MetricKind::Gauge {
                let _ = self.series(def, &[]);
            }
        }
        for queue in catalogue::labels::QUEUES {
            let _ = self.counter(&catalogue::TELEMETRY_DROPPED_TOTAL, &[queue]);
        }
        for label in catalogue::labels::GUARDED_LABELS {
            let _ = self.counter(&catalogue::LABEL_VALUES_FOLDED_TOTAL, &[label]);
        }
        if let Ok(family) = self.family(&catalogue::TELEMETRY_REJECTED_VALUES_TOTAL) {
            for reason in RejectReason::ALL {
                let cell = Cell::Counter(self.inner.rejections.cell(reason).clone());
                family.insert_cell(&[("reason", reason.as_str())], cell);
            }
        }
    }

    /// Registers a metric definition of your own (the catalogue is registered already).
    /// Registering the same definition twice is fine; the same name with another type or
    /// other buckets is an error.
    pub fn register(&self, def: &MetricDef) -> Result<(), RegistryError> {
        self.family(def).map(|_| ())
    }

    /// The counter series of `def` with these label values, in the order of `def.labels`.
    pub fn counter(
        &self,
        def: &MetricDef,
        values: &[&str],
    ) -> Result<CounterHandle, RegistryError> {
        match self.typed_series(def, MetricKind::Counter, values)? {
            Cell::Counter(cell) => Ok(CounterHandle {
                cell,
                rejections: self.rejections().clone(),
            }),
            other => Err(self.kind_conflict(def, other.kind())),
        }
    }

    /// The gauge series of `def` with these label values, in the order of `def.labels`.
    pub fn gauge(&self, def: &MetricDef, values: &[&str]) -> Result<GaugeHandle, RegistryError> {
        match self.typed_series(def, MetricKind::Gauge, values)? {
            Cell::Gauge(cell) => Ok(GaugeHandle {
                cell,
                rejections: self.rejections().clone(),
            }),
            other => Err(self.kind_conflict(def, other.kind())),
        }
    }

    /// The histogram series of `def` with these label values, in the order of `def.labels`.
    pub fn histogram(
        &self,
        def: &MetricDef,
        values: &[&str],
    ) -> Result<HistogramHandle, RegistryError> {
        match self.typed_series(def, MetricKind::Histogram, values)? {
            Cell::Histogram(cell) => Ok(HistogramHandle {
                cell,
                rejections: self.rejections().clone(),
            }),
            other => Err(self.kind_conflict(def, other.kind())),
        }
    }

    /// Shows (or hides again) the GenAI semantic conventions' families
    /// ([`catalogue::semconv`]) in [`render`](Self::render),
    /// [`render_openmetrics`](Self::render_openmetrics) and [`snapshot`](Self::snapshot),
    /// under the names the OpenTelemetry Prometheus exporter gives them
    /// (`gen_ai_client_token_usage_bucket`, ...), for Grafana boards written against those.
    /// Off by default: they repeat the `orchestrator_llm_*` series. Exposing them starts
    /// recording them ([`record_gen_ai`](Self::record_gen_ai)).
    pub fn expose_gen_ai_names(&self, expose: bool) {
        if expose {
            self.record_gen_ai();
        }
        self.inner
            .expose_semconv
            .store(expose, std::sync::atomic::Ordering::Relaxed);
    }

    /// Records the GenAI conventions' families from every LLM call from now on (about 16 ns
    /// more per call, `BENCHMARKS.md`): the OTLP metrics push turns it on when it starts,
    /// and [`expose_gen_ai_names`](Self::expose_gen_ai_names) does. Off until then, so a
    /// service that only scrapes the seed names pays nothing for them.
    pub fn record_gen_ai(&self) {
        self.inner
            .record_semconv
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the LLM recorder records the GenAI conventions' families.
    pub(crate) fn records_gen_ai(&self) -> bool {
        self.inner
            .record_semconv
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether a text exposition shows this family.
    pub(crate) fn exposes(&self, family: &Family) -> bool {
        !family.semconv
            || self
                .inner
                .expose_semconv
                .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The number of series currently held, all families together.
    pub fn series_count(&self) -> usize {
        self.read_families().order.iter().map(|f| f.len()).sum()
    }

    /// The number of series of one metric.
    pub fn series_count_of(&self, name: &str) -> usize {
        self.read_families()
            .by_name
            .get(name)
            .map_or(0, |f| f.len())
    }

    /// Runs `hook` before every render from now on.
    pub(crate) fn before_render(&self, hook: RenderHook) {
        self.inner
            .before_render
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(hook);
    }

    /// Runs the hooks registered to refresh derived series before a read (what `render`
    /// and `snapshot` run first); a reader visiting series with
    /// [`visit_series`](Self::visit_series) calls it once per read.
    pub fn run_render_hooks(&self) {
        let hooks = self
            .inner
            .before_render
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for hook in hooks {
            hook();
        }
    }

    pub(crate) fn rejections(&self) -> &Arc<Rejections> {
        &self.inner.rejections
    }

    fn typed_series(
        &self,
        def: &MetricDef,
        kind: MetricKind,
        values: &[&str],
    ) -> Result<Cell, RegistryError> {
        if def.kind != kind {
            return Err(RegistryError::KindConflict {
                name: def.name.to_owned(),
                existing: def.kind,
                requested: kind,
            });
        }
        self.series(def, values)
    }

    fn series(&self, def: &MetricDef, values: &[&str]) -> Result<Cell, RegistryError> {
        if values.len() != def.labels.len() {
            return Err(RegistryError::LabelMismatch {
                name: def.name.to_owned(),
                expected: def.label_names().map(str::to_owned).collect(),
                got: values.len(),
            });
        }
        let family = self.family(def)?;
        let pairs: Vec<(&str, &str)> = def
            .labels
            .iter()
            .map(|l: &LabelDef| l.name)
            .zip(values.iter().copied())
            .collect();
        Ok(family.get_or_insert(&pairs))
    }

    fn kind_conflict(&self, def: &MetricDef, existing: MetricKind) -> RegistryError {
        RegistryError::KindConflict {
            name: def.name.to_owned(),
            existing,
            requested: def.kind,
        }
    }

    /// The family of `def`, registering it if needed.
    fn family(&self, def: &MetricDef) -> Result<Arc<Family>, RegistryError> {
        if let Some(existing) = self.read_families().by_name.get(def.name) {
            return existing.check_compatible(def).map(|()| existing.clone());
        }
        let family = Arc::new(Family::from_def(def)?);
        let mut families = self
            .inner
            .families
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = families.by_name.get(def.name) {
            return existing.check_compatible(def).map(|()| existing.clone());
        }
        families.by_name.insert(def.name.into(), family.clone());
        families.order.push(family.clone());
        Ok(family)
    }

    /// The family called `name`, created with `kind` when it does not exist (facade path).
    fn family_by_name(&self, name: &str, kind: MetricKind) -> Arc<Family> {
        if let Some(existing) = self.read_families().by_name.get(name) {
            return existing.clone();
        }
        let mut families = self
            .inner
            .families
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = families.by_name.get(name) {
            return existing.clone();
        }
        let family = Arc::new(Family::undefined(name, kind));
        families.by_name.insert(name.into(), family.clone());
        families.order.push(family.clone());
        family
    }

    fn read_families(&self) -> std::sync::RwLockReadGuard<'_, Families> {
        self.inner
            .families
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A histogram cell not attached to any registry, for the impossible case where a catalogue
/// series cannot be registered.
pub(crate) fn detached_histogram(def: &MetricDef) -> cells::HistogramCell {
    cells::HistogramCell::new(std::sync::Arc::new(bounds::Bounds::new(def.buckets)))
}

#[cfg(test)]
mod tests;
