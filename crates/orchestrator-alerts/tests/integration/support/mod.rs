//! Shared by the channel tests: a rule driven to fire and resolve, notifications, the drop
//! counter, and what a received email must say.

#![allow(dead_code)]

#[allow(unused_imports)] // used by the channel tests, not by the sink tests
pub use orchestrator_testkit::smtp::Smtp;

use std::time::Duration;

use orchestrator_alerts::{AlertEvaluator, AlertRule, Notification, NotifyState, Severity};
use orchestrator_metrics::catalogue::{ACTIVE_SESSIONS, TELEMETRY_DROPPED_TOTAL};
use orchestrator_metrics::{CounterHandle, Registry, exposition};
use orchestrator_query::{CmpOp, Expr, SampleStore, Selector};

/// Fires when the sessions exceed 5 for 15 s.
pub fn rule(severity: Severity) -> AlertRule {
    AlertRule::builder(
        "TooManySessions",
        Expr::value(Selector::of(&ACTIVE_SESSIONS)).map(Expr::sum),
    )
    .when(CmpOp::Gt, 5.0)
    .for_duration(Duration::from_secs(15))
    .severity(severity)
    .label("service", "orchestrator")
    .summary("too many sessions")
    .build()
    .unwrap()
}

/// Replays the last `steps` × 15 s: the rule fires 15 s in, and resolves `resolve_at` ms in.
pub fn drive(evaluator: &mut AlertEvaluator, steps: i64, resolve_at: Option<i64>) {
    let mut store = SampleStore::default();
    let start =
        orchestrator_support::Clock::now_ms(&orchestrator_support::SystemClock) - steps * 15_000;
    for i in 0..steps {
        let t = start + i * 15_000;
        let value = if resolve_at.is_some_and(|r| i * 15_000 >= r) {
            1.0
        } else {
            9.0
        };
        store.append("orchestrator_active_sessions", &[], t, value, 3_600_000);
        evaluator.evaluate_at(&store, t);
    }
}

/// A firing notification of the rule with `severity`.
pub fn notification(severity: &str) -> Notification {
    Notification {
        alertname: "TooManySessions".to_owned(),
        state: NotifyState::Firing,
        labels: vec![
            ("alertname".to_owned(), "TooManySessions".to_owned()),
            ("severity".to_owned(), severity.to_owned()),
            ("service".to_owned(), "orchestrator".to_owned()),
        ],
        annotations: vec![("summary".to_owned(), "too many sessions".to_owned())],
        value: 9.0,
        value_is_last_firing: false,
        unit: orchestrator_alerts::Unit::Number,
        condition: "sum(orchestrator_active_sessions) > 5".to_owned(),
        starts_at: 1_764_000_000_000,
        ends_at: 1_764_000_300_000,
    }
}

/// The alert notifications' drop counter of `registry`.
pub fn counter(registry: &Registry) -> CounterHandle {
    registry
        .counter(&TELEMETRY_DROPPED_TOTAL, &["alert_notifications"])
        .unwrap()
}

/// Notifications dropped and counted in `registry`.
pub fn dropped(registry: &Registry) -> f64 {
    exposition::parse(&registry.render())
        .unwrap()
        .sum_where("orchestrator_telemetry_dropped_total", |s| {
            s.label("queue") == Some("alert_notifications")
        })
}

/// Checks a received message: its headers, and the same facts in the plain-text and HTML
/// parts.
pub fn check_mail(mail: &str, state: &str) {
    let (head, body) = mail
        .split_once("\n\n")
        .or(mail.split_once("\r\n\r\n"))
        .unwrap();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} header in {head}"))
    };
    let subject = header("Subject");
    assert!(
        subject.starts_with(&format!("{state} Too Many Sessions")),
        "{subject}"
    );
    assert_eq!(header("From"), "alerts@orchestrator.test");
    assert!(header("To").contains("@example.com"));
    assert!(
        header("Content-Type").starts_with("multipart/alternative"),
        "{head}"
    );
    // Undo quoted-printable soft breaks and the escapes used here before looking for facts.
    let body = body
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    assert!(body.contains("Content-Type: text/plain"), "{body}");
    assert!(body.contains("Content-Type: text/html"), "{body}");
    for fact in [
        "too many sessions",
        "sum(orchestrator_active_sessions) &gt; 5",
        "sum(orchestrator_active_sessions) > 5",
        "Since",
    ] {
        assert!(body.contains(fact), "{fact} missing from {body}");
    }
}
