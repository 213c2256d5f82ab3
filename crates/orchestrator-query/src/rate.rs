//! `rate` and `increase` exactly as Prometheus 2.x computes them (promql/functions.go,
//! `extrapolatedRate`).
//!
//! A plain `last - first` would differ from Prometheus. Prometheus instead:
//! - adds back the value before each counter reset (a drop);
//! - extrapolates the increase from the first and last samples to the window's edges when
//!   they are within 1.1 average sample intervals of them, and by half an interval
//!   otherwise;
//! - never extrapolates the start further back than the point where the counter would
//!   have been zero.
//!
//! So `increase` over a window is usually a little more than the plain difference.

use orchestrator_support::Millis;

/// The extrapolated increase of a counter whose points (oldest first) fall in
/// `[range_start, range_end]`, or `None` with fewer than two points.
pub(crate) fn extrapolated_increase(
    points: &[(Millis, f64)],
    range_start: Millis,
    range_end: Millis,
) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let (first_t, first_v) = points[0];
    let (last_t, last_v) = points[points.len() - 1];
    let mut result = last_v - first_v;
    let mut previous = 0.0;
    for &(_, v) in points {
        if v < previous {
            result += previous;
        }
        previous = v;
    }
    let mut to_start = (first_t - range_start) as f64 / 1000.0;
    let to_end = (range_end - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let average_interval = sampled / (points.len() - 1) as f64;
    if result > 0.0 && first_v >= 0.0 {
        let to_zero = sampled * (first_v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = average_interval * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        average_interval / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        average_interval / 2.0
    };
    Some(result * (interval / sampled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_counter_has_no_increase() {
        let points: Vec<_> = (0..5).map(|i| (i * 15_000, 10.0)).collect();
        assert_eq!(extrapolated_increase(&points, 0, 60_000), Some(0.0));
    }

    #[test]
    fn steady_counter_extrapolates_to_the_window() {
        // 1/s, sampled every 15 s from t=15 s to t=60 s in a [0, 60 s] window that began at
        // a counter of 15: the window holds 60 increments.
        let points: Vec<_> = (1..=4)
            .map(|i| (i * 15_000, 15.0 * i as f64 + 100.0))
            .collect();
        let inc = extrapolated_increase(&points, 0, 60_000).unwrap();
        assert!((inc - 60.0).abs() < 1e-9, "{inc}");
    }

    #[test]
    fn start_is_not_extrapolated_below_zero() {
        // Counter starts at 5 and grows by 5 every 10 s: zero is 10 s before the first point.
        let points = [(30_000, 5.0), (40_000, 10.0), (50_000, 15.0)];
        let inc = extrapolated_increase(&points, 0, 50_000).unwrap();
        // sampled 20 s; to_start 30 s is capped at the 10 s to zero, under the 11 s
        // threshold, so the interval is 30 s: 10 x 30 / 20 = 15, the counter's full value.
        assert!((inc - 15.0).abs() < 1e-9, "{inc}");
    }

    #[test]
    fn resets_add_back_the_value_before_the_drop() {
        let points = [(0, 10.0), (10_000, 20.0), (20_000, 5.0), (30_000, 15.0)];
        let inc = extrapolated_increase(&points, 0, 30_000).unwrap();
        assert!((inc - 25.0).abs() < 1e-9, "{inc}");
    }

    #[test]
    fn one_point_is_no_data() {
        assert_eq!(extrapolated_increase(&[(0, 1.0)], 0, 10), None);
    }
}
