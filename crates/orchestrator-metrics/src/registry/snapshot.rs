//! Reading the registry's current values without text: the [`Exposition`] that parsing
//! [`Registry::render`] would give, built from the cells directly and only for the families
//! asked for. In-process readers (the monitor's sampler, the live page's history) use it
//! instead of rendering everything and parsing it back on every tick.

use super::Registry;
use super::family::{Cell, Family, Series};
use crate::catalogue::MetricKind;
use crate::exposition::{
    Exposition, Family as ExpositionFamily, FamilyType, Sample, written_label_pairs,
};

impl Registry {
    /// The current samples of the families whose name `keep` accepts (a histogram's
    /// family name is its base name, without `_bucket`, `_sum` or `_count`), equal to
    /// `exposition::parse(&self.render())` restricted to those families: same families in
    /// the same order, same samples, labels and values (tested on every metric type and
    /// hostile label values). Runs the render hooks, as rendering does.
    ///
    /// ```
    /// use std::time::Duration;
    /// use orchestrator_metrics::{Metrics, Registry, catalogue::REQUESTS_TOTAL, exposition};
    ///
    /// let registry = Registry::new();
    /// Metrics::new(&registry)
    ///     .requests()
    ///     .record("/v1/chat", "POST", 200, Duration::from_millis(10));
    /// let snapshot = registry.snapshot(|family| family == REQUESTS_TOTAL.name);
    /// assert_eq!(snapshot.sum_where(REQUESTS_TOTAL.name, |_| true), 1.0);
    /// let parsed = exposition::parse(&registry.render())?;
    /// assert_eq!(snapshot.families[0], *parsed.family(REQUESTS_TOTAL.name).unwrap());
    /// # Ok::<(), exposition::ParseError>(())
    /// ```
    pub fn snapshot(&self, mut keep: impl FnMut(&str) -> bool) -> Exposition {
        self.run_render_hooks();
        let families = self.read_families();
        let mut out = Exposition::default();
        for family in families
            .order
            .iter()
            .filter(|f| self.exposes(f) && keep(&f.name))
        {
            let table = family.read();
            if table.list.is_empty() {
                continue;
            }
            let mut samples = Vec::new();
            for series in &table.list {
                push_series(family, series, &mut samples);
            }
            out.families.push(ExpositionFamily {
                name: family.name.to_string(),
                kind: match family.kind {
                    MetricKind::Counter => FamilyType::Counter,
                    MetricKind::Gauge => FamilyType::Gauge,
                    MetricKind::Histogram => FamilyType::Histogram,
                },
                help: Some(family.help().to_string()),
                samples,
            });
        }
        out
    }
}

fn sample(name: String, labels: Vec<(String, String)>, value: f64) -> Sample {
    Sample {
        name,
        labels,
        value,
        timestamp_ms: None,
    }
}

fn push_series(family: &Family, series: &Series, out: &mut Vec<Sample>) {
    let labels = written_label_pairs(&series.labels);
    match &series.cell {
        Cell::Counter(cell) => {
            let (int, float) = cell.parts();
            out.push(sample(family.name.to_string(), labels, int as f64 + float));
        }
        Cell::Gauge(cell) if !cell.present() => {}
        Cell::Gauge(cell) => out.push(sample(family.name.to_string(), labels, cell.value())),
        Cell::Histogram(cell) => {
            let bucket = format!("{}_bucket", family.name);
            let mut cumulative = 0u64;
            for (tail, count) in family.le_tails.iter().zip(cell.counts()) {
                cumulative += count;
                // A tail is the end of a bucket line up to its value: `0.005"} `.
                let le = tail.strip_suffix("\"} ").unwrap_or(tail);
                let mut with_le = labels.clone();
                with_le.push(("le".to_owned(), le.to_owned()));
                out.push(sample(bucket.clone(), with_le, cumulative as f64));
            }
            out.push(sample(
                format!("{}_sum", family.name),
                labels.clone(),
                cell.sum(),
            ));
            out.push(sample(
                format!("{}_count", family.name),
                labels,
                cumulative as f64,
            ));
        }
    }
}

