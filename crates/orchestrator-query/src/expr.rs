//! The expression type: one value, two interpreters ([`crate::eval`] in-process, and its
//! `Display` as PromQL).

use crate::{ExprError, Selector, Window};

/// A comparison of an alert condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl CmpOp {
    /// The PromQL operator.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }

    /// Whether `value OP threshold` holds.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            CmpOp::Gt => value > threshold,
            CmpOp::Ge => value >= threshold,
            CmpOp::Lt => value < threshold,
            CmpOp::Le => value <= threshold,
        }
    }
}

/// A typed subset of PromQL. Build it with the constructors, which check it against the
/// catalogue; evaluate it with [`crate::eval`]; render it as PromQL with `to_string()`.
///
/// ```
/// use orchestrator_metrics::catalogue::{ERRORS_TOTAL, REQUESTS_TOTAL};
/// use orchestrator_query::{Expr, Selector, Window};
///
/// let hour = Window::hours(1)?;
/// let errors = Expr::rate(Selector::of(&ERRORS_TOTAL).eq("component", "api"), hour)?.sum();
/// let requests = Expr::rate(Selector::of(&REQUESTS_TOTAL), hour)?.sum();
/// let error_rate = errors.ratio(requests)?;
/// assert_eq!(
///     error_rate.to_string(),
///     r#"sum(rate(orchestrator_errors_total{component="api"}[1h])) / (sum(rate(orchestrator_requests_total[1h])) > 0)"#
/// );
/// # Ok::<(), orchestrator_query::ExprError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// The latest value of each selected series within the 5-minute lookback.
    Value(Selector),
    /// `avg_over_time(sel[w])` of a gauge.
    AvgOverTime(Selector, Window),
    /// `increase(sel[w])` of a counter, extrapolated as Prometheus does.
    Increase(Selector, Window),
    /// `rate(sel[w])` of a counter, per second.
    Rate(Selector, Window),
    /// The counter's exact increase over the window, without extrapolation: the latest
    /// value minus the value as the window began (0 for a series younger than the window,
    /// since counters start at 0); where a reset happened in the window, or the difference
    /// is negative (a restart just before it), Prometheus's `increase`. See
    /// [`Expr::total`].
    Total(Selector, Window),
    /// `sum by (labels) (expr)`.
    Sum(Box<Expr>, Vec<String>),
    /// `max by (labels) (expr)`.
    Max(Box<Expr>, Vec<String>),
    /// `histogram_quantile(q, expr)` over bucket series.
    HistogramQuantile(f64, Box<Expr>),
    /// `lhs / (rhs > 0)`: series matched on identical labels, and only where the
    /// denominator is positive, so that "no requests yet" is no data rather than NaN.
    Ratio(Box<Expr>, Box<Expr>),
    /// `expr OP threshold`: keeps the series for which the comparison holds.
    Compare(Box<Expr>, CmpOp, f64),
    /// `lhs - rhs`, series matched on identical labels.
    Sub(Box<Expr>, Box<Expr>),
    /// `lhs and rhs`: the series of `lhs` whose labels are also in `rhs`.
    And(Box<Expr>, Box<Expr>),
    /// `lhs or rhs`: the series of `lhs`, and those of `rhs` whose labels are not in `lhs`.
    Or(Box<Expr>, Box<Expr>),
    /// `absent(sel)`: one series (labelled with the selector's equality matchers) when the
    /// selector selects nothing within the lookback, none otherwise.
    Absent(Selector),
    /// `expr` as it was `Window` ago: PromQL's `offset` on every selector it reads (offsets
    /// add up when nested), evaluated in-process at the earlier time.
    Offset(Box<Expr>, Window),
    /// The output of a recording rule: rendered as the recorded series `record{labels}`,
    /// evaluated in-process as the expression the rule records, with the rule's labels.
    Recorded {
        /// The recorded series name.
        record: String,
        /// The labels the rule adds.
        labels: Vec<(String, String)>,
        /// The expression the rule records.
        expr: Box<Expr>,
    },
}

