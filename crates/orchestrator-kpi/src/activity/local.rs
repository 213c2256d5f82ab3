//! Distinct users counted in this process: one HyperLogLog per UTC day, 60 days kept.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use orchestrator_support::{Clock, Millis, SystemClock};

use super::{ActivityBackend, ActivityCounts, ActivityError, WINDOWS, churn};
use crate::HyperLogLog;
use crate::days::day_of;

/// Days of sketches kept: the current 30-day window and the previous one (for churn).
pub(crate) const DAYS_KEPT: i64 = 60;

/// Distinct users per UTC day in this process.
///
/// Memory is bounded: at most 60 sketches of 12.8 KiB (768 KiB), whatever the traffic.
///
/// ```
/// use std::sync::Arc;
/// use orchestrator_kpi::{ActivityBackend, LocalActivity};
/// use orchestrator_support::ManualClock;
///
/// let clock = ManualClock::new(0);
/// let activity = LocalActivity::with_clock(Arc::new(clock.clone()));
/// activity.record("alice");
/// activity.record("bob");
/// activity.record("alice");
/// assert_eq!(activity.counts(0)?.monthly(), 2);
/// # Ok::<(), orchestrator_kpi::ActivityError>(())
/// ```
#[derive(Debug)]
pub struct LocalActivity {
    days: RwLock<BTreeMap<i64, Arc<HyperLogLog>>>,
    clock: Arc<dyn Clock>,
}

impl Default for LocalActivity {
    fn default() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }
}

impl LocalActivity {
    /// Counting on the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counting on `clock` (tests move a manual one across days).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        LocalActivity {
            days: RwLock::default(),
            clock,
        }
    }

    fn sketch_of(&self, day: i64) -> Arc<HyperLogLog> {
        if let Some(sketch) = self
            .days
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&day)
        {
            return sketch.clone();
        }
        let mut days = self
            .days
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let sketch = days.entry(day).or_default().clone();
        // Keep the window and the previous one; older days can never be read again.
        while days
            .first_key_value()
            .is_some_and(|(d, _)| *d <= day - DAYS_KEPT)
        {
            days.pop_first();
        }
        sketch
    }

    /// The union of the days `[first, last]`.
    fn union(&self, first: i64, last: i64) -> HyperLogLog {
        let union = HyperLogLog::new();
        let days = self
            .days
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (_, sketch) in days.range(first..=last) {
            union.merge(sketch);
        }
        union
    }

    /// How many days are held.
    pub fn days_held(&self) -> usize {
        self.days
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

impl ActivityBackend for LocalActivity {
    fn record(&self, user: &str) {
        self.sketch_of(day_of(self.clock.now_ms()))
            .insert(user.as_bytes());
    }

    fn counts(&self, now: Millis) -> Result<ActivityCounts, ActivityError> {
        let today = day_of(now);
        let active =
            WINDOWS.map(|(days, _)| self.union(today - i64::from(days) + 1, today).count());
        let current = self.union(today - 29, today);
        let previous = self.union(today - 59, today - 30);
        let previous_count = previous.count();
        previous.merge(&current);
        Ok(ActivityCounts {
            active,
            churn: churn(previous_count, current.count(), previous.count()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orchestrator_support::ManualClock;
    use std::time::Duration;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn windows_slide_and_old_days_are_dropped() {
        let clock = ManualClock::new(0);
        let activity = LocalActivity::with_clock(Arc::new(clock.clone()));
        for day in 0..40u64 {
            activity.record(&format!("daily-{day}"));
            activity.record("everyday");
            clock.advance(DAY);
        }
        // Now day 40: the last 30 days are days 11..=40 (day 40 empty so far).
        let counts = activity.counts(clock.now_ms()).unwrap();
        assert_eq!(counts.active[0], 0, "nobody today yet");
        assert_eq!(counts.active[1], 7, "days 34..=39 (6) + everyday");
        assert_eq!(counts.active[2], 30, "days 11..=39 (29) + everyday");
        clock.advance(DAY * 40);
        activity.record("late");
        assert!(activity.days_held() <= DAYS_KEPT as usize);
        let counts = activity.counts(clock.now_ms()).unwrap();
        assert_eq!(counts.monthly(), 1, "days older than 30 are not counted");
    }

    #[test]
    fn churn_counts_previous_users_who_did_not_come_back() {
        let clock = ManualClock::new(0);
        let activity = LocalActivity::with_clock(Arc::new(clock.clone()));
        for i in 0..1000 {
            activity.record(&format!("u{i}"));
        }
        clock.advance(DAY * 35);
        for i in 0..600 {
            activity.record(&format!("u{i}"));
        }
        let churn = activity.counts(clock.now_ms()).unwrap().churn.unwrap();
        assert!((churn - 0.4).abs() < 0.02, "{churn}");
    }

    #[test]
    fn no_previous_users_is_no_churn_figure() {
        let activity = LocalActivity::new();
        activity.record("a");
        assert_eq!(activity.counts(SystemClock.now_ms()).unwrap().churn, None);
    }
}
