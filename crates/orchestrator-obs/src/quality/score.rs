//! The figures of a run, per rule and source, and the targets they are held to.

use serde::{Deserialize, Serialize};

use super::{Episode, IncidentSpan, Notifications, RuleInfo, RunRecord};

/// Whose transitions a figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The in-process evaluator.
    InProcess,
    /// Prometheus's rule engine over the same samples.
    Prometheus,
}

impl Source {
    /// How the report names it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::InProcess => "in-process",
            Source::Prometheus => "Prometheus",
        }
    }
}

/// One rule's figures from one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleFigures {
    /// The rule.
    pub rule: String,
    /// Whose transitions.
    pub source: Source,
    /// The incident kind it is judged against; none: recall not measured.
    pub kind: Option<String>,
    /// Incidents of its kind in the part of the schedule that ran.
    pub incidents: usize,
    /// Of those, the ones longer than `for` + two evaluation intervals.
    pub long_incidents: usize,
    /// Incidents detected.
    pub detected: usize,
    /// Long incidents detected.
    pub detected_long: usize,
    /// Firing episodes.
    pub firings: usize,
    /// Firing episodes with no incident of its kind active or just ended.
    pub false_firings: usize,
    /// True firings over firings; none without firings.
    pub precision: Option<f64>,
    /// Detected over incidents; none without incidents or kind.
    pub recall: Option<f64>,
    /// Incident start to firing, median and worst, in seconds.
    pub detect_median_s: Option<f64>,
    /// The worst time to detect.
    pub detect_worst_s: Option<f64>,
    /// Incident end to resolution, median and worst, in seconds.
    pub resolve_median_s: Option<f64>,
    /// The worst time to resolve.
    pub resolve_worst_s: Option<f64>,
    /// Resolved then firing again within one incident.
    pub flaps_incident: usize,
    /// Resolved then firing again within one quiet stretch.
    pub flaps_quiet: usize,
    /// `for` + two evaluation intervals: the time-to-detect target, and the length from
    /// which an incident must be detected.
    pub detect_budget_s: f64,
}

/// A target and whether the run met it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetCheck {
    /// What is held.
    pub name: String,
    /// What the run measured.
    pub value: String,
    /// Met.
    pub met: bool,
}

/// The incidents of `kind` that started before `ran_s`, clipped to it, same-kind overlaps
/// merged.
fn incidents_of(run: &RunRecord, kind: &str) -> Vec<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = run
        .schedule
        .incidents
        .iter()
        .filter(|i: &&IncidentSpan| i.kind == kind && i.start_s < run.ran_s)
        .map(|i| (i.start_s, i.end_s.min(run.ran_s)))
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

struct Judge {
    incidents: Vec<(f64, f64)>,
    grace: f64,
}

impl Judge {
    fn new(run: &RunRecord, rule: &RuleInfo) -> Self {
        Judge {
            incidents: rule
                .kind
                .as_deref()
                .map_or_else(Vec::new, |k| incidents_of(run, k)),
            grace: rule.window_s + run.interval_s,
        }
    }

    /// Which incident (with its grace) `t` falls in: `Some(i)`, or `None` in quiet time.
    fn segment(&self, t: f64) -> Option<usize> {
        self.incidents
            .iter()
            .position(|&(start, end)| start <= t && t < end + self.grace)
    }

    fn is_true(&self, firing_start: f64) -> bool {
        self.segment(firing_start).is_some()
    }

    /// The quiet stretch `t` falls in: the number of incidents (with grace) it follows.
    fn quiet(&self, t: f64) -> usize {
        self.incidents
            .iter()
            .filter(|&&(_, end)| end + self.grace <= t)
            .count()
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

fn worst(values: &[f64]) -> Option<f64> {
    values.iter().copied().reduce(f64::max)
}

/// Firing episodes of `rule`, by label set then start.
fn firings<'a>(episodes: &'a [Episode], rule: &str) -> Vec<&'a Episode> {
    let mut out: Vec<&Episode> = episodes
        .iter()
        .filter(|e| e.rule == rule && e.state == "firing")
        .collect();
    out.sort_by(|a, b| {
        a.labels
            .cmp(&b.labels)
            .then(a.start_s.total_cmp(&b.start_s))
    });
    out
}

