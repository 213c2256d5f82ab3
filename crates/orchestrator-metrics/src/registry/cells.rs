//! Storage for one series, and the public handles that write to it.
//!
//! Writing is lock-free and, on a thread holding a stripe, free of atomic
//! read-modify-writes (see `registry/stripes.rs`): a counter is one load and one
//! store, a histogram one bucket search and two of each. Histograms keep per-bucket counts
//! and cumulate them when rendering, so `_count` always equals the `+Inf` bucket.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::bounds::Bounds;
use super::exemplar::{Exemplar, Slots};
use super::stripes::{INLINE, Stripe, Striped, add_f64};
use crate::RejectReason;

/// Storage of a counter: an integer part for `u64` increments (exact) and a floating part
/// for fractional increments such as US dollars.
#[derive(Debug)]
pub(crate) struct CounterCell {
    /// Word 0: the integer part; word 1: the bits of the floating part.
    words: Striped,
}

impl Default for CounterCell {
    fn default() -> Self {
        CounterCell {
            words: Striped::new(2),
        }
    }
}

impl CounterCell {
    #[inline]
    pub(crate) fn increment(&self, n: u64) {
        self.increment_in(Stripe::current(), n);
    }

    #[inline]
    pub(crate) fn increment_in(&self, stripe: Stripe, n: u64) {
        self.words.add_in(stripe, 0, n);
    }

    pub(crate) fn absolute(&self, n: u64) {
        self.words.max_shared(0, n);
    }

    fn add_float_in(&self, stripe: Stripe, v: f64) {
        self.words.add_f64_in(stripe, 1, v);
    }

    /// The integer part, and the fractional part when one was ever added.
    pub(crate) fn parts(&self) -> (u64, f64) {
        self.words.sum_int_float()
    }

    pub(crate) fn value(&self) -> f64 {
        let (int, float) = self.parts();
        int as f64 + float
    }
}

/// Storage of a gauge: the bits of an `f64`.
#[derive(Debug, Default)]
pub(crate) struct GaugeCell {
    bits: AtomicU64,
}

impl GaugeCell {
    pub(crate) fn value(&self) -> f64 {
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }

    /// Whether the gauge is rendered: NaN only gets in through `GaugeHandle::clear`.
    pub(crate) fn present(&self) -> bool {
        !self.value().is_nan()
    }

    fn set(&self, v: f64) {
        self.bits.store(v.to_bits(), Ordering::Relaxed);
    }

    fn add(&self, v: f64) {
        add_f64(&self.bits, v);
    }
}

/// Storage of a histogram with explicit bucket bounds.
#[derive(Debug)]
pub(crate) struct HistogramCell {
    bounds: Arc<Bounds>,
    /// Words `0..=bounds.len()`: one count per bound plus the `+Inf` bucket, not cumulative;
    /// word `bounds.len() + 1`: the bits of the sum.
    words: Striped,
    /// The most recent exemplar per bucket, made on the first one.
    pub(crate) exemplars: Slots,
}

impl HistogramCell {
    pub(crate) fn new(bounds: Arc<Bounds>) -> Self {
        let words = Striped::new(bounds.len() + 2);
        HistogramCell {
            bounds,
            words,
            exemplars: Slots::default(),
        }
    }

    /// The word holding the sum.
    #[inline]
    fn sum_word(&self) -> usize {
        self.bounds.len() + 1
    }

    /// Records `v` in `stripe`, found by this thread.
    #[inline]
    fn observe_in(&self, stripe: Stripe, v: f64) {
        let idx = self.bounds.bucket(v);
        self.words
            .add_and_add_f64_in(stripe, idx, 1, self.sum_word(), v);
    }

    fn observe_exemplar(&self, v: f64, exemplar: Exemplar) {
        let idx = self.bounds.bucket(v);
        self.words
            .add_and_add_f64_in(Stripe::current(), idx, 1, self.sum_word(), v);
        self.exemplars.put(self.bounds.len() + 1, idx, exemplar, v);
    }

    fn observe_many(&self, v: f64, n: u64) {
        let idx = self.bounds.bucket(v);
        self.words
            .add_and_add_f64_in(Stripe::current(), idx, n, self.sum_word(), v * n as f64);
    }

