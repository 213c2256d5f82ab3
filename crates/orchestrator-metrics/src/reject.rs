//! Why a value is refused instead of recorded.

use std::fmt;

/// Why a recorder refused a value. Every refusal is counted in
/// `orchestrator_telemetry_rejected_values_total{reason}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// The value was NaN.
    Nan,
    /// The value was infinite.
    Infinite,
    /// A counter increment was negative.
    Negative,
    /// A score was outside its scale (0–10 for satisfaction, 0–100 for quality).
    OutOfRange,
    /// Token usage for a model that has no price in the price table: the cost is not recorded.
    UnpricedModel,
    /// A value handed to an LLM answer (an SDK's parsed chunk) that does not have its
    /// provider's shape: ignored for accounting, counted once per call.
    UnrecognisedChunk,
}

impl RejectReason {
    /// Every reason, in the order of `catalogue::labels::REJECT_REASONS`.
    pub const ALL: [RejectReason; 6] = [
        RejectReason::Nan,
        RejectReason::Infinite,
        RejectReason::Negative,
        RejectReason::OutOfRange,
        RejectReason::UnpricedModel,
        RejectReason::UnrecognisedChunk,
    ];

    /// The `reason` label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            RejectReason::Nan => "nan",
            RejectReason::Infinite => "infinite",
            RejectReason::Negative => "negative",
            RejectReason::OutOfRange => "out_of_range",
            RejectReason::UnpricedModel => "unpriced_model",
            RejectReason::UnrecognisedChunk => "unrecognised_chunk",
        }
    }

    /// The reason a value is not a finite number, if it is not.
    pub fn check_finite(v: f64) -> Option<RejectReason> {
        if v.is_nan() {
            Some(RejectReason::Nan)
        } else if v.is_infinite() {
            Some(RejectReason::Infinite)
        } else {
            None
        }
    }

    /// The reason a value is not a valid counter increment (finite and not negative).
    pub fn check_non_negative(v: f64) -> Option<RejectReason> {
        Self::check_finite(v).or(if v < 0.0 {
            Some(RejectReason::Negative)
        } else {
            None
        })
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            RejectReason::Nan => "value is NaN",
            RejectReason::Infinite => "value is infinite",
            RejectReason::Negative => "counter increment is negative",
            RejectReason::OutOfRange => "score is outside its scale",
            RejectReason::UnpricedModel => "model has no price in the price table",
            RejectReason::UnrecognisedChunk => "LLM answer value is not its provider's shape",
        };
        write!(
            f,
            "{what} (counted in orchestrator_telemetry_rejected_values_total)"
        )
    }
}

impl std::error::Error for RejectReason {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::labels::REJECT_REASONS;

    #[test]
    fn order_matches_the_catalogue_label_values() {
        let names: Vec<_> = RejectReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names, REJECT_REASONS);
        for (i, r) in RejectReason::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i);
        }
    }

    #[test]
    fn checks() {
        assert_eq!(
            RejectReason::check_non_negative(f64::NAN),
            Some(RejectReason::Nan)
        );
        assert_eq!(
            RejectReason::check_non_negative(f64::INFINITY),
            Some(RejectReason::Infinite)
        );
        assert_eq!(
            RejectReason::check_non_negative(-0.01),
            Some(RejectReason::Negative)
        );
        assert_eq!(RejectReason::check_non_negative(0.0), None);
        assert_eq!(RejectReason::check_finite(-3.0), None);
    }
}
