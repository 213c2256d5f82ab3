//! Sampling a registry in this process without building an exposition: every watched
//! family's series are visited in place ([`Registry::visit_series`]), and each registry
//! series keeps the store slots of its samples (one for a counter or gauge; every bucket,
//! the sum and the count for a histogram), found once, when the series is first seen. A
//! tick then costs one hash of the series' label text and one store append per sample.

use std::collections::HashMap;

use orchestrator_metrics::catalogue::MetricKind;
use orchestrator_metrics::{Registry, SeriesRef};
use orchestrator_support::Millis;

use crate::{SampleStore, Selector, Slot};

/// What the sampler watches of one family: its name and kind, and per selector reading it,
/// the retention.
#[derive(Debug, Clone)]
pub(crate) struct Watched {
    pub(crate) family: &'static str,
    pub(crate) kind: MetricKind,
    pub(crate) readers: Vec<(Selector, Millis)>,
}

/// Where one sample of a registry series goes.
#[derive(Debug, Clone)]
enum Route {
    /// No watched selector reads it.
    Skip,
    /// The store refused the series (its series limit): each point is a counted drop.
    Refused,
    /// Its series in the store.
    At(Slot),
}

/// The routes of one registry series' samples, in the order the visit reads them.
type Slots = Vec<Route>;

/// Registry series (by family, then label text) to their store slots.
#[derive(Debug, Clone, Default)]
pub(crate) struct Routes {
    by_family: HashMap<&'static str, HashMap<Box<str>, Slots>>,
}

/// The sample names and label sets one series of `w` yields, in visit order (`les`: a
/// histogram's `le` values as the registry writes them).
fn samples(
    w: &Watched,
    labels: &[(String, String)],
    les: Vec<String>,
) -> Vec<(String, Vec<(String, String)>)> {
    match w.kind {
        MetricKind::Counter | MetricKind::Gauge => vec![(w.family.to_owned(), labels.to_vec())],
        MetricKind::Histogram => {
            let bucket = format!("{}_bucket", w.family);
            let mut out: Vec<(String, Vec<(String, String)>)> = les
                .into_iter()
                .map(|le| {
                    let mut with_le = labels.to_vec();
                    with_le.push(("le".to_owned(), le));
                    (bucket.clone(), with_le)
                })
                .collect();
            out.push((format!("{}_sum", w.family), labels.to_vec()));
            out.push((format!("{}_count", w.family), labels.to_vec()));
            out
        }
    }
}

/// The slots of a newly seen series: for each of its samples, the longest retention of the
/// selectors that read it, and `None` where none does.
fn slots(w: &Watched, series: &SeriesRef<'_>, store: &mut SampleStore) -> Slots {
    let labels = series.label_pairs();
    let les = series.bucket_labels().map(str::to_owned).collect();
    samples(w, &labels, les)
        .into_iter()
        .map(|(name, labels)| {
            let label = |l: &str| labels.iter().find(|(k, _)| k == l).map(|(_, v)| v.as_str());
            let retention = w
                .readers
                .iter()
                .filter(|(sel, _)| sel.matches(&name, label))
                .map(|(_, r)| *r)
                .max();
            match retention {
                None => Route::Skip,
                Some(r) => store
                    .slot(&name, &labels, r)
                    .map_or(Route::Refused, Route::At),
            }
        })
        .collect()
}

/// Appends the current values of `series` to their slots; returns how many were stored.
fn record(slots: &Slots, series: &SeriesRef<'_>, store: &mut SampleStore, at: Millis) -> usize {
    let mut stored = 0;
    let mut put = |i: usize, v: f64| match slots.get(i) {
        Some(Route::At(slot)) => {
            store.append_at(slot, at, v);
            stored += 1;
        }
        Some(Route::Refused) => store.count_drop(),
        _ => {}
    };
    match (series.value(), series.buckets(), series.sum()) {
        (Some(v), _, _) => put(0, v),
        (None, Some(buckets), Some(sum)) => {
            let mut cumulative = 0u64;
            let mut i = 0;
            for (_, count) in buckets {
                cumulative += count;
                put(i, cumulative as f64);
                i += 1;
            }
            put(i, sum);
            put(i + 1, cumulative as f64);
        }
        // A cleared gauge: absent from this sample (marked stale by the caller).
        _ => {}
    }
    stored
}

impl Routes {
    /// Forgets every series (what is watched changed, or the store was replaced).
    pub(crate) fn clear(&mut self) {
        self.by_family.clear();
    }

    /// Samples the watched families of `registry` into `store` at `at`. Returns how many
    /// points were stored.
    pub(crate) fn sample(
        &mut self,
        registry: &Registry,
        watched: &[Watched],
        store: &mut SampleStore,
        at: Millis,
    ) -> usize {
        registry.run_render_hooks();
        let mut stored = 0;
        for w in watched {
            let routes = self.by_family.entry(w.family).or_default();
            registry.visit_series(w.family, |series| {
                let text = series.labels_text();
                // One lookup for a known series; a new one finds its slots once.
                match routes.get(text) {
                    Some(slots) => stored += record(slots, series, store, at),
                    None => {
                        let made = slots(w, series, store);
                        stored += record(&made, series, store, at);
                        routes.insert(text.into(), made);
                    }
                }
            });
        }
        store.mark_stale(at);
        stored
    }
}
