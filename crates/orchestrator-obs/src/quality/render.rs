//! The figures as Markdown: the whole results file, and the section the validation report
//! gains when given a run.

use std::fmt::Write as _;

use super::score::RuleFigures;
use super::{QualityResults, TIMELINE_SVG};

fn seconds(v: Option<f64>) -> String {
    v.map_or("–".to_owned(), |s| format!("{s:.0} s"))
}

fn percent(v: Option<f64>) -> String {
    v.map_or("–".to_owned(), |p| format!("{:.0} %", p * 100.0))
}

fn mark(met: bool) -> &'static str {
    if met { "✅" } else { "❌" }
}

impl QualityResults {
    /// One paragraph on what ran.
    fn summary(&self) -> String {
        let r = &self.run;
        format!(
            "{} tuning, {:.0} min of simulated time{} (evaluated every {:.0} s, the clock {}), schedule seed {}, {} incidents, {} API requests answered. {}",
            r.tuning,
            r.ran_s / 60.0,
            if r.partial {
                format!(
                    " — **partial: stopped after {:.0} of {:.0} min**",
                    r.ran_s / 60.0,
                    r.schedule.length_s / 60.0
                )
            } else {
                String::new()
            },
            r.interval_s,
            if (r.time_scale - 1.0).abs() < f64::EPSILON {
                "real time".to_owned()
            } else {
                format!("{}× real time", r.time_scale)
            },
            r.schedule.seed,
            r.schedule
                .incidents
                .iter()
                .filter(|i| i.start_s < r.ran_s)
                .count(),
            r.requests,
            r.prometheus_note,
        )
    }

    fn targets_table(&self, out: &mut String) {
        let _ = writeln!(out, "| Target | Measured | Met |\n|---|---|---|");
        for t in &self.targets {
            let _ = writeln!(out, "| {} | {} | {} |", t.name, t.value, mark(t.met));
        }
    }

    fn figures_table(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "| Rule | Source | Incidents | Detected | Recall | Firings | False | Precision | Detect median / worst | Resolve median / worst | Flaps in incident / quiet |\n|---|---|---|---|---|---|---|---|---|---|---|"
        );
        for f in &self.figures {
            let _ = writeln!(out, "{}", row(f));
        }
    }

    /// The section `orchestrator-obs validate --alert-quality` adds to `report.md`.
    pub fn report_section(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "## Alert quality\n\n{}\n", self.summary());
        self.targets_table(&mut out);
        let _ = writeln!(out);
        self.figures_table(&mut out);
        let _ = writeln!(
            out,
            "\nIn-process and Prometheus: {}.",
            match self.run.disagreements.len() {
                0 if self.run.prometheus.is_some() =>
                    "the same alerts fired at every evaluation".to_owned(),
                0 => "Prometheus did not evaluate this run".to_owned(),
                n => format!("{n} evaluations differ (listed in {})", super::RESULTS_MD),
            }
        );
        out
    }

    /// `alert-quality.md`: every figure, the disagreements, the notifications, the schedule.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Alert quality\n\n{}\n", self.summary());
        let _ = writeln!(
            out,
            "![Incidents and alerts over the run]({TIMELINE_SVG})\n"
        );
        let _ = writeln!(out, "## Targets\n");
        self.targets_table(&mut out);
        let _ = writeln!(out, "\n## Per rule\n");
        let _ = writeln!(
            out,
            "A firing is true when an incident of the rule's kind is active, or ended less than the rule's window plus one evaluation interval before; rules no incident kind exercises have their false firings only (recall not measured). Detect: incident start to firing; resolve: incident end to resolution.\n"
        );
        self.figures_table(&mut out);
        let n = &self.notifications;
        let _ = writeln!(
            out,
            "\n## Notifications\n\n{} firing episodes (in-process); {} joined a group already notified; {} inhibited by the generated configuration (a critical alert of the same SLO). The first configuration's service-wide inhibition (any critical alert holds every lesser one back) would have held back {}, {} of them true firings: an incident hidden by another's critical alert.",
            n.firing,
            n.grouped,
            n.inhibited,
            n.inhibited_service_wide,
            n.inhibited_service_wide_true
        );
        let _ = writeln!(out, "\n## In-process and Prometheus\n");
        if self.run.disagreements.is_empty() {
            let _ = writeln!(
                out,
                "{}",
                if self.run.prometheus.is_some() {
                    "The same alerts fired at every evaluation of the run."
                } else {
                    "Prometheus did not evaluate this run."
                }
            );
        } else {
            let _ = writeln!(
                out,
                "| At | Rule | In-process | Prometheus | Cause |\n|---|---|---|---|---|"
            );
            for d in &self.run.disagreements {
                let _ = writeln!(
                    out,
                    "| {:.0} s | {} | {} | {} | {} |",
                    d.at_s,
                    d.rule,
                    d.in_process.join(" "),
                    d.prometheus.join(" "),
                    d.cause
                );
            }
        }
        let s = &self.run.schedule;
        let _ = writeln!(out, "\n## Schedule (seed {})\n", s.seed);
        let _ = writeln!(out, "| Incident | From | To | Length |\n|---|---|---|---|");
        for i in &s.incidents {
            let _ = writeln!(
                out,
                "| {} | {:.0} s | {:.0} s | {:.0} s |",
                i.kind,
                i.start_s,
                i.end_s,
                i.end_s - i.start_s
            );
        }
        let _ = writeln!(
            out,
            "\n| Traffic from | Users | Pause between sessions |\n|---|---|---|"
        );
        for p in &s.traffic {
            let _ = writeln!(
                out,
                "| {:.0} s | {} | {} ms |",
                p.start_s, p.users, p.pause_ms
            );
        }
        out
    }
}

fn row(f: &RuleFigures) -> String {
    let measured = f.kind.is_some();
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {} / {} | {} / {} |",
        f.rule,
        f.source.as_str(),
        if measured {
            f.incidents.to_string()
        } else {
            "–".to_owned()
        },
        if measured {
            f.detected.to_string()
        } else {
            "–".to_owned()
        },
        if measured {
            percent(f.recall)
        } else {
            "not measured".to_owned()
        },
        f.firings,
        f.false_firings,
        percent(f.precision),
        seconds(f.detect_median_s),
        seconds(f.detect_worst_s),
        seconds(f.resolve_median_s),
        seconds(f.resolve_worst_s),
        f.flaps_incident,
        f.flaps_quiet,
    )
}
