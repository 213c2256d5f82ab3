//! The bounded store of sampled series the in-process interpreter reads.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::Selector;
use orchestrator_support::Millis;

/// Limits that keep the store bounded whatever the input.
///
/// Memory: at most `max_total_points` points of 16 bytes (the default: 8,000,000 points,
/// 128 MiB) plus, per series, its name and labels. Each series holds its retention's worth of
/// points (a 30-day KPI window sampled every 15 s is 172,800 points; its trend against the
/// previous window reads 60 days, 345,600 points; a 1-hour window, 240), so the default KPIs,
/// their trends and the alert rules over a handful of series need about 1.2 million points
/// (19 MiB) once the process has run 60 days; the budget bounds what many long-window series
/// could otherwise reach (10,000 × 400,000 points would be about 64 GB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Series kept at most; samples of further series are dropped and counted.
    pub max_series: usize,
    /// Points kept per series at most; the oldest go first.
    pub max_points: usize,
    /// Points kept in all at most; once reached, new points are dropped and counted until
    /// older ones leave their series' retention.
    pub max_total_points: usize,
}

impl Default for StoreLimits {
    /// 10,000 series of at most 400,000 points (60 days at 15 s is 345,600: a 30-day KPI
    /// and its previous window), 8,000,000 points (128 MiB) in all.
    fn default() -> Self {
        StoreLimits {
            max_series: 10_000,
            max_points: 400_000,
            max_total_points: 8_000_000,
        }
    }
}

/// One sampled series.
#[derive(Debug, Clone)]
pub struct StoredSeries {
    name: String,
    labels: Vec<(String, String)>,
    points: VecDeque<(Millis, f64)>,
    retention: Millis,
}

impl StoredSeries {
    /// The series name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The labels, sorted by name.
    pub fn labels(&self) -> &[(String, String)] {
        &self.labels
    }

    /// The value of a label.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The points with `from <= t <= to`, oldest first (both ends inclusive, as in
    /// Prometheus 2.x range selectors).
    /// Staleness markers are skipped, as in Prometheus.
    pub fn range(&self, from: Millis, to: Millis) -> impl Iterator<Item = (Millis, f64)> + '_ {
        let start = self.points.partition_point(|(t, _)| *t < from);
        let end = self.points.partition_point(|(t, _)| *t <= to);
        self.points
            .range(start..end.max(start))
            .copied()
            .filter(|(_, v)| !is_stale(*v))
    }

    /// The latest point with `t - lookback <= time <= t`; none when the series went stale
    /// (was absent from a sample) after its last value, as in Prometheus.
    pub fn latest(&self, t: Millis, lookback: Millis) -> Option<(Millis, f64)> {
        let end = self.points.partition_point(|(time, _)| *time <= t);
        let (time, v) = *self.points.get(end.checked_sub(1)?)?;
        (time >= t - lookback && !is_stale(v)).then_some((time, v))
    }

    /// The time of the oldest point held.
    pub fn first(&self) -> Option<Millis> {
        self.points.front().map(|(t, _)| *t)
    }

    /// How many points are held.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point is held.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// The bits of Prometheus's staleness marker, a NaN no computation produces.
const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// The series of one name, and where each label set is among them.
#[derive(Debug, Clone, Default)]
struct Named {
    list: Vec<StoredSeries>,
    /// Sorted labels to position in `list`: a sample finds its series in constant time
    /// (a scan of `list` made a tick over 10k histograms quadratic, 17 s).
    index: HashMap<Vec<(String, String)>, usize>,
}

/// Where a series is held in a [`SampleStore`] (see [`SampleStore::slot`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    name: Box<str>,
    index: usize,
}

/// Sampled series, by name.
#[derive(Debug, Clone, Default)]
pub struct SampleStore {
    by_name: BTreeMap<String, Named>,
    limits: StoreLimits,
    series: usize,
    points: usize,
    dropped: u64,
}

impl SampleStore {
    /// An empty store with these limits.
    pub fn new(limits: StoreLimits) -> Self {
        SampleStore {
            limits,
            ..Self::default()
        }
    }

    /// The limits.
    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    /// Appends a point. Labels need not be sorted. A point not newer than the series' last
    /// one is ignored; points older than `retention` before `t` are dropped.
    pub fn append(
        &mut self,
        name: &str,
        labels: &[(String, String)],
        t: Millis,
        v: f64,
        retention: Millis,
    ) {
        if let Some(index) = self.series_index(name, labels, retention) {
            self.push(name, index, t, v);
        }
    }

