use super::*;

fn incident(kind: &str, start_s: f64, end_s: f64) -> IncidentSpan {
    IncidentSpan {
        kind: kind.to_owned(),
        start_s,
        end_s,
    }
}

fn firing(rule: &str, start_s: f64, end_s: Option<f64>) -> Episode {
    Episode {
        rule: rule.to_owned(),
        labels: "{service=\"orchestrator\"}".to_owned(),
        state: "firing".to_owned(),
        start_s,
        end_s,
    }
}

fn rule(name: &str, kind: Option<&str>, severity: &str) -> RuleInfo {
    RuleInfo {
        name: name.to_owned(),
        kind: kind.map(str::to_owned),
        severity: severity.to_owned(),
        for_s: 10.0,
        window_s: 30.0,
    }
}

/// A 600 s run every second: errors 100–160 and 300–310 (too short to be required), memory
/// 400–460; zero traffic from 500 s.
fn run(in_process: Vec<Episode>) -> RunRecord {
    RunRecord {
        tuning: "demo".to_owned(),
        interval_s: 1.0,
        time_scale: 1.0,
        ran_s: 600.0,
        partial: false,
        schedule: Schedule {
            seed: 1,
            length_s: 600.0,
            incidents: vec![
                incident("errors", 100.0, 160.0),
                incident("errors", 300.0, 310.0),
                incident("memory", 400.0, 460.0),
            ],
            traffic: vec![
                TrafficPhase {
                    start_s: 0.0,
                    users: 16,
                    pause_ms: 0,
                },
                TrafficPhase {
                    start_s: 500.0,
                    users: 0,
                    pause_ms: 0,
                },
            ],
        },
        rules: vec![
            rule("HighErrorRate", Some("errors"), "high"),
            rule("MemoryUsageCritical", Some("memory"), "critical"),
            rule("MyOwnRule", None, "low"),
        ],
        prometheus: Some(in_process.clone()),
        in_process,
        prometheus_note: String::new(),
        disagreements: Vec::new(),
        requests: 1,
    }
}

fn of<'a>(r: &'a QualityResults, name: &str) -> &'a RuleFigures {
    r.figures
        .iter()
        .find(|f| f.rule == name && f.source == Source::InProcess)
        .unwrap()
}

