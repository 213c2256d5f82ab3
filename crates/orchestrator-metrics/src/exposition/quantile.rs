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
    if q.is_nan() || buckets.is_empty() {
        return None;
    }
    if q < 0.0 {
        return Some(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return Some(f64::INFINITY);
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
        return Some(merged[last - 1].0);
    }
    if b == 0 && merged[0].0 <= 0.0 {
        return Some(merged[0].0);
    }
    let bucket_end = merged[b].0;
    let mut count = merged[b].1;
    let mut bucket_start = 0.0;
    if b > 0 {
        bucket_start = merged[b - 1].0;
        count -= merged[b - 1].1;
        rank -= merged[b - 1].1;
    }
    Some(bucket_start + (bucket_end - bucket_start) * (rank / count))
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
    fn unsorted_duplicate_and_non_monotonic_buckets() {
        // Two series summed by le arrive as duplicates; a decreasing count is raised.
        let b = [(INF, 6.0), (1.0, 2.0), (1.0, 2.0), (2.0, 3.0), (INF, 4.0)];
        // Merged: (1, 4), (2, 3 -> 4), (inf, 10). rank 0.5*10 = 5 lands in +Inf.
        assert_eq!(histogram_quantile(0.5, &b), Some(2.0));
        assert_eq!(histogram_quantile(0.2, &b), Some(0.5));
    }
}