/// One series of a family, borrowed from the registry while [`Registry::visit_series`]
/// runs: its labels as the text format writes them and its current value, read without
/// allocating.
#[derive(Debug)]
pub struct SeriesRef<'a> {
    pub(super) labels: &'a str,
    pub(super) cell: &'a Cell,
    pub(super) bounds: &'a [f64],
    pub(super) le_tails: &'a [Box<str>],
    pub(super) created: f64,
}

impl SeriesRef<'_> {
    /// The value of label `name`, unescaped; none when the series has no such label.
    pub fn label(&self, name: &str) -> Option<String> {
        written_label_pairs(self.labels)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// Whether label `name` is present and its value satisfies `test` (no allocation when
    /// the value holds no escape, as label values almost never do).
    pub fn label_is(&self, name: &str, test: impl Fn(&str) -> bool) -> bool {
        let mut rest = self.labels;
        while let Some((label, after)) = rest.split_once("=\"") {
            let end = closing_quote(after);
            if label.trim_start_matches(',') == name {
                let raw = &after[..end];
                return if raw.contains('\\') {
                    self.label(name).is_some_and(|v| test(&v))
                } else {
                    test(raw)
                };
            }
            rest = after.get(end + 1..).unwrap_or("");
        }
        false
    }

    /// The labels as the text format writes them, without braces (`route="/v1/chat",method="POST"`;
    /// empty for a series without labels): the same text for the same series on every
    /// visit, so readers can key a cache by it.
    pub fn labels_text(&self) -> &str {
        self.labels
    }

    /// Every label, unescaped, in the order written (allocates: for a reader's first sight
    /// of a series).
    pub fn label_pairs(&self) -> Vec<(String, String)> {
        written_label_pairs(self.labels)
    }

    /// A histogram's `le` label values as the text format writes them (`0.005`, …,
    /// `+Inf`), in bucket order; empty for a counter or a gauge.
    pub fn bucket_labels(&self) -> impl Iterator<Item = &str> + '_ {
        self.le_tails
            .iter()
            .filter(|_| matches!(self.cell, Cell::Histogram(_)))
            .map(|tail| tail.strip_suffix("\"} ").unwrap_or(tail))
    }

    /// When the series was made, in Unix seconds: the start of its cumulative values (a
    /// series made again, after its registry was, starts anew).
    pub fn created(&self) -> f64 {
        self.created
    }

    /// The most recent exemplar of a histogram's bucket `bucket` (in the order of
    /// [`buckets`](Self::buckets)), if one was recorded.
    pub fn exemplar(&self, bucket: usize) -> Option<BucketExemplar> {
        match self.cell {
            Cell::Histogram(cell) => cell.exemplars.get(bucket).map(|s| BucketExemplar {
                exemplar: s.exemplar,
                value: s.value,
                at: s.at,
            }),
            _ => None,
        }
    }

    /// A histogram's sum of observations (none for a counter or a gauge).
    pub fn sum(&self) -> Option<f64> {
        match self.cell {
            Cell::Histogram(cell) => Some(cell.sum()),
            _ => None,
        }
    }

    /// A counter's or a gauge's value (none for a histogram, or a cleared gauge).
    pub fn value(&self) -> Option<f64> {
        match self.cell {
            Cell::Counter(cell) => {
                let (int, float) = cell.parts();
                Some(int as f64 + float)
            }
            Cell::Gauge(cell) => cell.present().then(|| cell.value()),
            Cell::Histogram(_) => None,
        }
    }

    /// A histogram's per-bucket counts (not cumulative) with each bucket's upper bound,
    /// `+Inf` last; none for a counter or a gauge.
    pub fn buckets(&self) -> Option<impl Iterator<Item = (f64, u64)> + '_> {
        match self.cell {
            Cell::Histogram(cell) => Some(
                self.bounds
                    .iter()
                    .copied()
                    .chain(std::iter::once(f64::INFINITY))
                    .zip(cell.counts()),
            ),
            _ => None,
        }
    }
}

/// A bucket's most recent exemplar: the trace and span of the observation, its value and
/// when it was made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketExemplar {
    /// The trace and span ids.
    pub exemplar: crate::Exemplar,
    /// The observed value.
    pub value: f64,
    /// When, in Unix seconds.
    pub at: f64,
}

