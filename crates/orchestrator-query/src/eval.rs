//! Interpreter 1: evaluating an expression over the sample store, with Prometheus's
//! semantics.

use std::collections::BTreeMap;

use orchestrator_metrics::exposition::histogram_quantile;

use crate::rate::extrapolated_increase;
use crate::{Expr, SampleStore, Selector, Window};
use orchestrator_support::Millis;

/// A label set, sorted by name.
type Labels = Vec<(String, String)>;

/// How far back an instant read looks for the latest sample (Prometheus's default
/// lookback delta).
pub const LOOKBACK_MS: Millis = 5 * 60 * 1000;

/// One series of a result: its labels (sorted by name) and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// Labels, sorted by name.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

/// The result of an evaluation: zero or more series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vector(pub Vec<Element>);

impl Vector {
    /// The value when the result is exactly one finite series; `None` means "no data".
    pub fn scalar(&self) -> Option<f64> {
        match self.0.as_slice() {
            [only] if only.value.is_finite() => Some(only.value),
            _ => None,
        }
    }

    /// Whether the result has no series.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Evaluates `expr` at time `at` over `store`.
///
/// ```
/// use orchestrator_metrics::catalogue::SESSIONS_TOTAL;
/// use orchestrator_query::{Expr, SampleStore, Selector, Window, eval};
///
/// let mut store = SampleStore::default();
/// for i in 0..=4 {
///     store.append("orchestrator_sessions_total", &[], i * 15_000, (i * 30) as f64, 3_600_000);
/// }
/// let per_second = Expr::rate(Selector::of(&SESSIONS_TOTAL), Window::minutes(1)?)?;
/// assert_eq!(eval(&per_second, &store, 60_000).scalar(), Some(2.0));
/// # Ok::<(), orchestrator_query::ExprError>(())
/// ```
pub fn eval(expr: &Expr, store: &SampleStore, at: Millis) -> Vector {
    Vector(eval_elements(expr, store, at))
}

/// Whether `store` holds the whole span `expr` reads at `at`: for every selector, some
/// series whose oldest point is no later than the start of what it reads (its range plus
/// any `offset`). A trend whose previous period the store holds only in part (the process
/// is younger than two windows, or the store's limits cut it) would extrapolate from a
/// fraction of it: callers report no data instead.
pub fn covers(store: &SampleStore, expr: &Expr, at: Millis) -> bool {
    expr.selectors().into_iter().all(|(sel, reach)| {
        let since = at - reach.map_or(0, |w| w.millis());
        store
            .select(sel)
            .any(|s| s.first().is_some_and(|first| first <= since))
    })
}

fn eval_elements(expr: &Expr, store: &SampleStore, at: Millis) -> Vec<Element> {
    match expr {
        Expr::Value(sel) => per_series(store, sel, |s| s.latest(at, LOOKBACK_MS).map(|(_, v)| v)),
        Expr::AvgOverTime(sel, w) => per_series(store, sel, |s| {
            let (n, total) = s
                .range(at - w.millis(), at)
                .fold((0usize, 0.0), |(n, t), (_, v)| (n + 1, t + v));
            (n > 0).then(|| total / n as f64)
        }),
        Expr::Increase(sel, w) => counter(store, sel, *w, at, false),
        Expr::Rate(sel, w) => counter(store, sel, *w, at, true),
        Expr::Total(sel, w) => total(store, sel, *w, at),
        Expr::Offset(e, by) => eval_elements(e, store, at - by.millis()),
        Expr::Sum(e, by) => aggregate(eval_elements(e, store, at), by, |a, b| a + b),
        Expr::Max(e, by) => aggregate(eval_elements(e, store, at), by, f64::max),
        Expr::HistogramQuantile(q, e) => quantile(*q, eval_elements(e, store, at)),
        Expr::Ratio(l, r) => {
            let right = eval_elements(r, store, at);
            eval_elements(l, store, at)
                .into_iter()
                .filter_map(|left| {
                    let den = right.iter().find(|d| d.labels == left.labels)?.value;
                    (den > 0.0).then(|| Element {
                        value: left.value / den,
                        labels: left.labels,
                    })
                })
                .collect()
        }
        Expr::Compare(e, op, t) => eval_elements(e, store, at)
            .into_iter()
            .filter(|el| op.holds(el.value, *t))
            .collect(),
        Expr::Sub(l, r) => {
            let right = eval_elements(r, store, at);
            eval_elements(l, store, at)
                .into_iter()
                .filter_map(|left| {
                    let other = right.iter().find(|d| d.labels == left.labels)?.value;
                    Some(Element {
                        value: left.value - other,
                        labels: left.labels,
                    })
                })
                .collect()
        }
        Expr::And(l, r) => {
            let right = eval_elements(r, store, at);
            eval_elements(l, store, at)
                .into_iter()
                .filter(|left| right.iter().any(|d| d.labels == left.labels))
                .collect()
        }
        Expr::Or(l, r) => {
            let mut left = eval_elements(l, store, at);
            let extra: Vec<Element> = eval_elements(r, store, at)
                .into_iter()
                .filter(|right| !left.iter().any(|d| d.labels == right.labels))
                .collect();
            left.extend(extra);
            left
        }
        Expr::Absent(sel) => absent(store, sel, at),
        Expr::Recorded { labels, expr, .. } => eval_elements(expr, store, at)
            .into_iter()
            .map(|mut el| {
                for (k, v) in labels {
                    match el.labels.iter_mut().find(|(n, _)| n == k) {
                        Some(existing) => existing.1 = v.clone(),
                        None => el.labels.push((k.clone(), v.clone())),
                    }
                }
                el.labels.sort();
                el
            })
            .collect(),
    }
}

/// `absent(sel)`: one series labelled with the equality matchers when nothing is selected.
fn absent(store: &SampleStore, sel: &Selector, at: Millis) -> Vec<Element> {
    if store
        .select(sel)
        .any(|s| s.latest(at, LOOKBACK_MS).is_some())
    {
        return Vec::new();
    }
    let mut labels: Labels = sel
        .matchers()
        .iter()
        .filter(|m| m.op == crate::MatchOp::Eq)
        .map(|m| (m.label.clone(), m.value.clone()))
        .collect();
    labels.sort();
    vec![Element { labels, value: 1.0 }]
}

fn per_series(
    store: &SampleStore,
    sel: &Selector,
    value: impl Fn(&crate::StoredSeries) -> Option<f64>,
) -> Vec<Element> {
    store
        .select(sel)
        .filter_map(|s| {
            value(s).map(|v| Element {
                labels: s.labels().to_vec(),
                value: v,
            })
        })
        .collect()
}

fn counter(
    store: &SampleStore,
    sel: &Selector,
    w: Window,
    at: Millis,
    per_second: bool,
) -> Vec<Element> {
    let start = at - w.millis();
    per_series(store, sel, |s| {
        let points: Vec<_> = s.range(start, at).collect();
        let increase = extrapolated_increase(&points, start, at)?;
        Some(if per_second {
            increase / (w.millis() as f64 / 1000.0)
        } else {
            increase
        })
    })
}

/// [`Expr::Total`], as its PromQL reads: the difference `latest − (value at the window
/// start, or 0)` where the series has a latest value, no reset in the window and a
/// non-negative difference; else Prometheus's extrapolated `increase`.
fn total(store: &SampleStore, sel: &Selector, w: Window, at: Millis) -> Vec<Element> {
    let start = at - w.millis();
    per_series(store, sel, |s| {
        // A day's window holds thousands of points: scanned for a reset without copying
        // them, and copied only when `increase` is the answer.
        let mut previous = f64::NEG_INFINITY;
        let reset = s.range(start, at).any(|(_, v)| {
            let dropped = v < previous;
            previous = v;
            dropped
        });
        let difference = s.latest(at, LOOKBACK_MS).map(|(_, now)| {
            now - s
                .latest(start, LOOKBACK_MS)
                .map_or(0.0, |(_, before)| before)
        });
        match difference {
            Some(d) if d >= 0.0 && !reset => Some(d),
            _ => {
                let points: Vec<_> = s.range(start, at).collect();
                extrapolated_increase(&points, start, at)
            }
        }
    })
}

fn aggregate(
    input: Vec<Element>,
    by: &[String],
    combine: impl Fn(f64, f64) -> f64,
) -> Vec<Element> {
    let mut groups: BTreeMap<Labels, f64> = BTreeMap::new();
    for el in input {
        let key: Labels = el
            .labels
            .into_iter()
            .filter(|(n, _)| by.contains(n))
            .collect();
        groups
            .entry(key)
            .and_modify(|v| *v = combine(*v, el.value))
            .or_insert(el.value);
    }
    groups
        .into_iter()
        .map(|(labels, value)| Element { labels, value })
        .collect()
}

fn quantile(q: f64, input: Vec<Element>) -> Vec<Element> {
    let mut groups: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
    for el in input {
        let Some(le) = el
            .labels
            .iter()
            .find(|(n, _)| n == "le")
            .and_then(|(_, v)| v.parse::<f64>().ok())
        else {
            continue;
        };
        let key = el.labels.into_iter().filter(|(n, _)| n != "le").collect();
        groups.entry(key).or_default().push((le, el.value));
    }
    groups
        .into_iter()
        .filter_map(|(labels, buckets)| {
            histogram_quantile(q, &buckets).map(|value| Element { labels, value })
        })
        .collect()
}