    /// Per-bucket (non-cumulative) counts, the `+Inf` bucket last, lent to `f` from a
    /// buffer on the stack (no copy of it, as an iterator holding it would make).
    #[inline]
    pub(crate) fn with_counts<R>(&self, f: impl FnOnce(&[u64]) -> R) -> R {
        let n = self.bounds.len() + 1;
        let mut small = [0u64; INLINE];
        if let Some(counts) = small.get_mut(..n) {
            self.words.sum_into(counts);
            return f(counts);
        }
        let counts: Vec<u64> = self.counts().collect();
        f(&counts)
    }

    /// Per-bucket (non-cumulative) counts, the `+Inf` bucket last.
    pub(crate) fn counts(&self) -> impl Iterator<Item = u64> + '_ {
        let totals = self.words.totals();
        (0..=self.bounds.len()).map(move |i| match &totals {
            Some(totals) => totals[i],
            None => self.words.sum(i),
        })
    }

    pub(crate) fn sum(&self) -> f64 {
        self.words.sum_f64(self.sum_word())
    }

    pub(crate) fn count(&self) -> u64 {
        self.counts().sum()
    }
}

/// The per-reason counters of `orchestrator_telemetry_rejected_values_total`, shared by
/// every handle of a registry.
#[derive(Debug)]
pub(crate) struct Rejections {
    cells: [Arc<CounterCell>; RejectReason::ALL.len()],
}

impl Rejections {
    pub(crate) fn new() -> Self {
        Rejections {
            cells: std::array::from_fn(|_| Arc::new(CounterCell::default())),
        }
    }

    pub(crate) fn cell(&self, reason: RejectReason) -> &Arc<CounterCell> {
        &self.cells[reason as usize]
    }

    pub(crate) fn count(&self, reason: RejectReason) {
        self.count_in(Stripe::current(), reason);
    }

    /// [`count`](Self::count) into `stripe`, found by this thread.
    #[inline]
    pub(crate) fn count_in(&self, stripe: Stripe, reason: RejectReason) {
        self.cell(reason).increment_in(stripe, 1);
    }
}

/// A handle to one counter series. Cheap to clone; resolve it once and keep it.
///
/// ```
/// use orchestrator_metrics::{Registry, catalogue};
///
/// let registry = Registry::new();
/// let revenue = registry.counter(&catalogue::REVENUE_USD_TOTAL, &[])?;
/// revenue.add(12.5)?;
/// assert!(revenue.add(-1.0).is_err()); // refused and counted, never recorded
/// assert_eq!(revenue.get(), 12.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CounterHandle {
    pub(crate) cell: Arc<CounterCell>,
    pub(crate) rejections: Arc<Rejections>,
}

impl CounterHandle {
    /// Adds a whole number to the counter.
    #[inline]
    pub fn increment(&self, n: u64) {
        self.cell.increment(n);
    }

    /// Adds a fractional amount. NaN, infinite and negative amounts are refused, counted in
    /// `orchestrator_telemetry_rejected_values_total`, and returned as an error.
    pub fn add(&self, v: f64) -> Result<(), RejectReason> {
        self.add_in(Stripe::current(), v)
    }

    /// [`increment`](Self::increment) into `stripe`, found by this thread.
    #[inline]
    pub(crate) fn increment_in(&self, stripe: Stripe, n: u64) {
        self.cell.increment_in(stripe, n);
    }

    /// [`add`](Self::add) into `stripe`, found by this thread.
    pub(crate) fn add_in(&self, stripe: Stripe, v: f64) -> Result<(), RejectReason> {
        match RejectReason::check_non_negative(v) {
            Some(reason) => {
                self.rejections.count_in(stripe, reason);
                Err(reason)
            }
            None => {
                self.cell.add_float_in(stripe, v);
                Ok(())
            }
        }
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.cell.value()
    }
}

/// A handle to one gauge series.
#[derive(Debug, Clone)]
pub struct GaugeHandle {
    pub(crate) cell: Arc<GaugeCell>,
    pub(crate) rejections: Arc<Rejections>,
}

