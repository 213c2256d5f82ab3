use super::*;
use orchestrator_metrics::catalogue::ACTIVE_SESSIONS;
use orchestrator_query::Selector;

fn sessions() -> Expr {
    Expr::value(Selector::of(&ACTIVE_SESSIONS)).unwrap()
}

#[test]
fn for_must_be_positive() {
    for bad in ["0s", "0m", "-5m", "-1s", "0"] {
        let err = AlertRule::builder("R", sessions())
            .for_text(bad)
            .build()
            .unwrap_err();
        assert!(
            matches!(err, RuleError::NonPositiveFor { .. }),
            "{bad}: {err:?}"
        );
    }
    for bad in ["5", "5 minutes", "m", "1h30m"] {
        let err = AlertRule::builder("R", sessions())
            .for_text(bad)
            .build()
            .unwrap_err();
        assert!(
            matches!(err, RuleError::InvalidDuration { .. }),
            "{bad}: {err:?}"
        );
    }
    assert!(matches!(
        AlertRule::builder("R", sessions())
            .for_duration(Duration::ZERO)
            .build(),
        Err(RuleError::NonPositiveFor { .. })
    ));
    let rule = AlertRule::builder("R", sessions())
        .for_text("90s")
        .build()
        .unwrap();
    assert_eq!(rule.for_duration(), Duration::from_secs(90));
}

#[test]
fn unknown_metrics_are_named_at_build_time() {
    let value = Selector::named("orchestrator_gpu_seconds_total").and_then(Expr::value);
    let err = AlertRule::builder("GpuBusy", value).build().unwrap_err();
    assert!(
        matches!(&err, RuleError::Expr { rule, source: ExprError::UnknownMetric { .. } } if rule == "GpuBusy")
    );
    let text = err.to_string();
    assert!(
        text.contains("GpuBusy") && text.contains("orchestrator_gpu_seconds_total"),
        "{text}"
    );
}

#[test]
fn labels_and_names_are_checked() {
    assert!(matches!(
        AlertRule::builder("", sessions()).build(),
        Err(RuleError::InvalidName(_))
    ));
    assert!(matches!(
        AlertRule::builder("has space", sessions()).build(),
        Err(RuleError::InvalidName(_))
    ));
    let bad = AlertRule::builder("R", sessions())
        .label("bad-label", "x")
        .build();
    assert!(matches!(bad, Err(RuleError::InvalidLabel { .. })));
    let rule = AlertRule::builder("R", sessions())
        .label("severity", "overridden")
        .label("team", "llm")
        .build()
        .unwrap();
    assert_eq!(
        rule.labels(),
        &[
            ("severity".to_owned(), "overridden".to_owned()),
            ("team".to_owned(), "llm".to_owned())
        ]
    );
}

#[test]
fn a_for_that_overflows_is_a_typed_error_naming_it() {
    for text in [
        "99999999999999w",
        "18446744073709551615d",
        "300000y0",
        "106752d",
    ] {
        let result = AlertRule::builder("R", sessions()).for_text(text).build();
        match result {
            Err(RuleError::DurationTooLong { given, .. }) => assert_eq!(given, text),
            Err(RuleError::InvalidDuration { .. }) if text.ends_with('0') => {}
            other => panic!("{text}: {other:?}"),
        }
    }
    let err = AlertRule::builder("R", sessions())
        .for_duration(Duration::MAX)
        .build()
        .unwrap_err();
    assert!(matches!(err, RuleError::DurationTooLong { .. }), "{err:?}");
    assert!(err.to_string().contains("292 years"));
    // The longest that fits still builds.
    let rule = AlertRule::builder("R", sessions())
        .for_text("15250w")
        .build()
        .unwrap();
    assert_eq!(rule.for_duration(), Duration::from_secs(15_250 * 604_800));
}