#[test]
fn firings_are_judged_against_the_incidents_of_their_kind() {
    let r = QualityResults::from_run(run(vec![
        // Detected 12 s in, resolved 20 s after the end.
        firing("HighErrorRate", 112.0, Some(180.0)),
        // Within the window + one interval after the short incident ended: true.
        firing("HighErrorRate", 335.0, Some(345.0)),
        // During the memory incident only: false for the error rule.
        firing("HighErrorRate", 420.0, Some(430.0)),
        firing("MemoryUsageCritical", 405.0, Some(461.0)),
    ]));
    let errors = of(&r, "HighErrorRate");
    assert_eq!((errors.firings, errors.false_firings), (3, 1));
    assert_eq!((errors.incidents, errors.detected), (2, 2));
    // Only the first is longer than for + 2 intervals.
    assert_eq!((errors.long_incidents, errors.detected_long), (1, 1));
    assert_eq!(errors.detect_worst_s, Some(35.0));
    assert_eq!(errors.detect_median_s, Some(23.5));
    assert_eq!(errors.resolve_median_s, Some(27.5));
    assert!((errors.precision.unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(errors.recall, Some(1.0));
    // The error rule fired while memory (critical) did: the service-wide inhibition would
    // have held it back (a false firing); the SLO-scoped one does not.
    let n = &r.notifications;
    assert_eq!((n.firing, n.grouped, n.inhibited), (4, 0, 0));
    assert_eq!(
        (n.inhibited_service_wide, n.inhibited_service_wide_true),
        (1, 0)
    );
    let false_share = r
        .targets
        .iter()
        .find(|t| t.name.starts_with("in-process: false"))
        .unwrap();
    assert!(!false_share.met, "{false_share:?}");
}

#[test]
fn a_critical_slo_alert_inhibits_its_own_slo_only() {
    let slo = |rule: &str, slo: &str, start_s: f64| Episode {
        labels: format!("{{service=\"orchestrator\",slo=\"{slo}\"}}"),
        ..firing(rule, start_s, Some(start_s + 50.0))
    };
    let mut r = run(vec![
        slo("AvailabilityErrorBudgetBurn", "availability", 100.0),
        slo("AvailabilityErrorBudgetBurnSlow", "availability", 120.0),
        slo("LatencyErrorBudgetBurnSlow", "latency", 130.0),
        slo("LatencyErrorBudgetBurnSlow", "latency2", 131.0),
    ]);
    r.rules = vec![
        rule("AvailabilityErrorBudgetBurn", Some("errors"), "critical"),
        rule("AvailabilityErrorBudgetBurnSlow", Some("errors"), "medium"),
        rule("LatencyErrorBudgetBurnSlow", None, "medium"),
    ];
    let n = QualityResults::from_run(r).notifications;
    assert_eq!((n.firing, n.grouped), (4, 1));
    assert_eq!((n.inhibited, n.inhibited_service_wide), (1, 3));
}

#[test]
fn a_rule_no_incident_exercises_has_false_firings_only() {
    let r = QualityResults::from_run(run(vec![firing("MyOwnRule", 50.0, Some(60.0))]));
    let own = of(&r, "MyOwnRule");
    assert_eq!((own.firings, own.false_firings), (1, 1));
    assert_eq!(own.recall, None);
    assert!(
        r.report_section()
            .contains("| MyOwnRule | in-process | – | – | not measured | 1 | 1 |")
    );
}

#[test]
fn flaps_are_counted_inside_incidents_and_quiet_stretches() {
    let r = QualityResults::from_run(run(vec![
        firing("HighErrorRate", 112.0, Some(130.0)),
        firing("HighErrorRate", 135.0, Some(170.0)),
        firing("HighErrorRate", 220.0, Some(225.0)),
        firing("HighErrorRate", 240.0, Some(250.0)),
    ]));
    let errors = of(&r, "HighErrorRate");
    assert_eq!((errors.flaps_incident, errors.flaps_quiet), (1, 1));
    let flaps = r
        .targets
        .iter()
        .find(|t| t.name.contains("no flap"))
        .unwrap();
    assert!(!flaps.met);
}

#[test]
fn misses_late_detections_and_idle_firings_fail_their_targets() {
    let r = QualityResults::from_run(run(vec![
        // Detected 40 s in (the budget is 12 s); memory missed; a firing at zero traffic.
        firing("HighErrorRate", 140.0, None),
        firing("MyOwnRule", 520.0, Some(530.0)),
    ]));
    let errors = of(&r, "HighErrorRate");
    assert_eq!(errors.resolve_median_s, None, "still firing at the end");
    let memory = of(&r, "MemoryUsageCritical");
    assert_eq!((memory.detected, memory.recall), (0, Some(0.0)));
    let failed: Vec<&str> = r
        .targets
        .iter()
        .filter(|t| !t.met && t.name.starts_with("in-process"))
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(failed.len(), 4, "{failed:?}");
    assert!(!r.targets_met());
}

#[test]
fn a_clean_run_meets_every_target() {
    let r = QualityResults::from_run(run(vec![
        firing("HighErrorRate", 110.0, Some(170.0)),
        firing("MemoryUsageCritical", 410.0, Some(461.0)),
    ]));
    assert!(r.targets_met(), "{:?}", r.targets);
}

#[test]
fn a_partial_run_is_judged_on_what_ran_and_says_so() {
    let mut partial = run(vec![firing("HighErrorRate", 110.0, None)]);
    partial.ran_s = 130.0;
    partial.partial = true;
    let r = QualityResults::from_run(partial);
    let errors = of(&r, "HighErrorRate");
    // Clipped to 100–130 s: one incident, long enough, detected; memory never started.
    assert_eq!((errors.incidents, errors.detected_long), (1, 1));
    assert_eq!(of(&r, "MemoryUsageCritical").incidents, 0);
    assert!(r.markdown().contains("partial: stopped after 2 of 10 min"));
}

#[test]
fn overlapping_incidents_of_one_kind_count_once() {
    let mut overlapping = run(vec![firing("HighErrorRate", 110.0, Some(200.0))]);
    overlapping
        .schedule
        .incidents
        .push(incident("errors", 150.0, 190.0));
    let r = QualityResults::from_run(overlapping);
    assert_eq!(of(&r, "HighErrorRate").incidents, 2, "100–190 and 300–310");
}

#[test]
fn results_survive_the_files_they_are_written_to() {
    let r = QualityResults::from_run(run(vec![firing("HighErrorRate", 112.0, Some(180.0))]));
    let dir = std::env::temp_dir().join(format!("alert-quality-{}", std::process::id()));
    r.write(&dir).unwrap();
    assert_eq!(QualityResults::read(&dir.join(RESULTS_JSON)).unwrap(), r);
    let svg = std::fs::read_to_string(dir.join(TIMELINE_SVG)).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("HighErrorRate"));
    let schedule: Schedule =
        serde_json::from_str(&std::fs::read_to_string(dir.join(SCHEDULE_JSON)).unwrap()).unwrap();
    assert_eq!(schedule, r.run.schedule);
    std::fs::remove_dir_all(&dir).unwrap();
    let err = QualityResults::read(&dir.join(RESULTS_JSON)).unwrap_err();
    assert!(err.to_string().contains(RESULTS_JSON), "{err}");
}
