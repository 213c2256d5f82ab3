//! `histogram_quantile`, computed exactly as Prometheus computes it (promql/quantile.go,
//! `bucketQuantile`), so an in-process answer and Prometheus's answer agree.

/// The `q`-quantile of classic histogram buckets given as `(upper bound, cumulative count)`
/// pairs in any order, or `None` where Prometheus returns NaN: no `+Inf` bucket, fewer than
/// two buckets, no observations, or `q` NaN.
///
/// As in Prometheus: buckets with the same bound are merged, decreasing counts are raised
/// to keep the counts monotonic, the value is interpolated linearly inside its bucket from a
/// lower bound of 0 for the first bucket, and a quantile in the `+Inf` bucket is the highest
/// finite bound. `q < 0` gives `-Inf`, `q > 1` gives `+Inf`.
///
/// ```
/// use orchestrator_metrics::exposition::histogram_quantile;
///
/// let buckets = [(0.1, 50.0), (0.2, 90.0), (f64::INFINITY, 100.0)];
/// assert_eq!(histogram_quantile(0.5, &buckets), Some(0.1));
/// assert!((histogram_quantile(0.7, &buckets).unwrap() - 0.15).abs() < 1e-12);
/// assert_eq!(histogram_quantile(0.95, &buckets), Some(0.2));
/// assert_eq!(histogram_quantile(0.5, &[(f64::INFINITY, 0.0), (1.0, 0.0)]), None);
/// ```
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    histogram_quantile_in(q, buckets).map(|found| found.value)
}

/// A quantile of a histogram with the bucket it was interpolated in: all a classic
/// histogram knows is that the true value lies in `(lower, upper]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantile {
    /// The value Prometheus's `histogram_quantile` gives.
    pub value: f64,
    /// The bucket's lower bound (0 for the first bucket, as Prometheus interpolates).
    pub lower: f64,
    /// The bucket's upper bound (`+Inf` when the rank fell past the last finite bound).
    pub upper: f64,
}

impl Quantile {
    /// The largest relative error `value` can have: the true value is anywhere in
    /// `(lower, upper]`, so at most `max((value − lower) / lower, (upper − value) / upper)`;
    /// infinite for a first bucket (from 0) or the `+Inf` bucket.
    ///
    /// ```
    /// use orchestrator_metrics::exposition::histogram_quantile_in;
    ///
    /// // 100 time-to-first-token observations, all in (0.1, 0.25]: the p95 interpolates
    /// // to 242.5 ms, while the true one may be anywhere from 100 ms up.
    /// let p95 = histogram_quantile_in(0.95, &[(0.1, 0.0), (0.25, 100.0), (f64::INFINITY, 100.0)]).unwrap();
    /// assert!((p95.value - 0.2425).abs() < 1e-12);
    /// assert!((p95.max_relative_error() - 1.425).abs() < 1e-9);
    /// assert!(!p95.is_precise());
    /// ```
    pub fn max_relative_error(&self) -> f64 {
        if self.lower <= 0.0 || self.upper.is_infinite() || self.value.is_infinite() {
            return f64::INFINITY;
        }
        ((self.value - self.lower) / self.lower).max((self.upper - self.value) / self.upper)
    }

    /// Whether `value` is within 10 % of the truth whatever the observations were; when
    /// not, a figure should be shown as its bucket (`≤ 250 ms, within 100–250 ms`).
    pub fn is_precise(&self) -> bool {
        self.max_relative_error() <= 0.1
    }
}

impl Quantile {
    /// A duration quantile for people, as the live page shows it: `143.0 ms` when precise,
    /// else its bucket: `≤ 250 ms (100 ms–250 ms)`, `≤ 10 ms` (the first bucket), `> 81.9 s`
    /// (past the last bound).
    ///
    /// ```
    /// use orchestrator_metrics::exposition::histogram_quantile_in;
    ///
    /// let wide = histogram_quantile_in(0.95, &[(0.1, 0.0), (0.25, 100.0), (f64::INFINITY, 100.0)]);
    /// assert_eq!(wide.unwrap().seconds_text(), "≤ 250 ms (100 ms–250 ms)");
    /// ```
    pub fn seconds_text(&self) -> String {
        if self.is_precise() {
            return format!("{:.1} ms", self.value * 1000.0);
        }
        if self.upper.is_infinite() {
            return format!("> {}", duration(self.lower));
        }
        if self.lower <= 0.0 {
            return format!("≤ {}", duration(self.upper));
        }
        format!(
            "≤ {} ({}–{})",
            duration(self.upper),
            duration(self.lower),
            duration(self.upper)
        )
    }
}

/// A bucket bound with three significant digits: `250 ms`, `5 ms`, `81.9 s`.
fn duration(seconds: f64) -> String {
    let (value, unit) = if seconds < 1.0 {
        (seconds * 1000.0, "ms")
    } else {
        (seconds, "s")
    };
    format!("{} {unit}", orchestrator_support::significant(value))
}