impl Expr {
    /// The latest value of each selected series (gauges, or raw counters).
    pub fn value(sel: Selector) -> Result<Self, ExprError> {
        sel.validate()?;
        Ok(Expr::Value(sel))
    }

    /// `increase(sel[window])`: the counter's increase over the window.
    pub fn increase(sel: Selector, window: Window) -> Result<Self, ExprError> {
        Self::counter_fn(sel, "increase").map(|sel| Expr::Increase(sel, window))
    }

    /// The counter's total over the window, exact for a process (or a series) younger
    /// than the window: `increase` loses what a series counted before its first sample
    /// and extrapolates the rest (30 requests in a young process read 27.4), while a
    /// counter that starts at 0 has counted exactly `latest − value at the window start`.
    /// Rendered as
    /// `((x - (x offset w or x * 0)) >= 0 unless resets(x[w]) > 0 or increase(x[w]))`,
    /// evaluated in-process the same way, so both answers agree; a series with a reset in
    /// the window gets Prometheus's `increase` (its counter-reset handling and
    /// extrapolation).
    ///
    /// ```
    /// use orchestrator_metrics::catalogue::REQUESTS_TOTAL;
    /// use orchestrator_query::{Expr, Selector, Window};
    ///
    /// let total = Expr::total(Selector::of(&REQUESTS_TOTAL), Window::hours(24)?)?.sum();
    /// assert_eq!(
    ///     total.to_string(),
    ///     "sum(((orchestrator_requests_total - (orchestrator_requests_total offset 1d or orchestrator_requests_total * 0)) >= 0 unless resets(orchestrator_requests_total[1d]) > 0 or increase(orchestrator_requests_total[1d])))"
    /// );
    /// # Ok::<(), orchestrator_query::ExprError>(())
    /// ```
    pub fn total(sel: Selector, window: Window) -> Result<Self, ExprError> {
        Self::counter_fn(sel, "total").map(|sel| Expr::Total(sel, window))
    }

    /// `rate(sel[window])`: the counter's per-second rate over the window.
    pub fn rate(sel: Selector, window: Window) -> Result<Self, ExprError> {
        Self::counter_fn(sel, "rate").map(|sel| Expr::Rate(sel, window))
    }

    /// `avg_over_time(sel[window])` of a gauge.
    pub fn avg_over_time(sel: Selector, window: Window) -> Result<Self, ExprError> {
        sel.validate()?;
        if sel.def.kind != orchestrator_metrics::catalogue::MetricKind::Gauge {
            return Err(ExprError::NotAGauge {
                metric: sel.series_name(),
            });
        }
        Ok(Expr::AvgOverTime(sel, window))
    }

    fn counter_fn(sel: Selector, function: &'static str) -> Result<Selector, ExprError> {
        sel.validate()?;
        if !sel.is_counter() {
            return Err(ExprError::NotACounter {
                function,
                metric: sel.series_name(),
            });
        }
        Ok(sel)
    }

    /// The mean of a histogram over a window: `sum(increase(_sum[w])) /
    /// (sum(increase(_count[w])) > 0)`.
    pub fn histogram_mean(
        def: &'static orchestrator_metrics::catalogue::MetricDef,
        window: Window,
    ) -> Result<Self, ExprError> {
        let sum = Self::increase(Selector::sum(def), window)?.sum();
        let count = Self::increase(Selector::count(def), window)?.sum();
        sum.ratio(count)
    }

    /// The `q` quantile of a histogram over a window, all series together:
    /// `histogram_quantile(q, sum by (le) (rate(_bucket[w])))`.
    pub fn histogram_quantile_of(
        q: f64,
        buckets: Selector,
        window: Window,
    ) -> Result<Self, ExprError> {
        Self::histogram_quantile(q, Self::rate(buckets, window)?.sum_by(["le"])?)
    }

    /// `histogram_quantile(q, expr)`; `expr`'s series must keep their `le` label.
    pub fn histogram_quantile(q: f64, expr: Expr) -> Result<Self, ExprError> {
        if !(0.0..=1.0).contains(&q) {
            return Err(ExprError::InvalidQuantile { q });
        }
        if !expr.labels().iter().any(|l| l == "le") {
            return Err(ExprError::NoBuckets);
        }
        Ok(Expr::HistogramQuantile(q, Box::new(expr)))
    }

