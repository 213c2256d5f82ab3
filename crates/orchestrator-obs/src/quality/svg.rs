//! The run's timeline as one SVG: the traffic, each incident kind's incidents as bands, and
//! under them each rule's pending (light) and firing (dark) bars in-process, with a thin
//! line for where Prometheus fired. Readable at a glance: a bar with no band above it is a
//! false firing, a band with no bar under it a missed incident.

use std::fmt::Write as _;

use super::QualityResults;
use crate::validate::charts::{svg_frame, xml};

const WIDTH: f64 = 1000.0;
const LABEL_W: f64 = 200.0;
const ROW_H: f64 = 22.0;
const TOP: f64 = 40.0;

const KIND_COLOURS: [(&str, &str); 5] = [
    ("errors", "#e45756"),
    ("slow", "#f58518"),
    ("memory", "#b279a2"),
    ("unhappy", "#eeca3b"),
    ("runaway", "#54a24b"),
];

fn colour(kind: Option<&str>) -> &'static str {
    KIND_COLOURS
        .iter()
        .find(|(k, _)| Some(*k) == kind)
        .map_or("#888888", |(_, c)| c)
}

impl QualityResults {
    /// The timeline (see the module's description).
    pub fn svg(&self) -> String {
        let run = &self.run;
        let span = run.schedule.length_s.max(run.ran_s).max(1.0);
        let plot_w = WIDTH - LABEL_W - 20.0;
        let x = |t: f64| LABEL_W + (t.clamp(0.0, span) / span) * plot_w;
        let mut body = String::new();
        let mut y = TOP;
        let label = |body: &mut String, y: f64, text: &str| {
            let _ = writeln!(
                body,
                "<text x=\"10\" y=\"{:.1}\">{}</text>",
                y + ROW_H * 0.65,
                xml(text)
            );
        };
        // Traffic: darker is more users; white is none at all.
        label(&mut body, y, "traffic (users)");
        let phases = &run.schedule.traffic;
        let most = phases.iter().map(|p| p.users).max().unwrap_or(1).max(1);
        for (i, p) in phases.iter().enumerate() {
            let end = phases.get(i + 1).map_or(span, |n| n.start_s);
            let shade = 235.0 - 180.0 * (p.users as f64 / most as f64);
            let _ = writeln!(
                body,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"rgb({shade:.0},{shade:.0},{shade:.0})\"><title>{} users, {} ms pause</title></rect>",
                x(p.start_s),
                (x(end) - x(p.start_s)).max(0.5),
                ROW_H - 4.0,
                p.users,
                p.pause_ms
            );
        }
        y += ROW_H;
        for (kind, fill) in KIND_COLOURS {
            label(&mut body, y, &format!("incident: {kind}"));
            for i in run.schedule.incidents.iter().filter(|i| i.kind == kind) {
                let _ = writeln!(
                    body,
                    "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\" opacity=\"0.6\"><title>{kind} {:.0}–{:.0} s</title></rect>",
                    x(i.start_s),
                    (x(i.end_s) - x(i.start_s)).max(0.5),
                    ROW_H - 4.0,
                    i.start_s,
                    i.end_s
                );
            }
            y += ROW_H;
        }
        y += 8.0;
        for rule in &run.rules {
            label(&mut body, y, &rule.name);
            let fill = colour(rule.kind.as_deref());
            for e in run.in_process.iter().filter(|e| e.rule == rule.name) {
                let end = e.end_s.unwrap_or(run.ran_s);
                let firing = e.state == "firing";
                let _ = writeln!(
                    body,
                    "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\" opacity=\"{}\"><title>{} {} {:.0}–{:.0} s</title></rect>",
                    x(e.start_s),
                    (x(end) - x(e.start_s)).max(1.0),
                    ROW_H - 8.0,
                    if firing { fill } else { "#bbbbbb" },
                    if firing { "1" } else { "0.7" },
                    xml(&e.labels),
                    e.state,
                    e.start_s,
                    end
                );
            }
            for e in run
                .prometheus
                .iter()
                .flatten()
                .filter(|e| e.rule == rule.name)
            {
                let end = e.end_s.unwrap_or(run.ran_s);
                let _ = writeln!(
                    body,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"3\" fill=\"black\"><title>Prometheus firing {:.0}–{:.0} s</title></rect>",
                    x(e.start_s),
                    y + ROW_H - 6.0,
                    (x(end) - x(e.start_s)).max(1.0),
                    e.start_s,
                    end
                );
            }
            y += ROW_H;
        }
        // Ticks on round times, at most a dozen.
        let axis = y + 4.0;
        let tick = [
            10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
        ]
        .into_iter()
        .find(|step| span / step <= 12.0)
        .unwrap_or(span / 10.0);
        let mut t = 0.0;
        while t <= span + 1e-9 {
            let text = if tick < 60.0 {
                format!("{t:.0} s")
            } else {
                format!("{:.0} min", t / 60.0)
            };
            let _ = writeln!(
                body,
                "<line x1=\"{0:.1}\" y1=\"{TOP}\" x2=\"{0:.1}\" y2=\"{axis:.1}\" stroke=\"#dddddd\"/><text x=\"{0:.1}\" y=\"{1:.1}\" text-anchor=\"middle\">{text}</text>",
                x(t),
                axis + 14.0,
            );
            t += tick;
        }
        let height = axis + 40.0;
        let _ = writeln!(
            body,
            "<text x=\"10\" y=\"{:.1}\" fill=\"#555555\">bars: in-process pending (grey) and firing (colour); black line: Prometheus firing</text>",
            height - 8.0
        );
        let title = format!(
            "Alert quality: {} tuning, seed {}",
            run.tuning, run.schedule.seed
        );
        let heading = format!(
            "<text x=\"10\" y=\"20\" font-weight=\"bold\">{}</text>\n",
            xml(&title)
        );
        svg_frame(WIDTH, height.round(), &title, &(heading + &body))
    }
}
