//! A histogram's bucket bounds, and the search for the bucket of a value.
//!
//! Every observation searches its bucket, and an LLM call makes three or four, so the
//! search is found by the value's binade (the power of two below it) rather than by
//! comparing it with every bound: a table gives the number of bounds below the binade, and
//! at most [`SPAN`] bounds lie inside it, compared at once. A dozen instructions and no
//! branch on the value, against one compare per bound.

/// The most bounds one binade `[2^k, 2^(k+1))` may hold for the binade search. Catalogue
/// histograms hold at most four (`0.5, 0.75` in seconds; `4, 5, 6, 7` on a 0–10 scale).
const SPAN: usize = 4;

/// Biased `f64` exponents of finite values: 0 (zero and subnormals) to 2046.
const BINADES: usize = 2047;

/// The bucket bounds of one histogram family, shared by its series.
#[derive(Debug)]
pub(crate) struct Bounds {
    values: Box<[f64]>,
    binades: Option<Binades>,
}

/// The binade search's tables, for sorted bounds with at most [`SPAN`] in any binade.
#[derive(Debug)]
struct Binades {
    /// Per biased exponent `e`, the number of bounds below the binade's smallest value
    /// (+0.0 for `e == 0`, `2^(e - 1023)` above). Inline (2 KiB per family, shared by its
    /// series): one dependent load fewer per observation than behind a pointer.
    start: [u8; BINADES],
    /// The bounds, then [`SPAN`] times +∞ (no value is above +∞, so the padding never
    /// counts).
    padded: Box<[f64]>,
}

impl Bounds {
    /// Bounds from finite values in increasing order (`+Inf` not included), which the
    /// registry checks; others are searched bound by bound.
    pub(crate) fn new(values: &[f64]) -> Self {
        Bounds {
            values: values.into(),
            binades: Binades::new(values),
        }
    }

    /// The bounds, `+Inf` not included.
    pub(crate) fn as_slice(&self) -> &[f64] {
        &self.values
    }

    /// The number of bounds, `+Inf` not included.
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    /// The bucket of `v`: buckets are `le` (less than or equal), so it is the number of
    /// bounds strictly below `v`.
    #[inline]
    pub(crate) fn bucket(&self, v: f64) -> usize {
        // The sign bit is in the index: negative values (and NaN, infinities) miss the
        // table and are counted bound by bound.
        let exponent = (v.to_bits() >> 52) as usize;
        if let Some(binades) = &self.binades
            && let Some(&start) = binades.start.get(exponent)
        {
            let start = usize::from(start);
            if let Some(window) = binades.padded.get(start..start + SPAN) {
                return start + count_below(window, v);
            }
        }
        count_below(&self.values, v)
    }
}

impl Binades {
    fn new(values: &[f64]) -> Option<Self> {
        let sorted = values.windows(2).all(|w| w[0] < w[1]);
        if !sorted || values.iter().any(|b| !b.is_finite()) || values.len() > usize::from(u8::MAX) {
            return None;
        }
        // The smallest value of binade `e`, and +∞ past the last.
        let lower = |e: usize| match e {
            0 => 0.0,
            BINADES => f64::INFINITY,
            e => f64::from_bits((e as u64) << 52),
        };
        let mut start = [0u8; BINADES];
        for (e, slot) in start.iter_mut().enumerate() {
            let below = values.partition_point(|b| *b < lower(e));
            let below_next = values.partition_point(|b| *b < lower(e + 1));
            if below_next - below > SPAN {
                return None;
            }
            // At most 255 bounds, checked above.
            *slot = u8::try_from(below).ok()?;
        }
        let padded = values
            .iter()
            .copied()
            .chain([f64::INFINITY; SPAN])
            .collect();
        Some(Binades { start, padded })
    }
}

#[inline]
fn count_below(bounds: &[f64], v: f64) -> usize {
    bounds.iter().map(|b| usize::from(*b < v)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;

    fn probes(values: &[f64]) -> Vec<f64> {
        let mut probes = vec![
            f64::NEG_INFINITY,
            -1.0,
            -0.0,
            0.0,
            f64::MIN_POSITIVE / 2.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
        ];
        for b in values {
            let b = *b;
            let next = |x: f64, up: bool| {
                let bits = x.to_bits();
                f64::from_bits(if (x >= 0.0) == up {
                    bits.wrapping_add(1)
                } else {
                    bits.wrapping_sub(1)
                })
            };
            probes.extend([b, next(b, true), next(b, false), b * 0.9, b * 1.1, -b]);
        }
        probes.extend((-40..40).map(|k| 2f64.powi(k)));
        probes.extend((0..2_000).map(|i| i as f64 * 0.37));
        probes
    }

    fn check(values: &[f64], binades: bool) {
        let bounds = Bounds::new(values);
        assert_eq!(bounds.binades.is_some(), binades, "{values:?}");
        for v in probes(values) {
            assert_eq!(
                bounds.bucket(v),
                count_below(values, v),
                "{v} in {values:?}"
            );
        }
    }

    /// Every catalogue histogram takes the binade search, and it finds the bucket a count
    /// over the bounds finds: at, just above and just below each bound, across binades,
    /// for zero, subnormals, negatives, infinities and NaN.
    #[test]
    fn the_binade_search_agrees_with_a_count_for_every_catalogue_histogram() {
        let histograms = catalogue::ALL
            .iter()
            .filter(|d| d.kind == catalogue::MetricKind::Histogram);
        let mut n = 0;
        for def in histograms {
            check(def.buckets, true);
            n += 1;
        }
        assert!(n >= 8, "{n} catalogue histograms");
    }

    /// Bounds the binade search cannot take (five in one binade, unsorted) are counted one
    /// by one; others with negatives, zero and subnormals take it.
    #[test]
    fn other_bounds_agree_too() {
        check(&[], true);
        check(
            &[-8.0, -1.0, 0.0, f64::MIN_POSITIVE / 4.0, 1e-300, 1.0, 1e300],
            true,
        );
        check(&[4.0, 5.0, 6.0, 7.0], true);
        check(&[4.0, 5.0, 6.0, 7.0, 7.5], false);
        check(&[2.0, 1.0], false);
        let many: Vec<f64> = (0..300).map(|i| 2f64.powi(i - 150)).collect();
        check(&many, false);
        let dense: Vec<f64> = (1..=40).map(f64::from).collect();
        check(&dense, false);
    }
}