/// [`histogram_quantile`] with the bucket the quantile fell in.
pub fn histogram_quantile_in(q: f64, buckets: &[(f64, f64)]) -> Option<Quantile> {
    let exact = |value: f64| Quantile {
        value,
        lower: value,
        upper: value,
    };
    if q.is_nan() || buckets.is_empty() {
        return None;
    }
    if q < 0.0 {
        return Some(exact(f64::NEG_INFINITY));
    }
    if q > 1.0 {
        return Some(exact(f64::INFINITY));
    }
    let mut sorted = buckets.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    if sorted.last().map(|b| b.0) != Some(f64::INFINITY) {
        return None;
    }
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(sorted.len());
    for (bound, count) in sorted {
        match merged.last_mut() {
            Some(last) if last.0 == bound => last.1 += count,
            _ => merged.push((bound, count)),
        }
    }
    let mut max = merged[0].1;
    for bucket in &mut merged[1..] {
        max = max.max(bucket.1);
        bucket.1 = max;
    }
    if merged.len() < 2 {
        return None;
    }
    let observations = merged[merged.len() - 1].1;
    if observations == 0.0 {
        return None;
    }
    let mut rank = q * observations;
    let last = merged.len() - 1;
    let b = merged[..last].partition_point(|bucket| bucket.1 < rank);
    if b == last {
        return Some(Quantile {
            value: merged[last - 1].0,
            lower: merged[last - 1].0,
            upper: f64::INFINITY,
        });
    }
    if b == 0 && merged[0].0 <= 0.0 {
        return Some(Quantile {
            value: merged[0].0,
            lower: f64::NEG_INFINITY,
            upper: merged[0].0,
        });
    }
    let bucket_end = merged[b].0;
    let mut count = merged[b].1;
    let mut bucket_start = 0.0;
    if b > 0 {
        bucket_start = merged[b - 1].0;
        count -= merged[b - 1].1;
        rank -= merged[b - 1].1;
    }
    Some(Quantile {
        value: bucket_start + (bucket_end - bucket_start) * (rank / count),
        lower: bucket_start,
        upper: bucket_end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INF: f64 = f64::INFINITY;

    #[test]
    fn special_cases_match_prometheus() {
        let b = [(1.0, 10.0), (INF, 10.0)];
        assert_eq!(histogram_quantile(f64::NAN, &b), None);
        assert_eq!(histogram_quantile(-0.1, &b), Some(f64::NEG_INFINITY));
        assert_eq!(histogram_quantile(1.1, &b), Some(INF));
        assert_eq!(histogram_quantile(0.5, &[(1.0, 10.0), (2.0, 10.0)]), None);
        assert_eq!(histogram_quantile(0.5, &[(INF, 10.0)]), None);
        assert_eq!(histogram_quantile(0.5, &[(1.0, 0.0), (INF, 0.0)]), None);
    }

    #[test]
    fn interpolates_from_zero_in_the_first_bucket() {
        assert_eq!(
            histogram_quantile(0.5, &[(2.0, 10.0), (INF, 10.0)]),
            Some(1.0)
        );
    }

    #[test]
    fn non_positive_first_bound_is_returned_as_is() {
        assert_eq!(
            histogram_quantile(0.1, &[(-1.0, 5.0), (1.0, 10.0), (INF, 10.0)]),
            Some(-1.0)
        );
    }

    #[test]
    fn rank_in_inf_bucket_returns_highest_finite_bound() {
        assert_eq!(
            histogram_quantile(0.99, &[(1.0, 5.0), (2.0, 6.0), (INF, 10.0)]),
            Some(2.0)
        );
    }

    #[test]
    fn the_bucket_comes_with_the_value() {
        let b = [(0.1, 0.0), (0.2, 50.0), (0.21, 100.0), (INF, 110.0)];
        // rank 0.5 × 110 = 55 falls in (0.2, 0.21]: within 5 % whatever the truth.
        let q = histogram_quantile_in(0.5, &b).unwrap();
        assert_eq!((q.lower, q.upper), (0.2, 0.21));
        assert!(q.is_precise(), "{q:?}");
        // rank 0.3 × 110 = 33 falls in (0.1, 0.2]: up to 50 % off.
        assert!(!histogram_quantile_in(0.3, &b).unwrap().is_precise());
        let top = histogram_quantile_in(0.99, &b).unwrap();
        assert_eq!((top.value, top.lower, top.upper), (0.21, 0.21, INF));
        assert_eq!(top.max_relative_error(), INF);
        let first = histogram_quantile_in(0.5, &[(2.0, 10.0), (INF, 10.0)]).unwrap();
        assert_eq!((first.lower, first.upper), (0.0, 2.0));
        assert!(!first.is_precise());
    }

    #[test]
    fn unsorted_duplicate_and_non_monotonic_buckets() {
        // Two series summed by le arrive as duplicates; a decreasing count is raised.
        let b = [(INF, 6.0), (1.0, 2.0), (1.0, 2.0), (2.0, 3.0), (INF, 4.0)];
        // Merged: (1, 4), (2, 3 -> 4), (inf, 10). rank 0.5*10 = 5 lands in +Inf.
        assert_eq!(histogram_quantile(0.5, &b), Some(2.0));
        assert_eq!(histogram_quantile(0.2, &b), Some(0.5));
    }
}