fn rule_figures(
    run: &RunRecord,
    rule: &RuleInfo,
    source: Source,
    episodes: &[Episode],
) -> RuleFigures {
    let judge = Judge::new(run, rule);
    let fired = firings(episodes, &rule.name);
    let budget = rule.for_s + 2.0 * run.interval_s;
    let false_firings = fired.iter().filter(|e| !judge.is_true(e.start_s)).count();
    let (mut detect, mut resolve) = (Vec::new(), Vec::new());
    let (mut detected, mut detected_long, mut long) = (0, 0, 0);
    for &(start, end) in &judge.incidents {
        let is_long = end - start >= budget;
        long += usize::from(is_long);
        let covering: Vec<&&Episode> = fired
            .iter()
            .filter(|e| e.start_s < end + judge.grace && e.end_s.is_none_or(|fe| fe > start))
            .collect();
        let Some(first) = covering.iter().map(|e| e.start_s).reduce(f64::min) else {
            continue;
        };
        detected += 1;
        detected_long += usize::from(is_long);
        detect.push((first - start).max(0.0));
        // The last episode covering the incident says when the alert let go of it.
        let last = covering
            .iter()
            .max_by(|a, b| a.start_s.total_cmp(&b.start_s));
        if let Some(fe) = last.and_then(|e| e.end_s) {
            resolve.push(fe - end);
        }
    }
    let (mut flaps_incident, mut flaps_quiet) = (0, 0);
    for pair in fired.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let Some(resolved) = a.end_s.filter(|_| a.labels == b.labels) else {
            continue;
        };
        match (judge.segment(resolved), judge.segment(b.start_s)) {
            (Some(x), Some(y)) if x == y => flaps_incident += 1,
            (None, None) if judge.quiet(resolved) == judge.quiet(b.start_s) => flaps_quiet += 1,
            _ => {}
        }
    }
    let share = |n: usize, of: usize| (of > 0).then(|| n as f64 / of as f64);
    RuleFigures {
        rule: rule.name.clone(),
        source,
        kind: rule.kind.clone(),
        incidents: judge.incidents.len(),
        long_incidents: long,
        detected,
        detected_long,
        firings: fired.len(),
        false_firings,
        precision: share(fired.len() - false_firings, fired.len()),
        recall: rule
            .kind
            .as_ref()
            .and_then(|_| share(detected, judge.incidents.len())),
        detect_worst_s: worst(&detect),
        detect_median_s: median(&mut detect),
        resolve_worst_s: worst(&resolve),
        resolve_median_s: median(&mut resolve),
        flaps_incident,
        flaps_quiet,
        detect_budget_s: budget,
    }
}

/// Every rule's figures, in-process then (when it ran) Prometheus.
pub(super) fn figures(run: &RunRecord) -> Vec<RuleFigures> {
    let mut out: Vec<RuleFigures> = run
        .rules
        .iter()
        .map(|r| rule_figures(run, r, Source::InProcess, &run.in_process))
        .collect();
    if let Some(prometheus) = &run.prometheus {
        out.extend(
            run.rules
                .iter()
                .map(|r| rule_figures(run, r, Source::Prometheus, prometheus)),
        );
    }
    out
}

/// The value of label `name` in an episode's rendered labels (`{a="1",slo="x"}`).
fn label<'a>(labels: &'a str, name: &str) -> Option<&'a str> {
    let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = &labels[start..];
    Some(&rest[..rest.find('"')?])
}

/// The notifications the in-process firings send through the generated Alertmanager
/// configuration, and what its inhibition (and the first, service-wide one) holds back.
pub(super) fn notifications(run: &RunRecord) -> Notifications {
    let critical: Vec<(&Episode, f64)> = run
        .rules
        .iter()
        .filter(|r| r.severity == "critical")
        .flat_map(|r| firings(&run.in_process, &r.name))
        .map(|e| (e, e.end_s.unwrap_or(f64::INFINITY)))
        .collect();
    let mut n = Notifications::default();
    for rule in &run.rules {
        let judge = Judge::new(run, rule);
        let fired = firings(&run.in_process, &rule.name);
        for e in &fired {
            n.firing += 1;
            let firing_at =
                |o: &&Episode| o.start_s <= e.start_s && o.end_s.is_none_or(|f| e.start_s < f);
            n.grouped += u64::from(
                fired
                    .iter()
                    .any(|o| o.labels != e.labels && o.start_s < e.start_s && firing_at(o)),
            );
            if rule.severity == "critical" {
                continue;
            }
            let during: Vec<&Episode> = critical
                .iter()
                .filter(|(c, end)| c.start_s <= e.start_s && e.start_s < *end)
                .map(|(c, _)| *c)
                .collect();
            if !during.is_empty() {
                n.inhibited_service_wide += 1;
                n.inhibited_service_wide_true += u64::from(judge.is_true(e.start_s));
            }
            let slo = label(&e.labels, "slo");
            n.inhibited +=
                u64::from(slo.is_some() && during.iter().any(|c| label(&c.labels, "slo") == slo));
        }
    }
    n
}

