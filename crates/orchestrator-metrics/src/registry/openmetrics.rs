//! Rendering the registry in the OpenMetrics text format 1.0.0, the format Prometheus asks
//! for first when it scrapes with exemplar storage on.
//!
//! Beside what the Prometheus text format carries, it has `# UNIT` lines, the histograms'
//! exemplars (`# {trace_id="…",span_id="…"} value timestamp`), a final `# EOF` and, when
//! asked, a `_created` timestamp for each counter and histogram series. `_created` is off by
//! default, as in client_golang: Prometheus before its created-timestamp handling (Debian's
//! 2.42, for one) stores each `_created` line as a series of its own, one more per counter
//! and histogram series. A counter is
//! named without its `_total` suffix in the metadata lines, as the format requires; a counter
//! made through the `metrics` facade without that suffix is rendered as `unknown`, so that
//! its samples keep their name.

use super::Registry;
use super::exemplar::Stored;
use super::family::{Cell, Family, Series};
use super::text::{escape_label_value, push_f64, push_u64};
use crate::catalogue::MetricKind;

/// The `Content-Type` of what [`Registry::render_openmetrics`] produces.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Choices of the OpenMetrics exposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenMetricsOptions {
    /// Writes a `_created` line (the series' creation time) after each counter and histogram
    /// series. For Prometheus 3 (created timestamps) and other scrapers that use it; older
    /// Prometheus versions store each line as one more series.
    pub created: bool,
}

impl Registry {
    /// Renders every series in the OpenMetrics text format 1.0.0, with exemplars.
    ///
    /// ```
    /// use orchestrator_metrics::{Exemplar, Registry, catalogue};
    ///
    /// let registry = Registry::new();
    /// let latency = registry.histogram(&catalogue::LLM_LATENCY_SECONDS, &["openai", "gpt-4o"])?;
    /// latency.observe_exemplar(0.42, Exemplar::new([1; 16], [2; 8]).unwrap()).unwrap();
    /// let text = registry.render_openmetrics();
    /// assert!(text.contains(r#"le="0.64"} 1 # {trace_id="01010101010101010101010101010101",span_id="0202020202020202"} 0.42 "#));
    /// assert!(text.contains("# UNIT orchestrator_llm_latency_seconds seconds\n"));
    /// assert!(text.ends_with("# EOF\n"));
    /// # Ok::<(), orchestrator_metrics::RegistryError>(())
    /// ```
    pub fn render_openmetrics(&self) -> String {
        self.render_openmetrics_with(OpenMetricsOptions::default())
    }

    /// Renders in OpenMetrics with `options`.
    pub fn render_openmetrics_with(&self, options: OpenMetricsOptions) -> String {
        self.run_render_hooks();
        let mut out = String::new();
        let families = self.read_families();
        for family in families.order.iter().filter(|f| self.exposes(f)) {
            render_family(family, options, &mut out);
        }
        out.push_str("# EOF\n");
        out
    }
}

fn render_family(family: &Family, options: OpenMetricsOptions, out: &mut String) {
    let table = family.read();
    if table.list.is_empty() {
        return;
    }
    let (name, kind) = match family.kind {
        MetricKind::Counter => match family.name.strip_suffix("_total") {
            Some(base) => (base, "counter"),
            None => (&*family.name, "unknown"),
        },
        MetricKind::Gauge => (&*family.name, "gauge"),
        MetricKind::Histogram => (&*family.name, "histogram"),
    };
    metadata("TYPE", name, kind, out);
    // The format requires the family name to end with `_<unit>`.
    if let Some(unit) = family.unit
        && name
            .strip_suffix(unit)
            .is_some_and(|base| base.ends_with('_'))
    {
        metadata("UNIT", name, unit, out);
    }
    out.push_str("# HELP ");
    out.push_str(name);
    out.push(' ');
    escape_label_value(&family.help(), out);
    out.push('\n');
    for series in &table.list {
        render_series(family, name, kind, series, options, out);
    }
}

/// `# LINE name value`.
fn metadata(line: &str, name: &str, value: &str, out: &mut String) {
    out.push_str("# ");
    out.push_str(line);
    out.push(' ');
    out.push_str(name);
    out.push(' ');
    out.push_str(value);
    out.push('\n');
}

fn render_series(
    family: &Family,
    name: &str,
    kind: &str,
    series: &Series,
    options: OpenMetricsOptions,
    out: &mut String,
) {
    match &series.cell {
        Cell::Counter(cell) => {
            let suffix = if kind == "counter" { "_total" } else { "" };
            sample_start(name, suffix, &series.labels, "", out);
            let (int, float) = cell.parts();
            if float == 0.0 {
                push_u64(int, out);
            } else {
                push_f64(int as f64 + float, out);
            }
            out.push('\n');
            if kind == "counter" && options.created {
                created(name, series, out);
            }
        }
        Cell::Gauge(cell) if !cell.present() => {}
        Cell::Gauge(cell) => {
            sample_start(name, "", &series.labels, "", out);
            push_f64(cell.value(), out);
            out.push('\n');
        }
        Cell::Histogram(cell) => {
            let mut cumulative = 0u64;
            for (bucket, (tail, count)) in family.le_tails.iter().zip(cell.counts()).enumerate() {
                cumulative += count;
                sample_start(name, "_bucket", &series.labels, tail, out);
                push_u64(cumulative, out);
                if let Some(stored) = cell.exemplars.get(bucket) {
                    exemplar(&stored, out);
                }
                out.push('\n');
            }
            sample_start(name, "_count", &series.labels, "", out);
            push_u64(cumulative, out);
            out.push('\n');
            sample_start(name, "_sum", &series.labels, "", out);
            push_f64(cell.sum(), out);
            out.push('\n');
            if options.created {
                created(name, series, out);
            }
        }
    }
}

/// `name` + `suffix` + `{labels}` and a space; `le_tail` (`0.5"} `) closes a bucket's
/// label set instead.
fn sample_start(name: &str, suffix: &str, labels: &str, le_tail: &str, out: &mut String) {
    out.push_str(name);
    out.push_str(suffix);
    if !le_tail.is_empty() {
        out.push('{');
        out.push_str(labels);
        if !labels.is_empty() {
            out.push(',');
        }
        out.push_str("le=\"");
        out.push_str(le_tail);
        return;
    }
    if !labels.is_empty() {
        out.push('{');
        out.push_str(labels);
        out.push('}');
    }
    out.push(' ');
}

fn created(name: &str, series: &Series, out: &mut String) {
    sample_start(name, "_created", &series.labels, "", out);
    push_f64(series.created, out);
    out.push('\n');
}

fn exemplar(stored: &Stored, out: &mut String) {
    out.push_str(" # {trace_id=\"");
    out.push_str(&stored.exemplar.trace_id_hex());
    out.push_str("\",span_id=\"");
    out.push_str(&stored.exemplar.span_id_hex());
    out.push_str("\"} ");
    push_f64(stored.value, out);
    out.push(' ');
    push_f64(stored.at, out);
}
