//! Drawing the ground truth: a seeded schedule of incidents of every kind, of random lengths,
//! with quiet stretches between them and traffic that varies (a cold start, low traffic,
//! near-idle and idle stretches). The same seed and the same scale draw the same schedule.

use orchestrator_obs::quality::{IncidentSpan, Schedule, TrafficPhase};

use crate::incident::Incident;
use crate::rng::SharedRng;

/// The time scale a schedule is drawn at: the evaluation interval and the longest `for` of
/// the rules, which set how long incidents and quiet stretches last.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Seconds between evaluations; every time of the schedule is a multiple of it.
    pub interval_s: f64,
    /// The rules' `for` (the satisfaction rule's may be longer: `slow_for_s`).
    pub for_s: f64,
    /// The `for` of the slowest rule to fire (satisfaction).
    pub slow_for_s: f64,
    /// The rules' longest window, so that an incident's effect leaves the windows before
    /// the next incident of the same kind.
    pub window_s: f64,
}

/// Full traffic: every virtual user, no pause.
pub const FULL_USERS: usize = 16;

fn round_to(v: f64, step: f64) -> f64 {
    (v / step).round() * step
}

/// Draws a schedule of about `length_s` seconds: a quiet start (the cold start: the rules
/// see an empty registry fill up), then each kind of incident in a seeded order, repeated
/// until the length is used; an incident lasts between half and three times the time its
/// rule needs to fire (`for` + two intervals), so some are too short to be required to be
/// detected; one in five starts before the previous ends (overlaps are allowed). Incidents
/// run at full or low traffic (an incident nobody's requests meet cannot be seen); the quiet
/// stretches between them also get near-idle and idle (zero traffic) phases.
pub fn draw(seed: u64, length_s: f64, scale: Scale) -> Schedule {
    let rng = SharedRng::new(seed);
    let step = scale.interval_s;
    let between = |low: f64, high: f64| round_to(low + rng.unit() * (high - low), step).max(step);
    let mut incidents = Vec::new();
    let mut traffic = vec![TrafficPhase {
        start_s: 0.0,
        users: FULL_USERS,
        pause_ms: 0,
    }];
    let quiet = |rng_len: f64| rng_len.max(scale.window_s + 2.0 * step);
    let mut t = round_to(quiet(2.0 * scale.for_s), step);
    let mut kinds: Vec<Incident> = Vec::new();
    let mut last_end = 0.0_f64;
    while t < length_s {
        if kinds.is_empty() {
            kinds = Incident::ALL.to_vec();
            // A seeded shuffle: the order of kinds changes from round to round.
            for i in (1..kinds.len()).rev() {
                let j = rng.range(0, i as u64 + 1) as usize;
                kinds.swap(i, j);
            }
        }
        let kind = kinds.pop().unwrap_or(Incident::Errors);
        let needs = if kind == Incident::Unhappy {
            scale.slow_for_s
        } else {
            scale.for_s
        } + 2.0 * step;
        let length = between(0.5 * needs, 3.0 * needs);
        let end = (t + length).min(length_s);
        if end - t < step {
            break;
        }
        incidents.push(IncidentSpan {
            kind: kind.as_str().to_owned(),
            start_s: t,
            end_s: end,
        });
        // During the incident: full traffic, or low traffic one time in three, from one
        // window before it (not before the previous incident ends): the windows hold that
        // traffic when it begins. An 8-fold drop at the very instant an incident begins
        // would test two things at once; a window still full of the earlier traffic hides
        // the incident for most of its length (measured: a slowdown missed).
        let low = rng.chance(1.0 / 3.0);
        let from = round_to((t - scale.window_s).max(last_end), step).min(t);
        traffic.retain(|p| p.start_s < from);
        traffic.push(TrafficPhase {
            start_s: from,
            users: if low { 2 } else { FULL_USERS },
            pause_ms: 0,
        });
        last_end = last_end.max(end);
        if rng.chance(0.2) {
            // The next incident begins before this one ends.
            t = round_to(t + length / 2.0, step);
            continue;
        }
        // A quiet stretch, long enough for the incident to leave the rules' windows; part
        // of it at a random traffic level.
        let gap = quiet(between(scale.window_s, 2.0 * scale.window_s + scale.for_s));
        let calm = end + round_to(gap / 2.0, step);
        let (users, pause_ms) = match rng.range(0, 4) {
            0 => (0, 0),
            1 => (1, 2_000),
            2 => (2, 0),
            _ => (FULL_USERS, 0),
        };
        traffic.push(TrafficPhase {
            start_s: end,
            users: FULL_USERS,
            pause_ms: 0,
        });
        traffic.push(TrafficPhase {
            start_s: calm,
            users,
            pause_ms,
        });
        t = end + gap;
    }
    let mut phases = settle(traffic, length_s);
    ensure_idle(&mut phases, &incidents, length_s, scale);
    let phases = settle(phases, length_s);
    Schedule {
        seed,
        length_s,
        incidents,
        traffic: phases,
    }
}