    /// Where the series `name{labels}` is held, created if needed (`None`, counted as a
    /// drop, when the series limit is reached). Positions never move: a reader that
    /// samples the same series on every tick keeps its slot and appends with
    /// [`append_at`](Self::append_at), without looking the labels up again.
    pub fn slot(
        &mut self,
        name: &str,
        labels: &[(String, String)],
        retention: Millis,
    ) -> Option<Slot> {
        let index = self.series_index(name, labels, retention)?;
        Some(Slot {
            name: name.into(),
            index,
        })
    }

    /// The position of `name{labels}` among the series of its name, created if needed
    /// (`None`, counted as a drop, past the series limit); its retention raised to
    /// `retention`.
    fn series_index(
        &mut self,
        name: &str,
        labels: &[(String, String)],
        retention: Millis,
    ) -> Option<usize> {
        let mut sorted = labels.to_vec();
        sorted.sort();
        if !self.by_name.contains_key(name) {
            self.by_name.insert(name.to_owned(), Named::default());
        }
        let named = self.by_name.get_mut(name)?;
        let index = match named.index.get(sorted.as_slice()) {
            Some(&i) => i,
            None => {
                if self.series >= self.limits.max_series {
                    self.dropped += 1;
                    return None;
                }
                self.series += 1;
                named.index.insert(sorted.clone(), named.list.len());
                named.list.push(StoredSeries {
                    name: name.to_owned(),
                    labels: sorted,
                    points: VecDeque::new(),
                    retention,
                });
                named.list.len() - 1
            }
        };
        let series = &mut named.list[index];
        series.retention = series.retention.max(retention);
        Some(index)
    }

    /// Counts a point refused before it reached the store (its series was refused).
    pub(crate) fn count_drop(&mut self) {
        self.dropped += 1;
    }

    /// Appends a point to the series at `slot` (from [`slot`](Self::slot), with the
    /// retention given there), as [`append`](Self::append) does.
    pub fn append_at(&mut self, slot: &Slot, t: Millis, v: f64) {
        self.push(&slot.name, slot.index, t, v);
    }

    /// Appends a point to the `index`th series of `name`.
    fn push(&mut self, name: &str, index: usize, t: Millis, v: f64) {
        let max_points = self.limits.max_points.max(2);
        let Some(series) = self
            .by_name
            .get_mut(name)
            .and_then(|n| n.list.get_mut(index))
        else {
            return;
        };
        if series.points.back().is_some_and(|(last, _)| *last >= t) {
            return;
        }
        let before = series.points.len();
        let oldest = t.saturating_sub(series.retention);
        while series
            .points
            .front()
            .is_some_and(|(time, _)| *time < oldest)
        {
            series.points.pop_front();
        }
        while series.points.len() >= max_points {
            // Still inside its window: a loss, counted.
            series.points.pop_front();
            self.dropped += 1;
        }
        self.points -= before - series.points.len();
        if self.points >= self.limits.max_total_points {
            self.dropped += 1;
            return;
        }
        series.points.push_back((t, v));
        self.points += 1;
    }

    /// Ends every series that got no point at `t` (it was absent from the sample taken
    /// then) with a staleness marker, as Prometheus does: instant reads then find nothing
    /// instead of the last value for the next five minutes, and range reads skip it.
    pub fn mark_stale(&mut self, t: Millis) {
        let stale = f64::from_bits(STALE_NAN_BITS);
        for series in self.by_name.values_mut().flat_map(|n| &mut n.list) {
            if series
                .points
                .back()
                .is_some_and(|(last, v)| *last < t && !is_stale(*v))
            {
                series.points.push_back((t, stale));
                self.points += 1;
            }
        }
    }

    /// How many points are held in all.
    pub fn points(&self) -> usize {
        self.points
    }

