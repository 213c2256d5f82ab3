//! Business events: revenue, conversions, satisfaction and quality scores.

use super::{counter, histogram};
use crate::catalogue;
use crate::{CounterHandle, Exemplar, HistogramHandle, Registry, RejectReason};

/// Records business events. Invalid values (negative revenue, NaN, a satisfaction of 11) are
/// refused, counted in `orchestrator_telemetry_rejected_values_total`, and returned as an
/// error; they are never recorded. Cheap to clone.
///
/// ```
/// use orchestrator_metrics::{Metrics, Registry, RejectReason};
///
/// let registry = Registry::new();
/// let business = Metrics::new(&registry).business().clone();
/// business.record_revenue(19.99)?;
/// business.record_conversion();
/// business.record_satisfaction(8.5)?;
/// assert_eq!(business.record_satisfaction(11.0), Err(RejectReason::OutOfRange));
/// assert_eq!(business.record_revenue(f64::NAN), Err(RejectReason::Nan));
/// # Ok::<(), RejectReason>(())
/// ```
#[derive(Debug, Clone)]
pub struct BusinessMetrics {
    revenue: CounterHandle,
    conversions: CounterHandle,
    satisfaction: HistogramHandle,
    quality: HistogramHandle,
    registry: Registry,
}

impl BusinessMetrics {
    pub(crate) fn new(registry: &Registry) -> Self {
        BusinessMetrics {
            revenue: counter(registry, &catalogue::REVENUE_USD_TOTAL, &[]),
            conversions: counter(registry, &catalogue::CONVERSIONS_TOTAL, &[]),
            satisfaction: histogram(registry, &catalogue::USER_SATISFACTION_SCORE, &[]),
            quality: histogram(registry, &catalogue::QUALITY_SCORE, &[]),
            registry: registry.clone(),
        }
    }

    /// Adds revenue, in US dollars.
    pub fn record_revenue(&self, usd: f64) -> Result<(), RejectReason> {
        self.revenue.add(usd)
    }

    /// Counts one conversion.
    pub fn record_conversion(&self) {
        self.conversions.increment(1);
    }

    /// Records a satisfaction rating on the 0–10 scale.
    pub fn record_satisfaction(&self, score: f64) -> Result<(), RejectReason> {
        self.score(&self.satisfaction, score, 10.0, None)
    }

    /// Records a satisfaction rating given about a sampled trace: the score is also its
    /// bucket's exemplar (`Tracer::record_feedback` passes the judged trace).
    pub fn record_satisfaction_with_exemplar(
        &self,
        score: f64,
        exemplar: Option<Exemplar>,
    ) -> Result<(), RejectReason> {
        self.score(&self.satisfaction, score, 10.0, exemplar)
    }

    /// Records a quality score on the 0–100 scale.
    pub fn record_quality(&self, score: f64) -> Result<(), RejectReason> {
        self.score(&self.quality, score, 100.0, None)
    }

    /// Records a quality score given about a sampled trace, with it as the exemplar.
    pub fn record_quality_with_exemplar(
        &self,
        score: f64,
        exemplar: Option<Exemplar>,
    ) -> Result<(), RejectReason> {
        self.score(&self.quality, score, 100.0, exemplar)
    }

    fn score(
        &self,
        histogram: &HistogramHandle,
        score: f64,
        max: f64,
        exemplar: Option<Exemplar>,
    ) -> Result<(), RejectReason> {
        if score.is_finite() && !(0.0..=max).contains(&score) {
            self.registry.rejections().count(RejectReason::OutOfRange);
            return Err(RejectReason::OutOfRange);
        }
        histogram.observe_maybe_exemplar(score, exemplar)
    }
}
