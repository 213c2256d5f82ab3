use super::*;

fn rule(t: &AlertTuning, name: &str) -> AlertRule {
    default_rules(t)
        .unwrap()
        .into_iter()
        .find(|r| r.name() == name)
        .unwrap()
}

#[test]
fn the_thresholds_move_the_rules_their_texts_and_their_promql() {
    let tuning = AlertTuning {
        thresholds: Thresholds {
            error_rate: 0.025,
            p95_latency_seconds: 4.5,
            memory_ratio: 0.85,
            satisfaction: 6.5,
        },
        ..AlertTuning::production()
    };
    let latency = rule(&tuning, "ResponseTimeDegradation");
    assert_eq!(latency.comparison(), Some((CmpOp::Gt, 4.5)));
    assert_eq!(latency.condition_text(), "p95_latency > 4.5s");
    let promql = latency.condition().to_string();
    assert!(promql.ends_with("> 4.5"), "{promql}");
    assert_eq!(
        latency.annotation("summary"),
        Some("API p95 latency above 4.5 s")
    );
    let errors = rule(&tuning, "HighErrorRate");
    assert_eq!(errors.comparison(), Some((CmpOp::Gt, 0.025)));
    assert_eq!(errors.condition_text(), "error_rate > 2.5%");
    assert_eq!(
        rule(&tuning, "MemoryUsageCritical").condition_text(),
        "memory_usage > 85%"
    );
    let satisfaction = rule(&tuning, "LowCustomerSatisfaction");
    assert_eq!(satisfaction.comparison(), Some((CmpOp::Lt, 6.5)));
    assert_eq!(satisfaction.condition_text(), "satisfaction < 6.5");
    // The defaults are the origin document's, in its words.
    let production = AlertTuning::production();
    assert_eq!(
        rule(&production, "ResponseTimeDegradation").condition_text(),
        "p95_latency > 200ms"
    );
    assert_eq!(
        rule(&production, "HighErrorRate").condition_text(),
        "error_rate > 1%"
    );
}

#[test]
fn a_threshold_out_of_range_is_an_error_naming_its_rule() {
    let with = |th: Thresholds| {
        default_rules(&AlertTuning {
            thresholds: th,
            ..AlertTuning::production()
        })
    };
    let d = Thresholds::default();
    for (th, rule) in [
        (
            Thresholds {
                error_rate: f64::NAN,
                ..d
            },
            "HighErrorRate",
        ),
        (
            Thresholds {
                error_rate: 1.5,
                ..d
            },
            "HighErrorRate",
        ),
        (
            Thresholds {
                p95_latency_seconds: -0.2,
                ..d
            },
            "ResponseTimeDegradation",
        ),
        (
            Thresholds {
                p95_latency_seconds: f64::INFINITY,
                ..d
            },
            "ResponseTimeDegradation",
        ),
        (
            Thresholds {
                memory_ratio: 0.0,
                ..d
            },
            "MemoryUsageCritical",
        ),
        (
            Thresholds {
                satisfaction: 11.0,
                ..d
            },
            "LowCustomerSatisfaction",
        ),
    ] {
        match with(th) {
            Err(RuleError::InvalidThreshold { rule: r, .. }) => assert_eq!(r, rule),
            other => panic!("{th:?}: {other:?}"),
        }
    }
}
