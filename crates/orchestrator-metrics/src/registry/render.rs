//! Rendering the registry in the Prometheus text exposition format (version 0.0.4).

use super::Registry;
use super::family::{Cell, Family, Series};
use super::text::{escape_help, push_f64, push_u64};

/// The `Content-Type` of what [`Registry::render`] produces.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

impl Registry {
    /// Renders every series in the Prometheus text exposition format.
    ///
    /// Families appear in registration order (the catalogue first), series in creation
    /// order; families without series are left out. A histogram's `_count` is its `+Inf`
    /// bucket, so the two always agree even while observations are being recorded.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    /// Renders into `out`, after what it already holds. Reusing one buffer between scrapes
    /// avoids growing a new one each time.
    pub fn render_into(&self, out: &mut String) {
        self.run_render_hooks();
        let families = self.read_families();
        let mut prefix = String::new();
        for family in families.order.iter().filter(|f| self.exposes(f)) {
            render_family(family, out, &mut prefix);
        }
    }
}

fn render_family(family: &Family, out: &mut String, prefix: &mut String) {
    let table = family.read();
    if table.list.is_empty() {
        return;
    }
    out.push_str("# HELP ");
    out.push_str(&family.name);
    out.push(' ');
    escape_help(&family.help(), out);
    out.push_str("\n# TYPE ");
    out.push_str(&family.name);
    out.push(' ');
    out.push_str(family.kind.as_str());
    out.push('\n');
    for series in &table.list {
        render_series(family, series, out, prefix);
    }
}

/// `prefix` is scratch space reused between series, so a bucket line is four copies: the
/// series prefix, the `le` tail, the count and the newline.
fn render_series(family: &Family, series: &Series, out: &mut String, prefix: &mut String) {
    match &series.cell {
        Cell::Counter(cell) => {
            line_start(&family.name, "", &series.labels, out);
            let (int, float) = cell.parts();
            if float == 0.0 {
                push_u64(int, out);
            } else {
                push_f64(int as f64 + float, out);
            }
            out.push('\n');
        }
        Cell::Gauge(cell) if !cell.present() => {}
        Cell::Gauge(cell) => {
            line_start(&family.name, "", &series.labels, out);
            push_f64(cell.value(), out);
            out.push('\n');
        }
        Cell::Histogram(cell) => {
            prefix.clear();
            prefix.push_str(&family.name);
            prefix.push_str("_bucket{");
            prefix.push_str(&series.labels);
            if !series.labels.is_empty() {
                prefix.push(',');
            }
            prefix.push_str("le=\"");
            let cumulative = cell.with_counts(|counts| {
                let mut cumulative = 0u64;
                for (tail, count) in family.le_tails.iter().zip(counts) {
                    cumulative += count;
                    out.push_str(prefix);
                    out.push_str(tail);
                    push_u64(cumulative, out);
                    out.push('\n');
                }
                cumulative
            });
            line_start(&family.name, "_sum", &series.labels, out);
            push_f64(cell.sum(), out);
            out.push('\n');
            line_start(&family.name, "_count", &series.labels, out);
            push_u64(cumulative, out);
            out.push('\n');
        }
    }
}

fn line_start(name: &str, suffix: &str, labels: &str, out: &mut String) {
    out.push_str(name);
    out.push_str(suffix);
    if !labels.is_empty() {
        out.push('{');
        out.push_str(labels);
        out.push('}');
    }
    out.push(' ');
}