    /// The series a selector selects.
    pub fn select<'a>(&'a self, sel: &'a Selector) -> impl Iterator<Item = &'a StoredSeries> + 'a {
        self.by_name
            .get(&sel.series_name())
            .into_iter()
            .flat_map(|n| &n.list)
            .filter(|s| sel.matchers().iter().all(|m| m.matches(s.label(&m.label))))
    }

    /// Every series held.
    pub fn iter(&self) -> impl Iterator<Item = &StoredSeries> {
        self.by_name.values().flat_map(|n| &n.list)
    }

    /// How many series are held.
    pub fn series_count(&self) -> usize {
        self.series
    }

    /// How many points were refused because the series or the points limit was reached.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14, row 11: the total points are bounded, whatever the number of long-window
    /// series; old points leaving their retention make room again.
    #[test]
    fn the_points_budget_holds() {
        let limits = StoreLimits {
            max_total_points: 1_000,
            ..StoreLimits::default()
        };
        let mut store = SampleStore::new(limits);
        for series in 0..50 {
            for t in 0..100 {
                store.append(
                    "m",
                    &labels(&[("s", &series.to_string())]),
                    t,
                    1.0,
                    1_000_000,
                );
            }
        }
        assert_eq!(store.points(), 1_000);
        assert_eq!(store.dropped(), 50 * 100 - 1_000);
        let held: usize = store.iter().map(StoredSeries::len).sum();
        assert_eq!(held, 1_000);
        // Retention frees room: a short window keeps few points, so more fit.
        let mut store = SampleStore::new(limits);
        for t in 0..10_000 {
            store.append("m", &labels(&[]), t, 1.0, 10);
        }
        assert_eq!(store.points(), 11);
        assert_eq!(store.dropped(), 0);
    }

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn retention_and_ranges() {
        let mut store = SampleStore::default();
        for t in 0..100 {
            store.append(
                "m",
                &labels(&[("b", "2"), ("a", "1")]),
                t * 1000,
                t as f64,
                10_000,
            );
        }
        let s = store.iter().next().unwrap();
        assert_eq!(s.labels(), labels(&[("a", "1"), ("b", "2")]));
        assert_eq!(s.len(), 11, "points from 89 s to 99 s");
        assert_eq!(
            s.range(95_000, 97_000).map(|p| p.1).collect::<Vec<_>>(),
            vec![95.0, 96.0, 97.0]
        );
        assert_eq!(s.latest(99_500, 300_000), Some((99_000, 99.0)));
        assert_eq!(s.latest(500_000, 300_000), None, "beyond the lookback");
        assert_eq!(
            s.latest(50_000, 300_000),
            None,
            "before the oldest kept point"
        );
    }

    #[test]
    fn limits_bound_memory_and_count_drops() {
        let mut store = SampleStore::new(StoreLimits {
            max_series: 2,
            max_points: 5,
            ..StoreLimits::default()
        });
        for i in 0..4 {
            for t in 0..10 {
                store.append("m", &labels(&[("i", &i.to_string())]), t, 1.0, i64::MAX / 2);
            }
        }
        assert_eq!(store.series_count(), 2);
        // 20 points of the two refused series, and 5 pushed out of each kept series while
        // still inside their (endless) retention.
        assert_eq!(store.dropped(), 20 + 2 * 5);
        assert!(store.iter().all(|s| s.len() == 5));
    }

    /// Issue 17: a series absent from a sample is stale from then on (no instant value,
    /// skipped by range reads) until it comes back.
    #[test]
    fn an_absent_series_goes_stale() {
        let mut store = SampleStore::new(StoreLimits::default());
        let users = labels(&[("window", "30d")]);
        store.append("users", &users, 1_000, 42.0, 600_000);
        store.mark_stale(1_000);
        let get = |store: &SampleStore| store.iter().next().unwrap().clone();
        assert_eq!(get(&store).latest(1_500, 300_000), Some((1_000, 42.0)));
        store.mark_stale(2_000);
        store.mark_stale(3_000);
        let series = get(&store);
        assert_eq!(series.len(), 2, "one marker, not one per sample");
        assert_eq!(series.latest(2_500, 300_000), None);
        assert_eq!(series.range(0, 5_000).count(), 1);
        store.append("users", &users, 4_000, 43.0, 600_000);
        assert_eq!(get(&store).latest(4_000, 300_000), Some((4_000, 43.0)));
    }

    #[test]
    fn out_of_order_points_are_ignored() {
        let mut store = SampleStore::default();
        store.append("m", &[], 2000, 2.0, 60_000);
        store.append("m", &[], 1000, 1.0, 60_000);
        store.append("m", &[], 2000, 3.0, 60_000);
        assert_eq!(store.iter().next().unwrap().len(), 1);
    }
}