/// The targets, held by each source that ran.
pub(super) fn targets(run: &RunRecord, figures: &[RuleFigures]) -> Vec<TargetCheck> {
    let mut out = Vec::new();
    for source in [Source::InProcess, Source::Prometheus] {
        let of: Vec<&RuleFigures> = figures.iter().filter(|f| f.source == source).collect();
        if of.is_empty() {
            continue;
        }
        let s = source.as_str();
        let firings: usize = of.iter().map(|f| f.firings).sum();
        let false_firings: usize = of.iter().map(|f| f.false_firings).sum();
        let share = if firings == 0 {
            0.0
        } else {
            false_firings as f64 / firings as f64
        };
        out.push(TargetCheck {
            name: format!("{s}: false firings ≤ 1 % of all firings"),
            value: format!("{false_firings} of {firings} ({:.1} %)", share * 100.0),
            met: share <= 0.01,
        });
        let measured: Vec<&&RuleFigures> = of.iter().filter(|f| f.kind.is_some()).collect();
        let long: usize = measured.iter().map(|f| f.long_incidents).sum();
        let caught: usize = measured.iter().map(|f| f.detected_long).sum();
        let missed: Vec<String> = measured
            .iter()
            .filter(|f| f.detected_long < f.long_incidents)
            .map(|f| format!("{} missed {}", f.rule, f.long_incidents - f.detected_long))
            .collect();
        out.push(TargetCheck {
            name: format!("{s}: recall 100 % for incidents longer than for + 2 intervals"),
            value: format!(
                "{caught} of {long} detected{}",
                if missed.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", missed.join(", "))
                }
            ),
            met: caught == long && long > 0,
        });
        let slow: Vec<String> = measured
            .iter()
            .filter_map(|f| {
                let m = f.detect_median_s?;
                (m > f.detect_budget_s)
                    .then(|| format!("{} {m:.0} s > {:.0} s", f.rule, f.detect_budget_s))
            })
            .collect();
        out.push(TargetCheck {
            name: format!("{s}: median time to detect ≤ for + 2 intervals"),
            value: if slow.is_empty() {
                "every rule".to_owned()
            } else {
                slow.join(", ")
            },
            met: slow.is_empty(),
        });
        let flaps: usize = of.iter().map(|f| f.flaps_incident).sum();
        out.push(TargetCheck {
            name: format!("{s}: no flap inside an incident"),
            value: format!("{flaps} flaps"),
            met: flaps == 0,
        });
        let idle = idle_firings(run, source);
        out.push(TargetCheck {
            name: format!("{s}: nothing fires falsely during zero traffic (0/0)"),
            value: idle.map_or_else(
                || "no zero-traffic phase ran".to_owned(),
                |n| format!("{n} false firings"),
            ),
            met: idle.is_some_and(|n| n == 0),
        });
    }
    out
}

/// False firings that started during a phase of zero traffic; none when no such phase ran.
fn idle_firings(run: &RunRecord, source: Source) -> Option<usize> {
    let phases = &run.schedule.traffic;
    let idle: Vec<(f64, f64)> = phases
        .iter()
        .enumerate()
        .filter(|(_, p)| p.users == 0 && p.start_s < run.ran_s)
        .map(|(i, p)| {
            let end = phases.get(i + 1).map_or(run.ran_s, |n| n.start_s);
            (p.start_s, end.min(run.ran_s))
        })
        .collect();
    if idle.is_empty() {
        return None;
    }
    let episodes = match source {
        Source::InProcess => &run.in_process,
        Source::Prometheus => run.prometheus.as_ref()?,
    };
    Some(
        run.rules
            .iter()
            .map(|rule| {
                let judge = Judge::new(run, rule);
                firings(episodes, &rule.name)
                    .into_iter()
                    .filter(|e| {
                        !judge.is_true(e.start_s)
                            && idle.iter().any(|&(s, f)| s <= e.start_s && e.start_s < f)
                    })
                    .count()
            })
            .sum(),
    )
}
