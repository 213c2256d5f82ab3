//! The report's two charts, as standalone SVG written beside `report.md` and linked from it:
//! the KPI gaps as bars, and the request rate and p95 latency the live page sampled before
//! the second scrape. Every text from the target is XML-escaped.

use std::fmt::Write as _;

use orchestrator_api::{KpisDoc, SummaryDoc};

use super::report::Report;

/// The KPI chart's file name.
pub const KPI_CHART: &str = "kpi-gaps.svg";
/// The traffic chart's file name.
pub const TRAFFIC_CHART: &str = "traffic.svg";

const WIDTH: f64 = 640.0;

pub(crate) fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn svg(height: f64, title: &str, body: &str) -> String {
    svg_frame(WIDTH, height, title, body)
}

/// A standalone SVG document `width` × `height` on white, titled `title` (escaped).
pub(crate) fn svg_frame(width: f64, height: f64, title: &str, body: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <title>{}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n",
        xml(title)
    )
}

/// One bar per KPI: its gap to target in percent (negative is worse), clipped to ±100 % with
/// the true figure written beside it; green when met. `None` without KPIs.
pub fn kpi_gaps(doc: &KpisDoc) -> Option<String> {
    if doc.kpis.is_empty() {
        return None;
    }
    let (label_w, row_h, top) = (190.0, 26.0, 30.0);
    let half = (WIDTH - label_w - 80.0) / 2.0;
    let zero = label_w + half;
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<text x=\"10\" y=\"18\" font-weight=\"bold\">KPI gap to target (negative is worse)</text>"
    );
    for (i, kpi) in doc.kpis.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let _ = writeln!(
            body,
            "<text x=\"10\" y=\"{:.1}\">{}</text>",
            y + 16.0,
            xml(&kpi.name)
        );
        let Some(gap) = kpi.gap else {
            let _ = writeln!(
                body,
                "<text x=\"{zero:.1}\" y=\"{:.1}\" fill=\"#666\">{}</text>",
                y + 16.0,
                xml(&kpi.display_value)
            );
            continue;
        };
        let clipped = gap.clamp(-1.0, 1.0);
        let w = clipped.abs() * half;
        let x = if clipped < 0.0 { zero - w } else { zero };
        let color = if kpi.met { "#2e7d32" } else { "#c62828" };
        let _ = writeln!(
            body,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"18\" fill=\"{color}\"/>",
            y + 3.0
        );
        let _ = writeln!(
            body,
            "<text x=\"{:.1}\" y=\"{:.1}\">{:+.1}%</text>",
            zero + half + 8.0,
            y + 16.0,
            gap * 100.0
        );
    }
    let bottom = top + doc.kpis.len() as f64 * row_h;
    let _ = writeln!(
        body,
        "<line x1=\"{zero:.1}\" y1=\"{top}\" x2=\"{zero:.1}\" y2=\"{bottom:.1}\" stroke=\"black\"/>"
    );
    Some(svg(bottom + 10.0, "KPI gaps", &body))
}

fn polyline(points: &[(f64, f64)], color: &str) -> String {
    let list: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    format!(
        "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>\n",
        list.join(" ")
    )
}

/// The request rate (left scale) and p95 latency (right scale) the live page sampled up to
/// `until_ms`. `None` with fewer than two points.
pub fn traffic(summary: &SummaryDoc, until_ms: i64) -> Option<String> {
    let points: Vec<_> = summary.points.iter().filter(|p| p.t <= until_ms).collect();
    let (first, last) = (points.first()?.t, points.last()?.t);
    if points.len() < 2 || last <= first {
        return None;
    }
    let (left, right, top, height) = (60.0, WIDTH - 70.0, 30.0, 180.0);
    let max_rate = points.iter().map(|p| p.request_rate).fold(0.0, f64::max);
    let max_p95 = points
        .iter()
        .filter_map(|p| p.p95_seconds)
        .fold(0.0, f64::max);
    let x = |t: i64| left + (t - first) as f64 / (last - first) as f64 * (right - left);
    let y = |v: f64, max: f64| top + height - if max > 0.0 { v / max * height } else { 0.0 };
    let rate: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (x(p.t), y(p.request_rate, max_rate)))
        .collect();
    let p95: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| Some((x(p.t), y(p.p95_seconds?, max_p95))))
        .collect();
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<text x=\"10\" y=\"18\" font-weight=\"bold\">Requests/s (blue, left) and p95 latency (orange, right) over the last {:.0} s</text>",
        (last - first) as f64 / 1000.0
    );
    let _ = writeln!(
        body,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{:.1}\" height=\"{height}\" fill=\"none\" stroke=\"#999\"/>",
        right - left
    );
    let _ = writeln!(
        body,
        "<text x=\"5\" y=\"{:.1}\">{max_rate:.1}/s</text><text x=\"5\" y=\"{:.1}\">0</text>",
        top + 10.0,
        top + height
    );
    let _ = writeln!(
        body,
        "<text x=\"{:.1}\" y=\"{:.1}\">{:.0} ms</text>",
        right + 5.0,
        top + 10.0,
        max_p95 * 1e3
    );
    body.push_str(&polyline(&rate, "#1565c0"));
    if p95.len() >= 2 {
        body.push_str(&polyline(&p95, "#ef6c00"));
    }
    Some(svg(
        top + height + 20.0,
        "Request rate and p95 latency",
        &body,
    ))
}

impl Report {
    /// The charts that have data, as (file name, SVG), in the order `report.md` links them.
    pub fn charts(&self) -> Vec<(&'static str, String)> {
        let kpis = self.inputs.kpis.as_ref().ok().and_then(kpi_gaps);
        let traffic = self
            .inputs
            .summary
            .as_ref()
            .ok()
            .and_then(|s| traffic(s, self.inputs.second.at_ms));
        [(KPI_CHART, kpis), (TRAFFIC_CHART, traffic)]
            .into_iter()
            .filter_map(|(name, svg)| Some((name, svg?)))
            .collect()
    }
}