/// The phases by start, within the run; of phases starting at the same time, the last one
/// drawn wins.
fn settle(mut traffic: Vec<TrafficPhase>, length_s: f64) -> Vec<TrafficPhase> {
    traffic.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let mut phases: Vec<TrafficPhase> = Vec::new();
    for p in traffic.into_iter().filter(|p| p.start_s < length_s) {
        match phases.last_mut() {
            Some(last) if last.start_s == p.start_s => *last = p,
            _ => phases.push(p),
        }
    }
    phases
}

/// Every run holds at least one phase of zero traffic, at least two intervals long, outside
/// the incidents and the window before each: the run must prove that no rule fires on an
/// empty ratio.
fn ensure_idle(
    traffic: &mut Vec<TrafficPhase>,
    incidents: &[IncidentSpan],
    length_s: f64,
    scale: Scale,
) {
    let step = scale.interval_s;
    let idle = traffic.iter().enumerate().any(|(i, p)| {
        let end = traffic.get(i + 1).map_or(length_s, |n| n.start_s);
        p.users == 0 && end - p.start_s >= 2.0 * step
    });
    if idle {
        return;
    }
    let busy = |t: f64| {
        incidents
            .iter()
            .any(|i| i.start_s - scale.window_s <= t && t < i.end_s + step)
    };
    let mut t = length_s - 6.0 * step;
    while t > 0.0 && busy(t) {
        t -= step;
    }
    if t > 0.0 {
        traffic.push(TrafficPhase {
            start_s: round_to(t, step),
            users: 0,
            pause_ms: 0,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: Scale = Scale {
        interval_s: 1.0,
        for_s: 10.0,
        slow_for_s: 10.0,
        window_s: 30.0,
    };

    #[test]
    fn the_same_seed_draws_the_same_schedule() {
        assert_eq!(draw(7, 600.0, DEMO), draw(7, 600.0, DEMO));
        assert_ne!(draw(7, 600.0, DEMO), draw(8, 600.0, DEMO));
    }

    #[test]
    fn every_kind_happens_and_the_run_has_an_idle_phase() {
        for seed in 0..20 {
            let s = draw(seed, 900.0, DEMO);
            for kind in Incident::ALL {
                assert!(
                    s.incidents.iter().any(|i| i.kind == kind.as_str()),
                    "seed {seed}: no {kind:?} in {s:?}"
                );
            }
            assert!(s.traffic.iter().any(|p| p.users == 0), "seed {seed}");
            assert!(
                s.incidents
                    .iter()
                    .all(|i| i.start_s < i.end_s && i.end_s <= 900.0)
            );
            // Times fall on evaluations.
            assert!(s.incidents.iter().all(|i| i.start_s.fract() == 0.0));
            // Every incident runs with traffic, the same from a window before it.
            for i in &s.incidents {
                let at = |t: f64| {
                    s.traffic
                        .iter()
                        .rev()
                        .find(|p| p.start_s <= t)
                        .unwrap()
                        .users
                };
                assert!(at(i.start_s) > 0, "seed {seed}: {i:?} without traffic");
                let before = (i.start_s - DEMO.window_s).max(0.0);
                let overlapped = s.incidents.iter().any(|o| {
                    o != i && o.start_s < i.start_s && i.start_s < o.end_s + DEMO.window_s
                });
                if !overlapped {
                    assert_eq!(
                        at(before),
                        at(i.start_s),
                        "seed {seed}: {i:?} in {:?}",
                        s.traffic
                    );
                }
            }
        }
    }
}