/// Where the value starting `text` ends: the index of its closing quote.
fn closing_quote(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    text.len()
}

impl Registry {
    /// Calls `f` with every series of the family `name` (none if it has no series), in
    /// creation order, borrowing each: the cheapest way to aggregate in-process (the live
    /// page sums request counters and merges latency histograms this way every second).
    /// Runs no render hook.
    pub fn visit_series(&self, name: &str, mut f: impl FnMut(&SeriesRef<'_>)) {
        let families = self.read_families();
        let Some(family) = families.by_name.get(name) else {
            return;
        };
        let table = family.read();
        for series in &table.list {
            f(&SeriesRef {
                labels: &series.labels,
                cell: &series.cell,
                bounds: family.bounds(),
                le_tails: &family.le_tails,
                created: series.created,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Group, LabelDef, MetricDef, Unit};
    use crate::exposition;

    const JOBS: MetricDef = MetricDef {
        name: "custom_jobs_seconds",
        kind: MetricKind::Histogram,
        unit: Unit::Seconds,
        help: "Custom \\ jobs\nover two lines.",
        labels: &[LabelDef::guarded("queue"), LabelDef::guarded("kind")],
        buckets: &[0.1, 0.25, 1.0],
        group: Group::Core,
    };

    /// Issue 16 item 6: the snapshot and the render+parse path give identical samples on a
    /// registry with every metric type and hostile label values.
    #[test]
    fn a_snapshot_equals_parsing_the_rendering() {
        let registry = Registry::new();
        let metrics = crate::Metrics::new(&registry);
        let hostile = [
            "plain",
            "quote \" inside",
            "back\\slash",
            "new\nline",
            "é ü 日本 🚀",
            "",
            "a=\"b\",c=\"d\"",
            "trailing\\",
        ];
        for (i, value) in hostile.iter().enumerate() {
            let h = registry.histogram(&JOBS, &[value, "x"]).unwrap();
            h.observe(0.05 * i as f64).unwrap();
            h.observe(3.0).unwrap();
            registry
                .counter(&crate::catalogue::ERRORS_TOTAL, &[value, "timeout"])
                .unwrap()
                .increment(i as u64 + 1);
        }
        metrics.business().record_revenue(12.345).unwrap();
        metrics
            .requests()
            .record("/v1/chat", "POST", 200, std::time::Duration::from_millis(7));
        let cleared = registry
            .gauge(&crate::catalogue::ACTIVE_USERS, &["1d"])
            .unwrap();
        cleared.set(3.0).unwrap();
        cleared.clear();
        registry
            .gauge(&crate::catalogue::ACTIVE_USERS, &["30d"])
            .unwrap()
            .set(-0.25)
            .unwrap();

        let parsed = exposition::parse(&registry.render()).unwrap();
        assert_eq!(registry.snapshot(|_| true), parsed);
        let only = registry.snapshot(|f| f == JOBS.name);
        assert_eq!(only.families.len(), 1);
        assert_eq!(only.families[0], *parsed.family(JOBS.name).unwrap());
    }

    /// Visiting series borrows them: labels read back unescaped, values and buckets as
    /// the exposition has them.
    #[test]
    fn visited_series_read_their_labels_values_and_buckets() {
        let registry = Registry::new();
        let h = registry
            .histogram(&JOBS, &["a\"b\\c", "x,y=\"z\""])
            .unwrap();
        h.observe(0.2).unwrap();
        h.observe(5.0).unwrap();
        let mut seen = 0;
        registry.visit_series(JOBS.name, |series| {
            seen += 1;
            assert_eq!(series.label("queue").as_deref(), Some("a\"b\\c"));
            assert_eq!(series.label("kind").as_deref(), Some("x,y=\"z\""));
            assert!(series.label_is("kind", |k| k == "x,y=\"z\""));
            assert!(!series.label_is("missing", |_| true));
            assert_eq!(series.value(), None);
            let buckets: Vec<(f64, u64)> = series.buckets().unwrap().collect();
            assert_eq!(buckets, [(0.1, 0), (0.25, 1), (1.0, 0), (f64::INFINITY, 1)]);
        });
        assert_eq!(seen, 1);
        registry.visit_series("no_such_family", |_| panic!("no series"));
    }
}