impl GaugeHandle {
    /// Sets the gauge. NaN is refused and counted.
    pub fn set(&self, v: f64) -> Result<(), RejectReason> {
        self.guard(v).map(|v| self.cell.set(v))
    }

    /// Adds to the gauge (a negative amount lowers it). NaN is refused and counted.
    pub fn increment(&self, v: f64) -> Result<(), RejectReason> {
        self.guard(v).map(|v| self.cell.add(v))
    }

    /// Subtracts from the gauge. NaN is refused and counted.
    pub fn decrement(&self, v: f64) -> Result<(), RejectReason> {
        self.guard(v).map(|v| self.cell.add(-v))
    }

    /// The current value (NaN while [cleared](Self::clear)).
    pub fn get(&self) -> f64 {
        self.cell.value()
    }

    /// Takes the series out of the exposition until the next [`set`](Self::set): for a
    /// value that is no longer known (a backend went away), so readers see an absent
    /// series rather than a stale figure. `increment` and `decrement` leave it absent.
    pub fn clear(&self) {
        self.cell.set(f64::NAN);
    }

    /// Whether the series is in the exposition (set since created or last cleared).
    pub fn is_present(&self) -> bool {
        !self.cell.value().is_nan()
    }

    fn guard(&self, v: f64) -> Result<f64, RejectReason> {
        if v.is_nan() {
            self.rejections.count(RejectReason::Nan);
            return Err(RejectReason::Nan);
        }
        Ok(v)
    }
}

/// A handle to one histogram series.
#[derive(Debug, Clone)]
pub struct HistogramHandle {
    pub(crate) cell: Arc<HistogramCell>,
    pub(crate) rejections: Arc<Rejections>,
}

impl HistogramHandle {
    /// Records one observation. NaN and infinite values are refused and counted.
    #[inline]
    pub fn observe(&self, v: f64) -> Result<(), RejectReason> {
        self.observe_in(Stripe::current(), v)
    }

    /// [`observe`](Self::observe) into `stripe`, found by this thread.
    #[inline(always)]
    pub(crate) fn observe_in(&self, stripe: Stripe, v: f64) -> Result<(), RejectReason> {
        if let Some(reason) = RejectReason::check_finite(v) {
            self.rejections.count_in(stripe, reason);
            return Err(reason);
        }
        self.cell.observe_in(stripe, v);
        Ok(())
    }

    /// Records one observation made in a sampled trace: it also becomes its bucket's
    /// exemplar (the OpenMetrics exposition shows the most recent one per bucket). NaN and
    /// infinite values are refused and counted.
    pub fn observe_exemplar(&self, v: f64, exemplar: Exemplar) -> Result<(), RejectReason> {
        if let Some(reason) = RejectReason::check_finite(v) {
            self.rejections.count(reason);
            return Err(reason);
        }
        self.cell.observe_exemplar(v, exemplar);
        Ok(())
    }

    /// Records one observation, with an exemplar when the caller's trace is sampled.
    #[inline]
    pub fn observe_maybe_exemplar(
        &self,
        v: f64,
        exemplar: Option<Exemplar>,
    ) -> Result<(), RejectReason> {
        self.observe_maybe_exemplar_in(Stripe::current(), v, exemplar)
    }

    /// [`observe_maybe_exemplar`](Self::observe_maybe_exemplar) into `stripe`, found by
    /// this thread.
    #[inline]
    pub(crate) fn observe_maybe_exemplar_in(
        &self,
        stripe: Stripe,
        v: f64,
        exemplar: Option<Exemplar>,
    ) -> Result<(), RejectReason> {
        match exemplar {
            None => self.observe_in(stripe, v),
            Some(exemplar) => self.observe_exemplar(v, exemplar),
        }
    }

    /// Records the same observation `n` times.
    pub fn observe_many(&self, v: f64, n: u64) -> Result<(), RejectReason> {
        if let Some(reason) = RejectReason::check_finite(v) {
            self.rejections.count(reason);
            return Err(reason);
        }
        self.cell.observe_many(v, n);
        Ok(())
    }

    /// The number of observations so far.
    pub fn count(&self) -> u64 {
        self.cell.count()
    }

    /// The sum of observations so far.
    pub fn sum(&self) -> f64 {
        self.cell.sum()
    }
}