    /// `sum(self)`: everything into one series.
    pub fn sum(self) -> Self {
        Expr::Sum(Box::new(self), Vec::new())
    }

    /// `sum by (labels) (self)`.
    pub fn sum_by<I, S>(self, labels: I) -> Result<Self, ExprError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let by = self.grouping(labels)?;
        Ok(Expr::Sum(Box::new(self), by))
    }

    /// `max(self)`: the largest series value (for example a per-replica gauge that every
    /// replica reports identically).
    pub fn max(self) -> Self {
        Expr::Max(Box::new(self), Vec::new())
    }

    fn grouping<I, S>(&self, labels: I) -> Result<Vec<String>, ExprError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let available = self.labels();
        labels
            .into_iter()
            .map(Into::into)
            .map(|label| {
                if available.contains(&label) {
                    Ok(label)
                } else {
                    Err(ExprError::GroupingLabel {
                        label,
                        available: available.clone(),
                    })
                }
            })
            .collect()
    }

    /// `self / (denominator > 0)`. Both sides must have the same labels.
    pub fn ratio(self, denominator: Expr) -> Result<Self, ExprError> {
        let (mut left, mut right) = (self.labels(), denominator.labels());
        left.sort();
        right.sort();
        if left != right {
            return Err(ExprError::LabelMismatch { left, right });
        }
        Ok(Expr::Ratio(Box::new(self), Box::new(denominator)))
    }

    /// `self OP threshold`.
    pub fn compare(self, op: CmpOp, threshold: f64) -> Result<Self, ExprError> {
        if !threshold.is_finite() {
            return Err(ExprError::InvalidThreshold { value: threshold });
        }
        Ok(Expr::Compare(Box::new(self), op, threshold))
    }

    /// `self - other`. Both sides must have the same labels.
    pub fn minus(self, other: Expr) -> Result<Self, ExprError> {
        Self::same_labels(&self, &other)?;
        Ok(Expr::Sub(Box::new(self), Box::new(other)))
    }

    /// `self and other`. Both sides must have the same labels.
    pub fn and(self, other: Expr) -> Result<Self, ExprError> {
        Self::same_labels(&self, &other)?;
        Ok(Expr::And(Box::new(self), Box::new(other)))
    }

    /// `self or other`. Both sides must have the same labels.
    pub fn or(self, other: Expr) -> Result<Self, ExprError> {
        Self::same_labels(&self, &other)?;
        Ok(Expr::Or(Box::new(self), Box::new(other)))
    }

    /// `self offset by`: the same expression, as it was `by` ago (PromQL's `offset`, applied
    /// to every selector). The store must keep `by` more history: [`crate::Sampler::watch`]
    /// counts it.
    pub fn offset(self, by: Window) -> Self {
        Expr::Offset(Box::new(self), by)
    }

    /// `self - self offset period`: the change since one `period` ago (a score's −0.3).
    /// No data while there is no previous period, never 0.
    pub fn change_since(self, period: Window) -> Result<Self, ExprError> {
        let previous = self.clone().offset(period);
        self.minus(previous)
    }

    /// `(self - self offset period) / (self offset period > 0)`: the relative change since
    /// one `period` ago (revenue's +11.2 % is 0.112). No data while the previous period has
    /// no positive value, never 0 %.
    pub fn relative_change_since(self, period: Window) -> Result<Self, ExprError> {
        let previous = self.clone().offset(period);
        self.change_since(period)?.ratio(previous)
    }

    /// `absent(sel)`: fires when the metric has no series (for example, nothing scraped).
    pub fn absent(sel: Selector) -> Result<Self, ExprError> {
        sel.validate()?;
        Ok(Expr::Absent(sel))
    }

    /// The output of a recording rule named `record` (a valid metric name with colons)
    /// that records `self` with `labels`.
    pub fn recorded(self, record: &str, labels: &[(&str, &str)]) -> Result<Self, ExprError> {
        let valid = record
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && record
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        if !valid {
            return Err(ExprError::UnknownMetric {
                name: record.to_owned(),
            });
        }
        Ok(Expr::Recorded {
            record: record.to_owned(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            expr: Box::new(self),
        })
    }

    fn same_labels(left: &Expr, right: &Expr) -> Result<(), ExprError> {
        let (mut l, mut r) = (left.labels(), right.labels());
        l.sort();
        r.sort();
        if l != r {
            return Err(ExprError::LabelMismatch { left: l, right: r });
        }
        Ok(())
    }

    /// The labels the expression's series carry.
    pub fn labels(&self) -> Vec<String> {
        match self {
            Expr::Value(s)
            | Expr::AvgOverTime(s, _)
            | Expr::Increase(s, _)
            | Expr::Rate(s, _)
            | Expr::Total(s, _) => s.labels(),
            Expr::Sum(_, by) | Expr::Max(_, by) => by.clone(),
            Expr::HistogramQuantile(_, e) => e.labels().into_iter().filter(|l| l != "le").collect(),
            Expr::Ratio(l, _) | Expr::Sub(l, _) | Expr::And(l, _) | Expr::Or(l, _) => l.labels(),
            Expr::Compare(e, _, _) | Expr::Offset(e, _) => e.labels(),
            Expr::Absent(s) => s
                .matchers()
                .iter()
                .filter(|m| m.op == crate::MatchOp::Eq)
                .map(|m| m.label.clone())
                .collect(),
            Expr::Recorded { labels, expr, .. } => {
                let mut all = expr.labels();
                for (k, _) in labels {
                    if !all.contains(k) {
                        all.push(k.clone());
                    }
                }
                all
            }
        }
    }

    /// Whether any part of the expression reads the past with `offset` (a trend: no data
    /// until a previous period exists).
    pub fn has_offset(&self) -> bool {
        match self {
            Expr::Offset(..) => true,
            Expr::Value(_)
            | Expr::Absent(_)
            | Expr::AvgOverTime(..)
            | Expr::Increase(..)
            | Expr::Rate(..)
            | Expr::Total(..) => false,
            Expr::Recorded { expr: e, .. }
            | Expr::Sum(e, _)
            | Expr::Max(e, _)
            | Expr::HistogramQuantile(_, e)
            | Expr::Compare(e, _, _) => e.has_offset(),
            Expr::Ratio(l, r) | Expr::Sub(l, r) | Expr::And(l, r) | Expr::Or(l, r) => {
                l.has_offset() || r.has_offset()
            }
        }
    }

    /// Every selector the expression reads, with how far back it reads: its range plus any
    /// `offset` (`None` for an instant read within the lookback, without offset).
    pub fn selectors(&self) -> Vec<(&Selector, Option<Window>)> {
        let mut out = Vec::new();
        self.collect(&mut out, None);
        out
    }

    fn collect<'a>(
        &'a self,
        out: &mut Vec<(&'a Selector, Option<Window>)>,
        offset: Option<Window>,
    ) {
        let reach = |w: Option<Window>| match (w, offset) {
            (Some(w), Some(o)) => Some(w.plus(o)),
            (w, o) => w.or(o),
        };
        match self {
            Expr::Value(s) | Expr::Absent(s) => out.push((s, reach(None))),
            Expr::Recorded { expr, .. } => expr.collect(out, offset),
            Expr::AvgOverTime(s, w)
            | Expr::Increase(s, w)
            | Expr::Rate(s, w)
            | Expr::Total(s, w) => out.push((s, reach(Some(*w)))),
            Expr::Offset(e, by) => e.collect(out, reach(Some(*by))),
            Expr::Sum(e, _)
            | Expr::Max(e, _)
            | Expr::HistogramQuantile(_, e)
            | Expr::Compare(e, _, _) => e.collect(out, offset),
            Expr::Ratio(l, r) | Expr::Sub(l, r) | Expr::And(l, r) | Expr::Or(l, r) => {
                l.collect(out, offset);
                r.collect(out, offset);
            }
        }
    }
}
